"""Header fields of Party and state documents, read as an archivist reads them.

Input is the text of a document (OCR output or a born-digital extract), whose
two header columns may be linearized in either order, wrapped anywhere, or
broken by OCR slips and e-office artefacts. The parser therefore works on
evidence, not positions: the "Số" line, the "<place>, ngày .. tháng .. năm .."
line, the capitalized type heading, the capitalized issuing-body lines, the
"Nơi nhận:" list and the signature block each have their own recognizer.
A field that is not printed stays ``None``: nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from extraction.abbrev import doc_type_for_code
from extraction.dates import ocr_int
from extraction.lines import is_caps
from extraction.joint import find_signers, is_joint, split_issuers
from extraction.signature import Signer, find_recipients, find_signer
from kholuu.model import DocumentMetadata, Signature
from kholuu.textnorm import fold, normalize

# --------------------------------------------------------------------------- helpers


_is_caps = is_caps


def _key(s: str) -> str:
    """Comparison key: folded, upper case, single spaces, letters and digits only."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", fold(s).upper())).strip()


_RULE_RE = re.compile(r"^[\s\-_=*.~–—·]+$")


def _is_rule(s: str) -> bool:
    return bool(_RULE_RE.match(s))


def _clean_line(s: str) -> str:
    """One text line without markup and without the specks OCR reads as
    "_", "~", "|" at either end of a line."""
    s = s.replace("__", "").replace("**", "")
    s = re.sub(r"^[\s_~|`'•]+(?=\S)", "", s)
    s = re.sub(r"(?<=\S)[\s_~|`'•]+$", "", s)
    # a speck read as one small letter after a heading or a name: "TRỊ n", "Mai t"
    m = re.match(r"^(.*\S)\s+[a-zà-ỹđ]$", s)
    if m and (is_caps(m.group(1)) or all(w[:1].isupper() for w in m.group(1).split())):
        s = m.group(1)
    return s.strip().strip("|").strip()


# --------------------------------------------------------------------------- national headings

# Folded keys of the "quốc hiệu" / Party heading and motto; removed from the issuer.
_MOTTO_KEYS = [
    "DANG CONG SAN VIET NAM",
    "CONG HOA XA HOI CHU NGHIA VIET NAM",
    "VIET NAM DAN CHU CONG HOA",
    "DOC LAP TU DO HANH PHUC",
]


def _remove_mottos(s: str) -> str:
    """Remove the national/Party headings from a caps run, tolerating wraps."""
    for key in _MOTTO_KEYS:
        pattern = r"[\s\-,.]*".join(re.escape(w) for w in key.split())
        m = re.search(pattern, fold(s).upper())
        while m:
            s = (s[:m.start()] + " " + s[m.end():])
            m = re.search(pattern, fold(s).upper())
    return re.sub(r"\s+", " ", s).strip(" -*,.")


def _is_motto_line(s: str) -> bool:
    k = _key(s)
    return len(k) >= 6 and any(k in m for m in _MOTTO_KEYS) and not any(c.isdigit() for c in s)


# --------------------------------------------------------------------------- number and symbol

# "Số" as printed, with the OCR confusions of its tone mark ("Sổ", "Sô"), or "SỐ:" in capitals
_NUMBER_LINE_RE = re.compile(r"(?:(?:^|(?<=\s))S[ốôổỗộóò]|^SỐ(?=\s*:))\s*[:.]?\s*(?P<rest>.*)$")
_PARTY_RE = re.compile(r"^(?P<num>\d+)?-(?P<type>[A-Za-zĐđ]+)/(?P<organ>[A-Za-zĐđƯưƠơ&]+(?:-[A-Za-zĐđƯư&]+)*)$")
_STATE_RE = re.compile(
    r"^(?P<num>\d+)(?P<year>/\d{4})?/(?P<type>[A-Za-zĐđ&]+)(?:-(?P<organ>[A-Za-zĐđ&0-9]+(?:-[A-Za-zĐđ&0-9]+)*))?$")


def canonical_symbol(raw: str) -> tuple[str | None, str | None, float]:
    """Canonical number/symbol, its type code and a confidence.

    "1696 /QĐ-UBND" → "1696/QĐ-UBND"; "2170 /QĐ - UBND" → "2170/QĐ-UBND";
    "1961/QĐUBND" → "1961/QĐ-UBND"; "445-KL/TƯ" → "445-KL/TW";
    "-CTr/TU" (number stamped as an image) → "-CTr/TU", number unknown.
    """
    s = normalize(raw).strip().replace("Ð", "Đ").replace("đ", "đ")
    s = re.sub(r"\s*([-/])\s*", r"\1", s)
    s = re.sub(r"ĐĐ+", "Đ", s)  # OCR doubles the crossed D ("QĐÐ-UBND"); no code has "ĐĐ"
    m = re.match(r"[\w/&\-]+", s)
    if not m:
        return None, None, 0.0
    s = m.group(0).strip("-/")
    if raw.strip().startswith("-") or re.match(r"^\s*-", raw):
        s = "-" + s
    pm = _PARTY_RE.match(s)
    if pm:
        organ = pm.group("organ")
        organ = re.sub(r"TƯ$", "TW", organ)
        type_code = pm.group("type")
        num = pm.group("num")
        conf = 0.95 if num else 0.4
        return f"{num or ''}-{type_code}/{organ}", type_code, conf
    sm = _STATE_RE.match(s)
    if sm:
        num, year, type_code, organ = sm.group("num"), sm.group("year") or "", sm.group("type"), sm.group("organ")
        conf = 0.95
        if organ is None:
            # lost dash: "QĐUBND" → "QĐ-UBND" when the code starts with a known type
            for n in range(min(4, len(type_code) - 2), 0, -1):
                head, tail = type_code[:n], type_code[n:]
                if doc_type_for_code(head) and tail.isupper() and len(tail) >= 2:
                    type_code, organ, conf = head, tail, 0.8
                    break
        symbol = f"{num}{year}/{type_code}" + (f"-{organ}" if organ else "")
        return symbol, type_code, conf
    if re.match(r"^\d+[-/]\S+$", s):
        return s, None, 0.5
    return None, None, 0.0


@dataclass
class _Number:
    line: int
    symbol: str | None
    type_code: str | None
    conf: float
    lines_used: tuple[int, ...]


def _find_number(lines: list[str], limit: int) -> _Number | None:
    for i, line in enumerate(lines[:limit]):
        m = _NUMBER_LINE_RE.search(line)
        if not m:
            continue
        rest = m.group("rest").strip()
        used = (i,)
        if not rest and i + 1 < len(lines):
            rest, used = lines[i + 1], (i, i + 1)
        if not rest or not re.match(r"^[\d\s]*[-/]?\s*[\w]", rest):
            continue
        if not re.search(r"[-/]", rest[:30]):
            continue
        symbol, code, conf = canonical_symbol(rest)
        if symbol:
            return _Number(i, symbol, code, conf, used)
    return None


# --------------------------------------------------------------------------- place and date

# OCR's digit slips ("ngày I7tháng 7", "tháng Š") only between the date words,
# where nothing else can stand (extraction.dates.ocr_int reads them)
_DATE_RE = re.compile(
    r"ngay\s*(?P<d>[\dilo|js]{1,2})?\s*thang\s*(?P<m>[\dilo|js]{1,2})?\s*nam\s*(?P<y>[\dilo|]{4})")


def date_search(s: str) -> re.Match[str] | None:
    """"ngày .. tháng .. năm ...." in ``s``, tolerant of OCR's diacritic slips
    ("ngảy", "thảng", "nǎm"): matched on the folded text, whose offsets are
    those of ``s``."""
    return _DATE_RE.search(fold(s).lower())


@dataclass
class _Dated:
    place: str | None
    date: date | None
    lines_used: tuple[int, ...]
    conf: float


def _trailing_place(s: str) -> str:
    """The place name that ends ``s``: its trailing title-case words.

    Two columns read across put the number or the issuer before the place
    ("Số: 4378 /SCT -CN Lào Cai", "TỈNH ỦY THÁI BÌNH Thái Bình"); a place name
    is the run of capitalized words (and "phố" of "Thành phố") at the end.
    """
    words = s.split()
    out: list[str] = []
    for w in reversed(words):
        bare = w.strip(".,;:")
        if bare.isalpha() and ((bare[0].isupper() and (len(bare) == 1 or bare[1:].islower()))
                               or (bare in ("phố", "xã", "trấn") and out)):
            out.insert(0, bare)
            continue
        break
    return " ".join(out)


def _find_date(lines: list[str], limit: int, skip: set[int]) -> _Dated | None:
    # join a window of lines so that "Hà Nội, ngày 28\ntháng 11 năm 2025" is one match
    for i, line in enumerate(lines[:limit]):
        if len(line) > 120 or "ngay" not in fold(line).lower():
            continue
        window = line
        used = [i]
        j = i
        while not date_search(window) and j + 1 < len(lines) and j - i < 2:
            j += 1
            window += " " + lines[j]
            used.append(j)
        m = date_search(window)
        if not m:
            continue
        before = window[:m.start()].rstrip()
        if not before.endswith(","):
            # a header date line always reads "<place>, ngày ..."; the body's dates do not
            if before and not re.search(r"(?:^|\s)S[ốô]\s*[:.]?", before):
                continue
        place = _trailing_place(before.rstrip(",").strip())
        prev = lines[i - 1] if i > 0 and (i - 1) not in skip else ""
        if not place and prev.endswith(",") and len(prev) <= 40 and not _is_caps(prev):
            place = prev  # "Thành phố Huế,\nngày 18 tháng 11 năm 2025"
            used.insert(0, i - 1)
        elif place and prev and len(prev.split()) <= 4 and prev[0].isupper() and not _is_caps(prev) \
                and all(w.isalpha() for w in prev.split()) and not _BODY_START_RE.match(prev):
            place = prev + " " + place  # "Tây\nNinh, ngày ..." / "Thành\nphố Hồ Chí Minh, ngày ..."
            used.insert(0, i - 1)
        place = place.strip(" ,.;:*") or None
        if place and (len(place) > 40 or not place[0].isupper()):
            place = None
        d = None
        conf = 0.0
        if m.group("d") and m.group("m"):
            try:
                d = date(ocr_int(m.group("y")), ocr_int(m.group("m")), ocr_int(m.group("d")))
                conf = 0.95
            except ValueError:
                d = None
        return _Dated(place, d, tuple(used), conf)
    return None


# --------------------------------------------------------------------------- type heading and subject

# Full names, longest first so "THÔNG BÁO KẾT LUẬN" wins over "THÔNG BÁO".
_TYPE_NAMES = sorted([
    "Nghị quyết", "Chỉ thị", "Kết luận", "Quyết định", "Quy định", "Quy chế", "Thông báo",
    "Thông báo kết luận", "Hướng dẫn", "Báo cáo", "Kế hoạch", "Chương trình", "Chương trình hành động",
    "Chương trình công tác", "Tờ trình", "Biên bản", "Thông tri", "Công văn", "Đề án", "Công điện",
    "Điều lệ", "Thông cáo", "Thông cáo báo chí", "Nghị định", "Thông tư", "Luật", "Pháp lệnh",
    "Lời kêu gọi", "Thư", "Điện", "Giấy mời", "Giấy giới thiệu", "Phương án", "Diễn văn",
    "Nghị quyết liên tịch", "Thông tư liên tịch", "Quy chế phối hợp", "Báo cáo chính trị",
    "Chỉ thị khẩn", "Thông tri khẩn", "Hướng dẫn liên tịch", "Kế hoạch liên tịch", "Chương trình liên tịch",
    "Thông báo liên tịch", "Quyết định liên tịch", "Thông tri liên tịch",
], key=len, reverse=True)
_TYPE_KEYS = [(n.upper(), n) for n in _TYPE_NAMES]


def _ukey(s: str) -> str:
    """Upper-case key keeping diacritics ("THỦ" is not "THƯ")."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", s.upper())).strip()


def _type_heading(line: str) -> tuple[str, str] | None:
    """(type name, rest of the line) when the line is a capitalized type heading."""
    if not _is_caps(line.split(":")[0]):
        return None
    k = _ukey(line)
    for key, name in _TYPE_KEYS:
        if k == key or k.startswith(key + " "):
            words = len(key.split())
            rest_words = line.split()[words:]
            # "ĐIỀU LỆ" rest may be empty; keep what follows on the line as subject start
            return name, " ".join(rest_words).strip(" :")
    # OCR slips in the diacritics ("CHỈ THI", "NGHI QUYẾT"): the accent-free form of
    # a two-syllable name or longer, alone on its line (one syllable is too little:
    # "THỦ TƯỚNG" is not "THƯ")
    fk = fold(k)
    for key, name in _TYPE_KEYS:
        if len(key.split()) >= 2 and fk == fold(key):
            return name, ""
    return None


_BODY_START_RE = re.compile(
    r"^(Căn cứ|Kính gửi|Kính\s*$|Thực hiện|Tại |Xét |Theo |Trong |Để |Nhằm|Ngày \d|Hội nghị|Qua |Trên cơ sở|"
    r"Sau khi|Từ |Vừa qua|Thời gian qua|Năm \d|Đồng chí|Đảng Cộng sản|Chủ tịch|Nay|Những năm|Những |Hiện nay|"
    r"Trong những|Thời gian|Quán triệt|Tiếp tục|Điều \d|Chương [IVX\d]|"
    r"Phần [IVX\d]|[IVX]+\.\s|\d+\.\s|[a-zđ]\)\s|Trả lời|Phúc đáp|Ủy ban nhân dân tỉnh nhận)")
_VV_RE = re.compile(r"^(V/v|V/V|v/v|Về việc|về việc|VỀ VIỆC)\b")
_CONTINUE_AFTER = re.compile(r"(?:\b(CỦA|VỀ|VÀ|CHO|TẠI|TRONG|VỚI|ĐỐI|THEO|CÁC|NGÀY|SỐ|CỦA)|[,\-])\s*$", re.IGNORECASE)
_AUTHORITY_HEADS = ("ỦY BAN NHÂN DÂN", "UBND", "HỘI ĐỒNG NHÂN DÂN", "CHỦ TỊCH", "BỘ TRƯỞNG", "THỦ TƯỚNG",
                    "GIÁM ĐỐC", "BAN THƯỜNG VỤ", "BAN CHẤP HÀNH", "CHÍNH PHỦ", "TỈNH ỦY", "QUYẾT ĐỊNH")


def _collect_subject(lines: list[str], start: int, first: str, stop: set[int], issuer: str | None,
                     max_lines: int = 10) -> tuple[str | None, int]:
    parts: list[str] = [first] if first else []
    caps_mode: bool | None = _is_caps(first) if first else None
    i = start
    while i < len(lines) and len(parts) < max_lines:
        line = lines[i]
        if i in stop or not line or _is_rule(line) or _BODY_START_RE.match(line):
            break
        if line.startswith(("Kính gửi", "Nơi nhận")):
            break
        if re.fullmatch(r"[\W\d_]+", line):
            break
        if len(line) > 130 and parts:
            break  # a whole paragraph on one line: the body has begun
        is_caps = _is_caps(line)
        joined = " ".join(parts)
        in_paren = joined.count("(") > joined.count(")")
        if caps_mode is None:
            caps_mode = is_caps
        elif caps_mode and not is_caps and not line.startswith("(") and not in_paren:
            break
        elif not caps_mode and is_caps and not (len(line.split()) == 1 and len(line) <= 6):
            break
        if parts and is_caps and caps_mode and not _CONTINUE_AFTER.search(parts[-1]):
            k = _key(line)
            if (issuer and k and (k == _key(issuer) or _key(issuer).endswith(k))) or \
                    any(k.startswith(_key(h)) for h in _AUTHORITY_HEADS):
                break
        if line.endswith(":") and parts:
            break
        if len(parts) >= 2 and parts[-1].endswith(")") and not in_paren and "(" in parts[-1] + parts[-2]:
            break  # a closing note "(... thông qua ngày ...)" ends the subject
        parts.append(line)
        i += 1
    subject = re.sub(r"\s+", " ", " ".join(parts)).strip(" -*")
    subject = re.sub(r"\s+([,.;:)])", r"\1", subject)
    return (subject or None), i


# --------------------------------------------------------------------------- issuer

_SUPERIOR_RE = re.compile(
    r"^(BAN CHẤP HÀNH TRUNG ƯƠNG(?: ĐẢNG)?|CỤC THUẾ|"
    r"(?:ĐẢNG BỘ|ỦY BAN NHÂN DÂN|UBND|HỘI ĐỒNG NHÂN DÂN|HĐND|TỈNH ỦY|THÀNH ỦY|HUYỆN ỦY|QUẬN ỦY|THỊ ỦY|ĐẢNG ỦY)"
    r"(?: (?:TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG|KHỐI))?(?: [^\s]+)+?)"
    r" (?=(?:SỞ|BAN|VĂN PHÒNG|ĐẢNG ỦY|ĐẢNG ĐOÀN|BAN CÁN SỰ|PHÒNG|CHI CỤC|CỤC|THANH TRA|ỦY BAN KIỂM TRA|"
    r"HUYỆN ỦY|THÀNH ỦY|THỊ ỦY|QUẬN ỦY|CHI BỘ|TRƯỜNG|TRUNG TÂM|THUẾ|ĐẢNG BỘ|BỘ CHỈ HUY|CÔNG AN|ỦY BAN MẶT TRẬN)\b)")


def _split_issuer(s: str) -> str:
    """"BAN CHẤP HÀNH TRUNG ƯƠNG VĂN PHÒNG" → "BAN CHẤP HÀNH TRUNG ƯƠNG - VĂN PHÒNG".

    A district or city Party committee under its provincial "ĐẢNG BỘ TỈNH ..."
    line names itself completely ("HUYỆN ỦY ĐÔNG HƯNG"): the committee is the
    issuer and the superior line is dropped, as archivists catalogue it.
    """
    if " - " in s:
        return s
    m = _SUPERIOR_RE.match(s)
    if m and len(s) > m.end() + 2:
        sub = s[m.end():].strip()
        if m.group(1).startswith("ĐẢNG BỘ") and re.match(r"^(HUYỆN|THÀNH|THỊ|QUẬN) ỦY \S", sub):
            return sub
        return f"{m.group(1)} - {sub}"
    return s


@lru_cache(maxsize=1)
def _issuer_vocabulary() -> list[str]:
    """Capitalized names an issuer is made of: places, bodies, departments."""
    from extraction.entities import gazetteers

    g = gazetteers()
    words = {p.upper() for p in g.places} | {b["name"].upper() for b in g.bodies}
    words |= {"BAN CHẤP HÀNH TRUNG ƯƠNG", "ỦY BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN", "TUYÊN GIÁO", "DÂN VẬN",
              "TỔ CHỨC", "KIỂM TRA", "VĂN PHÒNG", "ĐẢNG BỘ", "TỈNH ỦY", "HUYỆN ỦY", "THÀNH ỦY", "ĐẢNG ỦY",
              "THÀNH PHỐ", "NỘI CHÍNH", "KINH TẾ", "CHÍNH PHỦ"}
    for p in list(g.places):  # "TĨNH LÀO CAI" read for "TỈNH LÀO CAI"
        for unit in ("TỈNH", "THÀNH PHỐ", "HUYỆN", "UBND TỈNH", "UBND HUYỆN", "ĐẢNG BỘ TỈNH", "TỈNH ỦY", "HUYỆN ỦY"):
            words.add(f"{unit} {p.upper()}")
    # one syllable is too little evidence ("TĨNH" in "HÀ TĨNH" is not "TỈNH")
    return sorted((w for w in words if " " in w), key=len, reverse=True)


def repair_caps_name(s: str) -> str:
    """Restore diacritics OCR got wrong in a capitalized name when the accent-free
    form is exactly a known place or body ("ĐÀ NẰNG" → "ĐÀ NẴNG",
    "BAN TUYỂN GIÁO" → "BAN TUYÊN GIÁO"). Folding keeps lengths, so known
    forms are put back in place; nothing else changes."""
    folded = fold(s).upper()
    chars = list(s)
    covered = [False] * len(s)
    for word in _issuer_vocabulary():  # longest first; a longer name owns its characters
        key = fold(word).upper()
        for m in re.finditer(rf"(?<![\w]){re.escape(key)}(?![\w])", folded):
            if any(covered[m.start():m.end()]):
                continue
            covered[m.start():m.end()] = [True] * (m.end() - m.start())
            chars[m.start():m.end()] = list(word)
    return "".join(chars)


def _find_issuer(lines: list[str], end: int, skip: set[int]) -> str | None:
    """All capitalized lines of the top block, less the national headings.

    The issuer's column and the heading's column interleave in any order once
    linearized ("UBND TỈNH LÀO CAI / CỘNG HOÀ ... / SỞ NÔNG NGHIỆP ..."), so the
    caps lines are joined first and the known headings removed afterwards.
    """
    run = []
    for i, line in enumerate(lines[:end]):
        if i in skip or _is_rule(line) or _is_mark_line(line):
            continue
        # columns read across: "SỞ CÔNG THƯƠNG Độc lập - Tự do - Hạnh phúc"
        bare = line if _is_caps(line) else _remove_mottos(line)
        if bare and _is_caps(bare):
            run.append(bare.strip(" *"))
    joined = _remove_mottos(" ".join(run))
    joined = re.sub(r"\s*\*\s*", " ", joined)
    joined = re.sub(r"(?<=\s)[_~|]+(?=\s)", " ", joined).strip(" -_~|.,;:")  # OCR specks between words
    if len([c for c in joined if c.isalpha()]) >= 3 and _is_caps(joined):
        return _split_issuer(repair_caps_name(re.sub(r"\s+", " ", joined)))
    return None


# --------------------------------------------------------------------------- marks

_SECURITY = ("TUYỆT MẬT", "TỐI MẬT", "MẬT")
_URGENCY = ("THƯỢNG KHẨN", "HỎA TỐC", "KHẨN")


_MARK_WORDS = {"TUYỆT", "TỐI", "MẬT", "THƯỢNG", "KHẨN", "HỎA", "TỐC"}


def _is_mark_line(line: str) -> bool:
    """A caps line that is a stamp only (beside the national heading or alone)."""
    words = re.sub(r"[^\w\s]", " ", _remove_mottos(line)).split()
    return bool(words) and all(w in _MARK_WORDS for w in words)


def _find_marks(lines: list[str], limit: int) -> tuple[str | None, str | None]:
    """Secrecy and urgency stamps: a caps line made only of mark words.

    A stamp stands on a line of its own, or beside the national heading when
    the two columns are read across ("MẬT ĐẢNG CỘNG SẢN VIỆT NAM"); the same
    words inside a subject ("VỀ BẢO VỆ BÍ MẬT NHÀ NƯỚC") are not a stamp.
    """
    security = urgency = None
    for line in lines[:limit]:
        if not _is_caps(line) or not _is_mark_line(line):
            continue
        text = " ".join(re.sub(r"[^\w\s]", " ", _remove_mottos(line)).split())
        if security is None:
            security = next((m for m in _SECURITY if re.search(rf"(?<!\w){m}(?!\w)", text)), None)
        if urgency is None:
            urgency = next((m for m in _URGENCY if re.search(rf"(?<!\w){m}(?!\w)", text)), None)
    return security, urgency


# --------------------------------------------------------------------------- main entry


def extract_metadata(text: str) -> DocumentMetadata:
    """Header, signature and recipient fields of one document's text.

    Missing fields are ``None`` (or ``[]`` for recipients); ``confidence`` has
    one value in 0..1 per field that was found.
    """
    norm = normalize(text or "")
    lines = [_clean_line(l) for l in norm.split("\n")]
    lines = [l for l in lines if l]
    meta = DocumentMetadata()
    conf: dict[str, float] = {}
    if not lines:
        return meta
    header_limit = min(len(lines), 40)

    number = _find_number(lines, header_limit)
    dated = _find_date(lines, header_limit, set(number.lines_used) if number else set())
    skip: set[int] = set()
    if number:
        skip.update(number.lines_used)
        meta.number_symbol = number.symbol
        conf["number_symbol"] = number.conf
    if dated:
        skip.update(dated.lines_used)
        if dated.place:
            meta.place = dated.place
            conf["place"] = 0.9
        if dated.date:
            meta.issued_date = dated.date
            conf["issued_date"] = dated.conf

    # type heading: the first caps heading line after the top block
    heading_at = None
    heading_rest = ""
    for i, line in enumerate(lines[:header_limit]):
        if i in skip:
            continue
        h = _type_heading(line)
        if h:
            heading_at, (meta.doc_type, heading_rest) = i, h
            conf["doc_type"] = 0.95
            break
    issuer_skip = set(skip)
    for i, line in enumerate(lines[:heading_at if heading_at is not None else header_limit]):
        if _is_motto_line(line):
            skip.add(i)
    vv_at = None
    for i, line in enumerate(lines[:header_limit]):
        if i not in skip and _VV_RE.match(line) and (heading_at is None or i < heading_at):
            vv_at = i
            break
    if vv_at is not None and heading_at is not None and vv_at < heading_at:
        heading_at = None
        meta.doc_type = None
        conf.pop("doc_type", None)

    # the header ends at the heading, the V/v line, or "Kính gửi"
    header_end = header_limit
    for cand in (heading_at, vv_at):
        if cand is not None:
            header_end = min(header_end, cand)
    for i, line in enumerate(lines[:header_end]):
        if line.startswith(("Kính gửi", "Kính")) or _BODY_START_RE.match(line) and not _is_caps(line):
            header_end = min(header_end, i)
            break

    issuer_end = header_end
    if number:
        issuer_end = max(issuer_end, number.line)
    meta.issuer = _find_issuer(lines, min(issuer_end, header_limit), issuer_skip)
    if meta.issuer:
        conf["issuer"] = 0.85

    type_from_code = doc_type_for_code(number.type_code) if number and number.type_code else None
    if meta.doc_type is None and type_from_code:
        meta.doc_type = type_from_code
        conf["doc_type"] = 0.75
    if meta.doc_type is None and vv_at is not None:
        meta.doc_type = "Công văn"
        conf["doc_type"] = 0.8

    if heading_at is not None:
        subject, _ = _collect_subject(lines, heading_at + 1, heading_rest, skip, meta.issuer)
        if subject:
            meta.subject = subject
            conf["subject"] = 0.8
    elif vv_at is not None:
        subject, _ = _collect_subject(lines, vv_at + 1, lines[vv_at], skip, meta.issuer, max_lines=6)
        if subject:
            meta.subject = subject
            conf["subject"] = 0.8

    body_start = max([heading_at or 0, vv_at or 0, header_end])
    signer = find_signer(lines, body_start)
    if signer:
        meta.signer_name = signer.name
        meta.signer_title = signer.title
        conf["signer_name"] = signer.conf
        if signer.title:
            conf["signer_title"] = signer.conf
    joint = is_joint(lines[:header_end + 1], meta.number_symbol, meta.doc_type)
    if meta.issuer:
        meta.issuers = split_issuers(meta.issuer) if joint else [meta.issuer]
        if joint and len(meta.issuers) > 1:
            meta.issuer = meta.issuers[0]
    signers = find_signers(lines, body_start, signer) if joint else ([signer] if signer else [])
    if len(signers) > 1:
        # the primary signer is the first block (the leading body), as archivists catalogue it
        signer = signers[0]
        meta.signer_name, meta.signer_title = signer.name, signer.title
        signer = Signer(signer.name, signer.title, set().union(*(s.lines_used for s in signers)), signer.conf)
    meta.signers = [Signature(s.name, s.title) for s in signers]
    recipients, _ = find_recipients(lines, signer)
    if recipients:
        meta.recipients = recipients
        conf["recipients"] = 0.8

    security, urgency = _find_marks(lines, min(len(lines), 25))
    if security:
        meta.security_mark = security
        conf["security_mark"] = 0.9
    if urgency:
        meta.urgency_mark = urgency
        conf["urgency_mark"] = 0.9
    meta.confidence = conf
    return meta
