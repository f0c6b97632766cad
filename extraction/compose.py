"""Entity post-passes that build one name from adjacent pieces, and split two.

The gazetteer ruler and the trained model often find a body's name in pieces:
its head ("Chi bộ", "Trung tâm Y tế", "Ủy ban Kiểm tra") as one span or none,
and its level and place ("xã Vũ Thắng", "huyện Đông Hưng") as a LOC. In
Party and state documents a head followed directly by a level and a place is
one body ("Đảng ủy xã Vũ Thắng", "Chi bộ thôn Lạc Thiện"), and an organ of a
Party committee followed by that committee is one body too ("Ủy ban Kiểm tra
Đảng ủy Khối các cơ quan tỉnh"). The other way round, a signature block typed
in two columns is read by OCR as one line holding two people ("Phạm Văn Sinh
Nguyễn Hồng Quân"): each is its own PER.

Works on raw entities (start, end, label, pattern id) of one normalized chunk;
merged spans get the empty id, so they are linked like the model's (by
normalization, or to the gazetteer name when it lists them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from extraction.vocabulary import LEVELS, TERRITORY_COMMITTEES, UPPER_LEVELS

RawEnt = tuple[int, int, str, str]  # start, end (characters of the normalized chunk), label, pattern id


def _word_before(words: Iterable[str]) -> re.Pattern[str]:
    """One of ``words``, as printed or in capitals (a header line), ending with the
    space right before an entity found at the search's end; never in lower case,
    where they are common nouns ("các chi bộ", "văn phòng")."""
    return re.compile(r"(?:^|(?<=[\s(\"“,;:]))(?:" + "|".join(re.escape(v) for w in words for v in (w, w.upper()))
                      + r") $")


# Heads that name a body only together with what follows; before a level and a
# place they are the body ("Chi bộ thôn Lạc Thiện"). Capitalized, as printed.
_HEADS = ("Chi bộ", "Đảng bộ", "Đảng ủy", "Đảng uỷ", "Công an", "Trạm Y tế", "Trung tâm Y tế", "Hợp tác xã",
          "Ủy ban nhân dân", "Hội đồng nhân dân", "UBND", "HĐND", "Ban Chỉ huy Quân sự", "Huyện đội", "Tỉnh đội")
_HEAD_RE = _word_before(_HEADS)
# Organs of a Party committee: followed by the committee, they are its organ.
_ORGANS = re.compile(r"(?i)^(ủy ban kiểm tra|ban thường vụ|ban chấp hành|ban tổ chức|ban tuyên giáo|ban dân vận|"
                     r"ban nội chính|ban tuyên giáo và dân vận|văn phòng|thường trực)$")
_COMMITTEE = re.compile(r"(?i)^(" + "|".join((*TERRITORY_COMMITTEES, "đảng ủy", "đảng bộ")) + r")\b")
# An office in front of a committee or a people's council or committee, with no
# entity of its own: "Văn phòng Ủy ban nhân dân thành phố", "Văn phòng UBND tỉnh".
_OFFICE_RE = _word_before(("Văn phòng", "Thường trực"))
_COUNCIL = re.compile(r"(?i)^(" + "|".join((*TERRITORY_COMMITTEES, "đảng ủy", "ủy ban nhân dân", "ubnd",
                                            "hội đồng nhân dân", "hđnd")) + r")\b")
_LEVEL = re.compile(r"(?i)^(" + "|".join((*LEVELS, "đặc khu")) + ") ")
_HAS_PLACE = re.compile(r"(?i)\s(" + "|".join(LEVELS) + r")\s\S")


def compose(raw: list[RawEnt], norm: str, surnames: set[str], places: dict[str, str]) -> list[RawEnt]:
    """The passes, in order: open-ended body names, pieces joined, signature lines split."""
    raw = open_bodies(raw, norm, places)
    return split_signature_lines(join_bodies(raw, norm, places), norm, surnames, places)


# Heads of bodies whose field is an open phrase, mostly in lower case ("Cục Quản lý
# thị trường tỉnh", "Trung tâm Phục vụ hành chính công tỉnh Hưng Yên"): no gazetteer
# lists them all, and only the level word ("tỉnh", "huyện") says surely where the
# name ends, so the shape is taken only when it ends with one.
_OPEN_HEADS = ("Trung tâm", "Tổng cục", "Chi cục", "Cục", "Viện", "Đài", "Hội đồng", "Ban Chỉ đạo", "Ban Quản lý",
               "Bệnh viện", "Kho bạc", "Quỹ", "Tổng công ty")
_LOWER_FIELD_OK = ("Ban Chỉ đạo", "Ban Quản lý", "Hội đồng")  # "Ban Chỉ đạo phòng, chống tham nhũng tỉnh"
_OPEN_RE = re.compile(r"(?<!\w)(" + "|".join(re.escape(h) for h in _OPEN_HEADS) + r")((?:,? [^\W\d_]+| -){1,14}?) "
                      r"(" + "|".join(UPPER_LEVELS) + r")(?!\w)")
# Words that belong to the sentence, never inside a body's name.
_SENTENCE_WORDS = frozenset("của đã được tại với cho là có các những để về từ đến sẽ đang này đó khi nếu theo "
                            "họp gửi nộp trao tặng ký".split())
# Verbs of official prose: a field that holds one has run into the sentence
# ("Tổng cục Thống kê công bố số liệu dân số tỉnh Hưng Yên").
_SENTENCE_VERBS = re.compile(r"(?<!\w)(công bố|ban hành|chỉ đạo|báo cáo|tiếp nhận|thẩm định|phối hợp|kiểm tra|"
                             r"cảnh báo|tổ chức|triển khai|thực hiện|yêu cầu|đề nghị|đề xuất|quyết định|hướng dẫn|"
                             r"làm việc|phát hiện|khai giảng|thông báo|chủ trì|tổng hợp|xem xét|biên soạn|"
                             r"vận động|giám sát|chi trả|bàn giao)(?!\w)")


def open_bodies(raw: list[RawEnt], norm: str, places: dict[str, str]) -> list[RawEnt]:
    """Bodies of the shape <head> <field> <level> [<place>] as one ORG, replacing
    the entities inside them; never across a PER or DATE, nor a partial overlap."""
    out = list(raw)
    for m in _OPEN_RE.finditer(norm):
        head, field = m.group(1), m.group(2)
        words = [w for w in re.split(r"[ ,]+", field) if w and w != "-"]
        if not words or any(w in _SENTENCE_WORDS for w in words) or _SENTENCE_VERBS.search(field):
            continue
        if not words[0][:1].isupper() and head not in _LOWER_FIELD_OK:
            continue
        end = m.end()
        rest = norm[end:end + 40].split("\n")[0]
        for n in (3, 2, 1):
            cand = " ".join(rest.split()[:n])
            if rest.startswith(" ") and cand in places and not cand[:1].islower():
                end += 1 + len(cand)
                break
        start = m.start()
        inside = [e for e in out if start <= e[0] and e[1] <= end]
        crossing = [e for e in out if e[0] < end and start < e[1] and e not in inside]
        if crossing or any(e[2] in ("PER", "DATE") for e in inside):
            continue
        if any((e[0], e[1]) == (start, end) for e in inside):
            continue
        out = [e for e in out if e not in inside] + [(start, end, "ORG", "")]
    return sorted(out)


def _adjacent(a: RawEnt, b: RawEnt, norm: str) -> bool:
    return a[1] + 1 == b[0] and norm[a[1]] == " "


def _body_complete(ent: RawEnt, norm: str, places: dict[str, str]) -> bool:
    """A body span that already ends with its level and place ("UBND huyện Đông Hưng")."""
    text = norm[ent[0]:ent[1]]
    return bool(_HAS_PLACE.search(text)) or ent[3].count("|") == 2 or any(
        text.endswith(" " + p) for p in places)


def join_bodies(raw: list[RawEnt], norm: str, places: dict[str, str]) -> list[RawEnt]:
    """Join a body head and the level-and-place right after it into one ORG.

    - ORG + LOC "<level> <place>" ("Trung tâm Y tế" "huyện Đông Hưng") when the
      ORG does not already end with a place;
    - a bare head with no entity of its own + that LOC ("Chi bộ" "thôn Lạc Thiện");
    - an organ + the committee ORG ("Ủy ban Kiểm tra" "Đảng ủy Khối các cơ quan tỉnh");
    - an office with no entity + a committee or council ("Văn phòng" "UBND thành phố").
    """
    ents = sorted(raw)
    out: list[RawEnt] = []
    for ent in ents:
        prev = out[-1] if out else None
        text = norm[ent[0]:ent[1]]
        if prev and prev[2] == "ORG" and _adjacent(prev, ent, norm):
            prev_text = norm[prev[0]:prev[1]]
            joins_place = ent[2] == "LOC" and _LEVEL.match(text) and not _body_complete(prev, norm, places)
            joins_organ = ent[2] == "ORG" and _ORGANS.match(prev_text) and _COMMITTEE.match(text)
            if joins_place or joins_organ:
                out[-1] = (prev[0], ent[1], "ORG", "")
                continue
        if ent[2] == "ORG" and _COUNCIL.match(text):
            office = _OFFICE_RE.search(norm, max(0, ent[0] - 14), ent[0])
            if office and not any(o[1] > office.start() for o in out):
                out.append((office.start(), ent[1], "ORG", ""))
                continue
        if ent[2] == "LOC" and _LEVEL.match(text):
            head = _HEAD_RE.search(norm, max(0, ent[0] - 24), ent[0])
            if head and not any(o[1] > head.start() for o in out):
                out.append((head.start(), ent[1], "ORG", ""))
                continue
        out.append(ent)
    return out


def _name_groups(words: list[str], surnames: set[str]) -> list[int] | None:
    """Start indexes of two or more names of 2–4 syllables, each opening with a
    family name, covering ``words``; None when the words are not such a row."""
    n = len(words)
    best: list[int] | None = None

    def walk(i: int, starts: list[int]) -> None:
        nonlocal best
        if best is not None:
            return
        if i == n:
            if len(starts) >= 2:
                best = list(starts)
            return
        if words[i] not in surnames:
            return
        for size in (3, 2, 4):
            if i + size <= n and all(w[:1].isupper() and w[1:].islower() or len(w) == 1 and w.isupper()
                                     for w in words[i:i + size]):
                walk(i + size, starts + [i])

    walk(0, [])
    return best


def split_signature_lines(raw: list[RawEnt], norm: str, surnames: set[str], places: dict[str, str]) -> list[RawEnt]:
    """A line of nothing but two or more capitalized names, each opening with a
    family name, is two signature columns read across: one PER per name.

    Only lines whose every word is capitalized and whose entities are PERs
    (or none) are touched, so a place or body on the line keeps it as it is.
    """
    out = list(raw)
    pos = 0
    for line in norm.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        words = line.split()
        if len(words) < 4 or len(words) > 12 or any(not w[:1].isupper() for w in words):
            continue
        inside = [e for e in out if start <= e[0] and e[1] <= end + 1 and e[0] < end]
        if any(e[2] != "PER" for e in inside):
            continue
        groups = _name_groups(words, surnames)
        if groups is None:
            continue
        spans: list[tuple[int, int]] = []
        offsets, at = [], start
        for w in words:
            at = norm.index(w, at)
            offsets.append((at, at + len(w)))
            at += len(w)
        bounds = groups + [len(words)]
        for a, b in zip(bounds, bounds[1:]):
            name = " ".join(words[a:b])
            if name in places:
                break
            spans.append((offsets[a][0], offsets[b - 1][1]))
        else:
            out = [e for e in out if e not in inside] + [(s, e, "PER", "") for s, e in spans]
    return sorted(out)
