"""Joint documents (văn bản liên tịch): several issuing bodies, several signatures.

A joint guideline of a Party board and a state department prints both bodies at
the top ("BAN TUYÊN GIÁO TỈNH ỦY - SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", or the two
side by side, which a linearized text reads as one caps run) and one signature
block per body at the end, in sequence or read across ("T/M BAN TUYÊN GIÁO
TỈNH ỦY KT. GIÁM ĐỐC" / "TRƯỞNG BAN PHÓ GIÁM ĐỐC" / "Nguyễn Văn An Trần Thị
Bình"). Most documents are not joint, and "UBND TỈNH LÀO CAI - SỞ CÔNG
THƯƠNG" is a department under its superior, not two issuers; so the issuer is
split and more signature blocks are looked for only with evidence that the
document is joint: "LIÊN TỊCH" in the header, a symbol type ending in "LT"
(TTLT, NQLT, HDLT) or a Party symbol whose organ names two bodies
("01-HD/BTGTU-SVHTTDL").
"""

from __future__ import annotations

import re

from extraction.lines import is_caps
from extraction.signature import Signer, _AUTH_RE, _canonical_title, _name_words, find_signer
from kholuu.textnorm import fold

_JOINT_TYPE_RE = re.compile(r"^[A-ZĐa-zđ]+LT$")
_PARTY_SYMBOL_RE = re.compile(r"^\d*-[A-Za-zĐđ]+/[A-Za-zĐđƯư&]+-[A-Za-zĐđƯư&]+$")

# Where a second body's name can begin inside one caps run of the header.
_HEADS = ["ỦY BAN NHÂN DÂN", "UBND", "HỘI ĐỒNG NHÂN DÂN", "HĐND", "ỦY BAN MẶT TRẬN", "MẶT TRẬN", "SỞ", "BỘ",
          "BAN", "CÔNG AN", "LIÊN ĐOÀN", "HỘI", "TỈNH ĐOÀN", "TỈNH ỦY", "HUYỆN ỦY", "THÀNH ỦY", "ĐẢNG ỦY",
          "VĂN PHÒNG", "ỦY BAN KIỂM TRA", "BỘ CHỈ HUY", "CỤC", "VIỆN", "TÒA ÁN", "TRƯỜNG", "TRUNG TÂM",
          "TỔNG CÔNG TY", "CÔNG TY", "ĐOÀN THANH NIÊN"]
# A body named after another one: "ĐẢNG ỦY ỦY BAN NHÂN DÂN TỈNH", "VĂN PHÒNG UBND TỈNH".
_PREFIXES = ("ĐẢNG ỦY", "VĂN PHÒNG", "ĐẢNG ĐOÀN", "BAN CÁN SỰ ĐẢNG", "CÔNG ĐOÀN", "CHI BỘ", "ỦY BAN KIỂM TRA",
             "ĐOÀN THANH NIÊN", "THANH TRA", "BAN THƯỜNG VỤ", "BAN CHẤP HÀNH", "ĐẢNG BỘ")
# A committee keeps its "TỈNH ỦY" etc. when it ends its own name: "BAN TUYÊN GIÁO TỈNH ỦY".
_COMMITTEES = ("TỈNH ỦY", "HUYỆN ỦY", "THÀNH ỦY", "ĐẢNG ỦY")


def is_joint(header_lines: list[str], number_symbol: str | None, doc_type: str | None) -> bool:
    """Evidence that a document has several issuers."""
    if doc_type and "liên tịch" in doc_type.lower():
        return True
    if any("LIEN TICH" in fold(l).upper() for l in header_lines if is_caps(l)):
        return True
    if number_symbol:
        if _PARTY_SYMBOL_RE.match(number_symbol):
            return True
        m = re.match(r"^\d+(?:/\d{4})?/([A-Za-zĐđ]+)(?:-|$)", number_symbol)
        if m and _JOINT_TYPE_RE.match(m.group(1)):
            return True
    return False


def split_issuers(issuer: str) -> list[str]:
    """The bodies of a joint issuer line, in printed order.

    The dashes are not trusted as cuts: the header parser puts one between a
    superior line and its body, and in a joint header it may have cut inside a
    name ("TỈNH ỦY THÁI BÌNH ỦY - BAN NHÂN DÂN ..."); the run is cut again at head words.
    """
    run = re.sub(r"\s+[-–—]\s+", " ", issuer).strip(" ,;-")
    return [p.strip(" ,;-") for p in _split_run(run) if p.strip(" ,;-")]


def _split_run(run: str) -> list[str]:
    """Two bodies side by side, read as one caps run: cut before a head word that
    cannot continue the name before it."""
    words = run.split()
    cuts = [0]
    protect_until = 0  # the words of a head already matched are no cut points ("ỦY BAN" holds "BAN")
    for k in range(1, len(words)):
        rest = " ".join(words[k:])
        before = " ".join(words[cuts[-1]:k])
        head = next((h for h in _HEADS if rest == h or rest.startswith(h + " ")), None)
        if head is None or k < protect_until:
            continue
        protect_until = k + len(head.split())
        if len(before.split()) < 2:
            continue
        if before.endswith(_PREFIXES) or any(before == p for p in _PREFIXES):
            continue  # "ĐẢNG ỦY" + "ỦY BAN NHÂN DÂN TỈNH": one body
        if head in _COMMITTEES and not _followed_by_place(rest, head):
            continue  # "BAN TUYÊN GIÁO" + "TỈNH ỦY": the board of the committee
        cuts.append(k)
    bounds = cuts + [len(words)]
    return [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:])]


def _followed_by_place(rest: str, head: str) -> bool:
    tail = rest[len(head):].split()
    return bool(tail) and not any(" ".join(tail).startswith(h) for h in _HEADS)


# --------------------------------------------------------------------------- signatures


def find_signers(lines: list[str], body_start: int, last: Signer | None) -> list[Signer]:
    """Every signature block of a joint document, in printed order."""
    across = _read_across(lines, body_start)
    if across:
        return across
    if last is None:
        return []
    found = [last]
    while True:
        top = min(found[0].lines_used)
        nxt = find_signer(lines[:top], body_start)
        if nxt is None or nxt.name is None or max(nxt.lines_used) < top - 8:
            break  # nothing more, or a name far above: the body, not a signature
        found.insert(0, nxt)
    return found


def _split_names(line: str) -> list[str] | None:
    """"Nguyễn Văn An Trần Thị Bình" → two names (each 2–4 words, capitalized)."""
    from extraction.entities import gazetteers

    words = line.strip().rstrip(".").split()
    splits = [k for k in range(2, len(words) - 1)
              if _name_words(" ".join(words[:k])) and _name_words(" ".join(words[k:])) and k <= 4
              and len(words) - k <= 4]
    # the second name begins with a family name ("Phạm Văn Sinh | Nguyễn Hồng Diên")
    surnamed = [k for k in splits if words[k] in gazetteers().surnames]
    if len(surnamed) == 1 or (not surnamed and len(splits) == 1):
        k = (surnamed or splits)[0]
        return [" ".join(words[:k]), " ".join(words[k:])]
    return None


def _split_titles(line: str) -> list[str]:
    """"TRƯỞNG BAN PHÓ GIÁM ĐỐC" → ["TRƯỞNG BAN", "PHÓ GIÁM ĐỐC"] (known titles, left to right)."""
    words, out, k = line.split(), [], 0
    while k < len(words):
        for n in range(min(6, len(words) - k), 0, -1):
            title = _canonical_title(" ".join(words[k:k + n]))
            if title and fold(title) == fold(" ".join(words[k:k + n])):
                out.append(title)
                k += n
                break
        else:
            return []
    return out


def _read_across(lines: list[str], body_start: int) -> list[Signer]:
    """Signature blocks side by side, read line by line across both columns."""
    for i in range(len(lines) - 1, max(body_start, len(lines) - 8), -1):
        names = _split_names(lines[i])
        if not names:
            continue
        for j in range(i - 1, max(body_start, i - 4), -1):
            if not is_caps(lines[j]):
                continue
            titles = _split_titles(lines[j])
            if len(titles) == len(names):
                auth_line = lines[j - 1] if j - 1 > body_start and is_caps(lines[j - 1]) else ""
                if len(list(_AUTH_RE.finditer(auth_line))) >= 1 or len(titles) >= 2:
                    used = {i, j} | ({j - 1} if auth_line else set())
                    return [Signer(n, t, used, 0.6) for n, t in zip(names, titles)]
        return []
    return []
