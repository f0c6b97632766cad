"""The signature block and the "Nơi nhận" list at the end of a document.

Party documents sign "T/M BAN THƯỜNG VỤ / BÍ THƯ / name" (also K/T, T/L);
state documents "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / name".
The recipients' column sits to the left of the signature; when OCR or a PDF
extract reads the two columns across, their lines interleave, which the
second recognizer below undoes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction.lines import is_caps as _is_caps
from kholuu.textnorm import fold

# "Nơi nhận", and as OCR reads it: "ơi nhận", "4ơi nhận:", "dd nhận:"
_NOI_NHAN_RE = re.compile(r"^\W*(?:n?[oơ]i\s*nh[aâậ]n\s*:?|\S{1,3}\s*nh[aâậ]n\s*:)", re.IGNORECASE)


def _noi_nhan(line: str) -> re.Match[str] | None:
    """"Nơi nhận:" at the start of a line, tolerant of OCR slips; offsets are the line's."""
    return _NOI_NHAN_RE.match(fold(line))


_AUTH_RE = re.compile(r"(?:^|(?<=[\s;:,]))(T/M|TM\.|TM|K/T|KT\.|KT|T/L|TL\.|TL|Q/|TUQ\.|TUQ|Q\.)(?=\s|$)")
_KNOWN_TITLES = [
    "TỔNG BÍ THƯ", "BÍ THƯ", "CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "TRƯỞNG BAN", "GIÁM ĐỐC", "THỦ TƯỚNG",
    "BỘ TRƯỞNG", "THỨ TRƯỞNG", "CHỦ NHIỆM", "CHÁNH ÁN", "VIỆN TRƯỞNG", "TRƯỞNG PHÒNG", "CỤC TRƯỞNG",
    "CHI CỤC TRƯỞNG", "HIỆU TRƯỞNG", "THƯ KÝ", "ỦY VIÊN", "TỔNG CỤC TRƯỞNG", "CHÁNH THANH TRA",
    "TRƯỞNG ĐOÀN", "CHỦ NHIỆM ỦY BAN KIỂM TRA", "TRƯỞNG THUẾ TỈNH", "TỔNG THƯ KÝ", "CHỦ TỊCH NƯỚC",
    "TRƯỞNG TIỂU BAN", "THƯỜNG TRỰC", "THAY MẶT",
]
_TITLE_RE = re.compile(
    r"((?:PHÓ |THỨ |Q\. |QUYỀN )?(?:" + "|".join(sorted(map(re.escape, _KNOWN_TITLES), key=len, reverse=True))
    + r")(?: THƯỜNG TRỰC)?)$")
_SIGNED_NOTE_RE = re.compile(r"^\(?\s*(Đã ký|đã ký|Ký|ký tên|Đã ký và đóng dấu|Chữ ký|Ký, ghi rõ)[^)]*\)?\.?$")


def _unbullet(line: str) -> str:
    """A speck before a line is read as a dash: "- Nguyễn Minh Dũng"."""
    return re.sub(r"^[-–~]\s*", "", line)


def _name_words(s: str) -> bool:
    words = s.split()
    if not 2 <= len(words) <= 5:
        return False
    return all(w.isalpha() and w[0].isupper() and (len(w) == 1 or w[1:].islower()) for w in words)


def _despeck(s: str) -> str:
    """A seal or signature under a name leaves one-letter specks between its
    words ("Lê ê Thị Bích Thuận"); a Vietnamese name has no one-letter word in
    lower case, so those go."""
    return " ".join(w for w in s.split() if not (len(w) == 1 and w.islower()))


def _trailing_name(line: str) -> str | None:
    line = line.strip().rstrip(".")
    if _name_words(line):
        return line
    m = re.search(r"[;,:)]\s*([^;,:()]+)$", line)
    if m:
        cand = m.group(1).strip()
        if _name_words(cand):
            return cand
        cand = _despeck(cand)
        if _name_words(cand) and len(cand.split()) >= 3:
            return cand
    return None


def _title_variants() -> dict[str, str]:
    out: dict[str, str] = {}
    for t in _KNOWN_TITLES:
        for v in (t, "PHÓ " + t, t + " THƯỜNG TRỰC", "PHÓ " + t + " THƯỜNG TRỰC"):
            out[fold(v)] = v
    return out


_TITLES_FOLDED = sorted(_title_variants().items(), key=lambda kv: len(kv[0]), reverse=True)


def _canonical_title(remainder: str) -> str | None:
    """The longest known title ending ``remainder``, compared without diacritics,
    so that OCR's "PHO CHU TỊCH" is "PHÓ CHỦ TỊCH"."""
    f = fold(remainder)
    for key, title in _TITLES_FOLDED:
        if f == key or f.endswith(" " + key):
            return title
    return None


def _repair_block(block: str) -> str:
    """OCR specks between the words of a caps block ("T/M BỘ CHÍNH : TRI") go, and a
    known body's diacritics come back ("BỘ CHÍNH TRỊ"), as for the issuer."""
    from extraction.metadata import repair_caps_name  # the header parser imports this module

    block = re.sub(r"(?<=\w)\s+[:;,.|]+\s+(?=\w)", " ", block)
    return repair_caps_name(block)


def _title_from_block(block: str) -> str:
    """The signer's own title from a caps block like "KT. CHỦ TỊCH PHÓ CHỦ TỊCH"."""
    block = _repair_block(re.sub(r"\s+", " ", block).strip(" ,;"))
    auths = list(_AUTH_RE.finditer(block))
    remainder = block[auths[-1].end():].strip() if auths else block
    title = _canonical_title(remainder)
    if title and (not auths or fold(title) != fold(remainder)):
        return title
    pho = remainder.rfind(" PHÓ ")
    if pho > 0:
        return remainder[pho + 1:]
    if title:
        # "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH": the title is the whole remainder
        return title
    return block


@dataclass
class Signer:
    name: str | None
    title: str | None
    lines_used: set[int]
    conf: float


def find_signer(lines: list[str], body_start: int) -> Signer | None:
    n = len(lines)
    # 1. a name line preceded by caps title lines (the ordinary layout)
    for i in range(n - 1, body_start, -1):
        line = _unbullet(lines[i])
        name = line if _name_words(line.rstrip(".")) else None
        used = {i}
        prev = _unbullet(lines[i - 1]) if i > 0 else ""
        if prev and len(line.split()) in (1, 2, 3) and len(prev.split()) == 1 and _name_words(prev + " " + line):
            name, used = prev + " " + line, {i - 1, i}  # "Bùi\nXuân Cường"
        if name is None:
            continue
        j = min(used) - 1
        while j > body_start and (_SIGNED_NOTE_RE.match(lines[j]) or not lines[j]):
            used.add(j)
            j -= 1
        caps: list[str] = []
        while j > body_start and _is_caps(lines[j]) and len(caps) < 6:
            if lines[j].startswith(("-", "–", "~")):
                # a recipient in capitals, or a title behind a speck read as a dash
                bare = _unbullet(lines[j])
                if not (_AUTH_RE.match(bare) or _TITLE_RE.fullmatch(bare)):
                    break
                caps.insert(0, bare)
            else:
                caps.insert(0, lines[j])
            used.add(j)
            j -= 1
        if not caps:
            continue
        block = " ".join(caps)
        if not (_AUTH_RE.search(block) or _TITLE_RE.search(block) or _canonical_title(block)):
            continue
        return Signer(name.rstrip("."), _title_from_block(block), used, 0.9)
    # 2. two columns read across: "Nơi nhận: T/M BAN THƯỜNG VỤ" / "- Như trên; PHÓ BÍ THƯ" / ... / name
    for i in range(n - 1, body_start, -1):
        m = _noi_nhan(lines[i])
        rest = lines[i][m.end():].strip() if m else ""
        if not rest or not _is_caps(rest):
            continue
        block = [rest]
        used = {i}
        name = None
        for j in range(i + 1, min(n, i + 20)):
            tail = re.search(r"[;,:.)]\s*([^;,:().]+)$", lines[j])
            if tail and _is_caps(tail.group(1)) and len(tail.group(1).strip()) > 3 and name is None:
                block.append(tail.group(1).strip())
            cand = _trailing_name(lines[j])
            if cand and name is None:
                name = cand
                used.add(j)
        if name:
            return Signer(name, _title_from_block(" ".join(block)), used, 0.6)
        own = _own_title(" ".join(block))
        if own:
            # the name is under the seal or the signature image and OCR lost it
            return Signer(None, own, used, 0.4)
    # 3. a title block whose name OCR lost, or a name alone after the recipients
    return _title_only(lines, body_start) or _name_after_recipients(lines, body_start)


def _own_title(block: str) -> str | None:
    """The signer's own title when the block names it; ``None`` when it does not
    ("KT. BỘ TRƯỞNG" alone: a deputy signs, and which one is not printed)."""
    block = re.sub(r"\s+", " ", re.sub(r"[^\w\s./]", " ", block)).strip()
    auths = list(_AUTH_RE.finditer(block))
    remainder = block[auths[-1].end():].strip() if auths else block
    if not remainder:
        return None
    title = _title_from_block(block)
    if not _canonical_title(title):
        return None
    if auths and auths[-1].group(1).startswith(("K", "T/L", "TL", "Q", "TUQ")) and \
            fold(_canonical_title(remainder) or "") == fold(remainder):
        return None  # only the principal's title follows the mark
    return _canonical_title(title)


def _title_only(lines: list[str], body_start: int) -> Signer | None:
    """An authority mark and title lines at the end with no name after them."""
    for i in range(len(lines) - 1, body_start, -1):
        if not (_AUTH_RE.match(lines[i]) and _is_caps(lines[i])):
            continue
        block, used = [lines[i]], {i}
        for j in range(i + 1, min(len(lines), i + 3)):
            if _is_caps(lines[j]) and _canonical_title(lines[j]):
                block.append(lines[j])
                used.add(j)
        own = _own_title(" ".join(block))
        return Signer(None, own, used, 0.4) if own else None
    return None


def _name_after_recipients(lines: list[str], body_start: int) -> Signer | None:
    """The last line a name, right after the "Nơi nhận" list: the title lines
    above it were lost (a signature image over them) or never printed."""
    last = len(lines) - 1
    if last <= body_start or not _name_words(_unbullet(lines[last]).rstrip(".")):
        return None
    for j in range(last - 1, max(body_start, last - 15), -1):
        if _noi_nhan(lines[j]):
            between = lines[j + 1:last]
            if all(l.startswith(("-", "+", "–", "•")) for l in between):
                return Signer(lines[last].rstrip("."), None, {last}, 0.5)
            return None
    return None


# --------------------------------------------------------------------------- recipients


def find_recipients(lines: list[str], signer: Signer | None) -> tuple[list[str], set[int]]:
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if _noi_nhan(lines[i]):
            start = i
            break
    if start is None:
        return [], set()
    items: list[str] = []
    used = {start}
    title_parts = set()
    if signer and signer.title:
        title_parts = {signer.title}
    first = lines[start][_noi_nhan(lines[start]).end():].strip()  # type: ignore[union-attr]
    candidates = [first] if first and not _is_caps(first) else []
    for j in range(start + 1, min(len(lines), start + 40)):
        if signer and j in signer.lines_used and (
                _unbullet(lines[j]) == signer.name or _is_caps(_unbullet(lines[j]))):
            break  # the signature block has begun
        candidates.append(lines[j])
        used.add(j)
    for raw in candidates:
        line = raw
        if not line:
            if items:
                break
            continue
        if _AUTH_RE.match(line) or (_is_caps(line) and _TITLE_RE.search(line) and not line.startswith("-")):
            break
        if signer:
            if signer.name and line.endswith(signer.name):
                line = line[: -len(signer.name)].rstrip()
            for part in title_parts:
                if line.endswith(part):
                    line = line[: -len(part)].rstrip()
        tail = re.search(r"[;,]\s*([^;,]+)$", line)
        filing = bool(re.match(r"^[-+•–]?\s*Lưu\b", line))  # "Lưu: VT, QLGT": the filing units
        if tail and not filing and (_is_caps(tail.group(1)) and len(tail.group(1).strip()) > 3
                     or not any(c.isalpha() for c in tail.group(1))
                     or all(len(w) == 1 for w in tail.group(1).split())):  # seal specks "h Ắ n"
            line = line[:tail.start() + 1]  # the signature column read across, or OCR specks
        starts_item = bool(re.match(r"^[-+•–]\s*", line))
        line = re.sub(r"^[-+•–]\s*", "", line).strip()
        if not line:
            continue
        if starts_item or not items or items[-1].endswith((";", ",", ".")):
            items.append(line)
        else:
            items[-1] = items[-1] + " " + line
    cleaned = [re.sub(r"[\s;,.\-_]+$", "", it).strip() for it in items]
    return [c for c in cleaned if c], used
