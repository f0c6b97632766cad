"""The one Vietnamese text normalization layer.

Every text path — OCR output, extraction, indexing, entity recognition and every
query — goes through these functions, so that the same word written in two ways
is one word everywhere:

* ``normalize``: Unicode NFC, one canonical tone-mark placement (the "old"
  style used by most Party documents: ``hòa``, ``ủy``, ``khỏe``, ``thúy``),
  typographic variants of spaces, quotes and dashes made plain.
* ``fold``: the accent-free form (``đ`` → ``d``) used for a second index field.
  Folding maps one character to one character, so offsets in the folded text
  are offsets in the original text: a hit found on the folded form can be
  marked on the original with its diacritics intact.
* ``tokens``: syllable tokens with their offsets, the unit of matching.

Word segmentation (multi-syllable words) lives in ``kholuu.segment`` because it
loads a model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from kholuu.cache import BoundedCache

# Combining marks that carry the five Vietnamese tones.
_TONE_MARKS = {
    "\u0300": "grave",      # huyền
    "\u0301": "acute",      # sắc
    "\u0303": "tilde",      # ngã
    "\u0309": "hook",       # hỏi
    "\u0323": "dot",        # nặng
}
# Vowel letters (base, without tone) that can carry a tone mark.
_VOWELS = set("aăâeêioôơuưy")

_SPACE_VARIANTS = dict.fromkeys(map(ord, "\u00a0\u2002\u2003\u2007\u2009\u200a\u202f\u3000\t\u000b\u000c"), " ")
_DASH_VARIANTS = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2212"), "-")
_QUOTE_VARIANTS = {ord("\u201c"): '"', ord("\u201d"): '"', ord("\u201e"): '"', ord("\u00ab"): '"',
                   ord("\u00bb"): '"', ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201a"): "'"}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)
_TRANSLATE = {**_SPACE_VARIANTS, **_DASH_VARIANTS, **_QUOTE_VARIANTS, **_ZERO_WIDTH}

_SYLLABLE_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def _split_tone(syllable: str) -> tuple[str, str | None, int | None]:
    """Return (syllable without its tone, tone mark, index of the toned letter)."""
    decomposed = unicodedata.normalize("NFD", syllable)
    letters: list[str] = []
    tone: str | None = None
    tone_at: int | None = None
    for ch in decomposed:
        if ch in _TONE_MARKS:
            if tone is None:
                tone, tone_at = ch, len(letters) - 1
            continue
        if unicodedata.combining(ch):
            letters[-1] += ch
        else:
            letters.append(ch)
    bare = unicodedata.normalize("NFC", "".join(letters))
    return bare, tone, tone_at


def _base(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0].lower()


@lru_cache(maxsize=65536)
def canonical_syllable(syllable: str) -> str:
    """Put the tone mark of one syllable where the canonical style wants it.

    Only open syllables ending in ``oa``, ``oe`` or ``uy`` differ between the
    styles (``hoà``/``hòa``, ``khoẻ``/``khỏe``, ``thuỷ``/``thủy``); ``qu`` and
    ``gi`` onsets and syllables with a final consonant are left as they are.
    Anything that does not look like a Vietnamese syllable is returned as is.
    """
    bare, tone, tone_at = _split_tone(syllable)
    if tone is None or len(bare) < 2:
        return unicodedata.normalize("NFC", syllable)
    lower = bare.lower()
    if lower[-2:] not in ("oa", "oe", "uy"):
        return unicodedata.normalize("NFC", syllable)
    before = lower[:-2]
    if before.endswith("q") or (before.endswith("g") and lower[-2] == "i"):
        return unicodedata.normalize("NFC", syllable)
    if any(_base(c) in _VOWELS for c in before):
        return unicodedata.normalize("NFC", syllable)  # not an onset + oa/oe/uy
    target = len(bare) - 2
    if tone_at == target:
        return unicodedata.normalize("NFC", syllable)
    chars = list(bare)
    chars[target] = unicodedata.normalize("NFC", chars[target] + tone)
    return "".join(chars)


# Only syllables ending in oa/oe/uy (each letter bare or with a tone mark) can
# change, so only those are looked at: find such an ending at the end of a
# syllable, then walk back to the syllable's start (the same boundaries as
# _SYLLABLE_RE). This keeps normalize fast on page-sized text, which every
# index build runs over millions of pages.
_O, _AE, _U, _Y = "oòóỏõọ", "aàáảãạeèéẻẽẹ", "uùúủũụ", "yỳýỷỹỵ"
_CANDIDATE_END_RE = re.compile(  # both cases spelled out: twice as fast as IGNORECASE
    f"(?:[{_O}{_O.upper()}][{_AE}{_AE.upper()}]|[{_U}{_U.upper()}][{_Y}{_Y.upper()}])(?![^\\W\\d_])")
_SYLLABLE_CHAR_RE = re.compile(r"[^\W\d_]")


def _canonical_tones(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _CANDIDATE_END_RE.finditer(text):
        start = m.start()
        while start > pos and _SYLLABLE_CHAR_RE.match(text, start - 1):
            start -= 1
        out.append(text[pos:start])
        out.append(canonical_syllable(text[start:m.end()]))
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_NEEDS_TRANSLATE_RE = re.compile("[" + re.escape("".join(map(chr, _TRANSLATE))) + "]")


def normalize(text: str) -> str:
    """NFC, canonical tone placement, plain spaces, quotes and dashes.

    Line breaks are kept (layout matters to metadata extraction); runs of spaces
    inside a line collapse to one. The result is what the catalog stores and the
    index sees.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    if _NEEDS_TRANSLATE_RE.search(text):
        text = text.translate(_TRANSLATE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _canonical_tones(text)
    text = re.sub(r"[ ]{2,}", " ", text)
    return text


def _is_canonical_chunk(chunk: str) -> bool:
    return _canonical_tones(chunk) == chunk


# Whitespace-free chunk → whether its tone marks are already canonical: a page
# repeats its syllables, so tone placement is looked at once per distinct chunk.
_CANONICAL_CHUNKS: BoundedCache[str, bool] = BoundedCache(_is_canonical_chunk, 200_000)


def is_normalized(text: str, chunks: Iterable[str] | None = None) -> bool:
    """``normalize(text) == text``, cheaply for text that is normalized already.

    Stored text (the catalog's pages) was normalized when it was written; the
    index re-checks it instead of normalizing it again: the checks of NFC,
    special characters, line ends and space runs run in C, and tone placement
    is looked up per distinct chunk between whitespace (a syllable never
    spans whitespace), so a page costs a third of ``normalize``. ``chunks``:
    the text's whitespace-separated chunks (distinct is enough) when the
    caller has split it already.
    """
    return (not text or (unicodedata.is_normalized("NFC", text) and not _NEEDS_TRANSLATE_RE.search(text)
                         and "\r" not in text and "  " not in text
                         and all(map(_CANONICAL_CHUNKS.__getitem__, text.split() if chunks is None else chunks))))


def normalize_query(text: str) -> str:
    """Normalization for a search query: as ``normalize``, on one line."""
    return re.sub(r"\s+", " ", normalize(text)).strip()


_FOLD_SPECIAL = {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _FOLD_SPECIAL:
        return _FOLD_SPECIAL[ch]
    if ord(ch) < 128:
        return ch
    base = unicodedata.normalize("NFD", ch)[0]
    return base if len(base) == 1 else ch


def fold(text: str) -> str:
    """Remove diacritics (``đ`` → ``d``), one character for one character.

    ``len(fold(t)) == len(t)`` for NFC text, so offsets carry over.
    """
    return "".join(_fold_char(c) for c in text)


def has_diacritics(text: str) -> bool:
    return fold(text) != text


@dataclass(frozen=True)
class Token:
    text: str     # as in the (normalized) source text
    start: int
    end: int

    @property
    def key(self) -> str:
        """Lower-case exact form, the unit of exact matching."""
        return self.text.lower()

    @property
    def folded(self) -> str:
        return fold(self.text).lower()


_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[Token]:
    """Word-character runs (syllables, numbers) with their offsets."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def exact_form(text: str) -> str:
    """Lower-cased normalized text: the exact-match index form."""
    return normalize(text).lower()


def folded_form(text: str) -> str:
    """Lower-cased, accent-free normalized text: the folded index form."""
    return fold(normalize(text)).lower()


# --------------------------------------------------------------------------
# Lost spaces (e-office and OCR artefacts). Separate from ``normalize`` on
# purpose: it changes lengths, so it is applied where offsets do not matter
# (metadata parsing, queries), never to text whose offsets are stored.

_LOST_SPACE_WORD_DIGIT = re.compile(r"(?<![\w])(ngày|tháng|năm|Ngày|Tháng|Năm|Số|số)(?=\d)")
_LOST_SPACE_DIGIT_WORD = re.compile(r"(?<=\d)(tháng|năm)(?![\w])")
_WORD_RE = re.compile(r"[^\W\d_]+")


def _is_title_syllable(s: str) -> bool:
    return s[:1].isupper() and s[1:].islower()


def repair_spaces(text: str) -> str:
    """Put back spaces lost between syllables: "BộChính trị" → "Bộ Chính trị",
    "ngày15 tháng 5" → "ngày 15 tháng 5", "tháng 01năm" → "tháng 01 năm".

    Only the two safe cases are repaired: a title-case syllable glued to the
    next title-case syllable, and the date words glued to their numbers.
    Codes such as "TTg", "CTr", "QH15" and "COVID-19" are left alone.
    """
    if not text:
        return ""
    text = _LOST_SPACE_WORD_DIGIT.sub(r"\1 ", text)
    text = _LOST_SPACE_DIGIT_WORD.sub(r" \1", text)

    def camel(m: re.Match[str]) -> str:
        word = m.group(0)
        for k in range(2, len(word) - 1):
            left, right = word[:k], word[k:]
            if word[k - 1].islower() and word[k].isupper() and _is_title_syllable(left) and len(left) <= 7 \
                    and len(right) >= 2 and right[1].islower():
                return left + " " + camel(re.match(r".+", right))  # type: ignore[arg-type]
        return word

    return _WORD_RE.sub(camel, text)


# --------------------------------------------------------------------------
# Legacy 8-bit encodings of born-digital files: TCVN3 (ABC) and VNI Windows.
# Both are read as Latin-1 characters (that is how the bytes appear once a
# file is decoded as Latin-1/cp1252, and how .doc extracts show them).

class LegacyEncodingError(Exception):
    """Text is neither Unicode Vietnamese nor TCVN3/VNI (see ``decode_legacy``)."""


# TCVN3 (ABC): one byte per lower-case toned letter; capitals only for the bare
# letters. Keys are the Latin-1 characters of the bytes.
_TCVN3 = {
    "µ": "à", "¸": "á", "¶": "ả", "·": "ã", "¹": "ạ",
    "¨": "ă", "»": "ằ", "¾": "ắ", "¼": "ẳ", "½": "ẵ", "Æ": "ặ",
    "©": "â", "Ç": "ầ", "Ê": "ấ", "È": "ẩ", "É": "ẫ", "Ë": "ậ",
    "®": "đ",
    "Ì": "è", "Ð": "é", "Î": "ẻ", "Ï": "ẽ", "Ñ": "ẹ",
    "ª": "ê", "Ò": "ề", "Õ": "ế", "Ó": "ể", "Ô": "ễ", "Ö": "ệ",
    "×": "ì", "Ý": "í", "Ø": "ỉ", "Ü": "ĩ", "Þ": "ị",
    "ß": "ò", "ã": "ó", "á": "ỏ", "â": "õ", "ä": "ọ",
    "«": "ô", "å": "ồ", "è": "ố", "æ": "ổ", "ç": "ỗ", "é": "ộ",
    "¬": "ơ", "ê": "ờ", "í": "ớ", "ë": "ở", "ì": "ỡ", "î": "ợ",
    "ï": "ù", "ó": "ú", "ñ": "ủ", "ò": "ũ", "ô": "ụ",
    "\u00ad": "ư", "õ": "ừ", "ø": "ứ", "ö": "ử", "÷": "ữ", "ù": "ự",
    "ú": "ỳ", "ý": "ý", "û": "ỷ", "ü": "ỹ", "þ": "ỵ",
    "¡": "Ă", "¢": "Â", "§": "Đ", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư",
}
# characters that never occur in Unicode Vietnamese text but do in TCVN3
_TCVN3_ONLY = set("µ¸¶·¹¨»¾¼½Æ©ÇËÐÎÏÑªÖ×ØÜÞßåæçëîïñöø÷þûü¡¢§£¤¥¦®«¬\u00ad")

# VNI Windows: base letter followed by a mark character.
_VNI_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_TONES_UP = {"Ù": "\u0301", "Ø": "\u0300", "Û": "\u0309", "Õ": "\u0303", "Ï": "\u0323"}
_VNI_CIRC = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_CIRC_UP = {"Â": "", "Á": "\u0301", "À": "\u0300", "Å": "\u0309", "Ã": "\u0303", "Ä": "\u0323"}
_VNI_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_BREVE_UP = {"Ê": "", "É": "\u0301", "È": "\u0300", "Ú": "\u0309", "Ü": "\u0303", "Ë": "\u0323"}


def _vni_table() -> dict[str, str]:
    t: dict[str, str] = {}

    def put(key: str, base: str, mark: str) -> None:
        t[key] = unicodedata.normalize("NFC", base + mark)

    for v in "aeiouy":
        for k, mark in _VNI_TONES.items():
            put(v + k, v, mark)
        for k, mark in _VNI_TONES_UP.items():
            put(v.upper() + k, v.upper(), mark)
    for v, circ in (("a", "\u0302"), ("e", "\u0302"), ("o", "\u0302")):
        for k, mark in _VNI_CIRC.items():
            put(v + k, v + circ, mark)
        for k, mark in _VNI_CIRC_UP.items():
            put(v.upper() + k, v.upper() + circ, mark)
    for k, mark in _VNI_BREVE.items():
        put("a" + k, "a\u0306", mark)
    for k, mark in _VNI_BREVE_UP.items():
        put("A" + k, "A\u0306", mark)
    # horned letters: ơ = "ô", ư = "ö"; their tones follow
    for key, base in (("ô", "o\u031b"), ("ö", "u\u031b"), ("Ô", "O\u031b"), ("Ö", "U\u031b")):
        put(key, base, "")
        for k, mark in {**_VNI_TONES, **_VNI_TONES_UP}.items():
            put(key + k, base, mark)
    t.update({"í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ",
              "Ò": "Ị", "î": "ỵ", "Î": "Ỵ", "ñ": "đ", "Ñ": "Đ"})
    return t


_VNI = _vni_table()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, _VNI), key=len, reverse=True)))
_VNI_BASES = set("aeiouyAEIOUYôöÔÖ")
_VNI_PAIR_RE = re.compile(r"[aeiouyAEIOUYôöÔÖ][ùøûõïâáàåãäêéèúüëÙØÛÕÏÂÁÀÅÃÄÊÉÈÚÜË]")
_UNICODE_VI_RE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")
_MOJIBAKE_RE = re.compile(r"(?:Ã.|áº|á»|Æ°|Ä‘|Ä|Æ¡)")


def detect_encoding(text: str) -> str:
    """"unicode", "tcvn3", "vni", "ascii" or "unknown" for a piece of text."""
    if not text or all(ord(c) < 128 for c in text):
        return "ascii"
    n = max(1, sum(1 for c in text if c.isalpha()))
    # a VNI mark always follows its vowel; a TCVN3 letter stands for the vowel itself
    tcvn = sum(1 for i, c in enumerate(text) if c in _TCVN3_ONLY and (i == 0 or text[i - 1] not in _VNI_BASES))
    vni = len(_VNI_PAIR_RE.findall(text)) + text.count("ñ") + text.count("Ñ")
    uni = len(_UNICODE_VI_RE.findall(text))
    if uni / n > 0.05 and uni > 2 * (tcvn + vni):
        return "unicode"
    # legacy text has a legacy letter in most words; "© 2020" or "5 µm" in English does not
    if tcvn >= 2 and tcvn >= vni and tcvn / n > 0.06:
        return "tcvn3"
    if vni >= 2 and vni / n > 0.06:
        return "vni"
    if uni:
        return "unicode"
    return "unknown"


def _restore_caps(original: str, converted: str) -> str:
    """TCVN3 capitals were typed in an upper-case font with lower-case codes.

    A word whose ASCII letters are all capitals (two at least) is a capitalized
    word; on a line where every word with ASCII letters is such a word, the
    whole line is (so "X·" in "CéNG HOµ X· HéI" is "XÃ", but "X·" alone is "Xã").
    """
    out_lines = []
    for o_line, c_line in zip(original.split("\n"), converted.split("\n")):
        o_words, c_words = re.split(r"(\s+)", o_line), re.split(r"(\s+)", c_line)
        flags = []
        for o in o_words:
            letters = [ch for ch in o if ch.isascii() and ch.isalpha()]
            flags.append(None if not letters else (all(ch.isupper() for ch in letters), len(letters)))
        known = [f for f in flags if f is not None and f[1] >= 2]
        caps_line = len(known) >= 2 and all(f[0] for f in known)
        words = []
        for c, f in zip(c_words, flags):
            if f is not None and f[0] and (f[1] >= 2 or caps_line):
                c = c.upper()
            words.append(c)
        out_lines.append("".join(words))
    return "\n".join(out_lines)


def decode_legacy(text: str) -> str:
    """Convert TCVN3 (ABC) or VNI text to Unicode (NFC); Unicode passes unchanged.

    Also repairs UTF-8 that was read as cp1252 ("Viá»‡t" → "Việt"). Raises
    ``LegacyEncodingError`` for non-ASCII text that is none of these.
    """
    kind = detect_encoding(text)
    if kind in ("ascii", "unicode"):
        if kind == "unicode" or not _MOJIBAKE_RE.search(text):
            return text
    if _MOJIBAKE_RE.search(text):
        try:
            fixed = text.encode("cp1252").decode("utf-8")
            if detect_encoding(fixed) == "unicode":
                return fixed
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    if kind == "tcvn3":
        converted = "".join(_TCVN3.get(c, c) for c in text)
        return unicodedata.normalize("NFC", _restore_caps(text, converted))
    if kind == "vni":
        return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: _VNI[m.group(0)], text))
    raise LegacyEncodingError("text is neither Unicode Vietnamese nor TCVN3/VNI")


def decode_bytes(data: bytes) -> str:
    """Bytes of a text file → Unicode: UTF-8 (with or without BOM, UTF-16 with a
    BOM), or 8-bit TCVN3/VNI. Raises ``LegacyEncodingError`` otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return decode_legacy(data.decode("utf-16"))
        except UnicodeDecodeError:
            raise LegacyEncodingError("not valid UTF-16 text") from None
    if b"\x00" in data:
        raise LegacyEncodingError("binary data, not text")
    try:
        return decode_legacy(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")
    kind = detect_encoding(text)
    if kind in ("tcvn3", "vni"):
        return decode_legacy(text)
    raise LegacyEncodingError("not UTF-8 text and not TCVN3/VNI")


# --------------------------------------------------------------------------
# Normalization with offsets back into the original text.

def normalize_with_offsets(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``normalize(text)`` and, for each of its characters, the (start, end)
    span of the original characters it came from.

    NFC composition, CRLF → LF and the collapse of space runs change lengths;
    this keeps track of them in one linear pass so that entities or hits
    found on the normalized text can be marked on the text as stored. A span
    of normalized characters ``[s, e)`` is ``[spans[s][0], spans[e - 1][1])``
    in the original.
    """
    if not text:
        return "", []
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        cluster = text[i:j]
        if cluster == "\r":
            if j < n and text[j] == "\n":
                j += 1
            chars.append("\n")
            spans.append((i, j))
        else:
            for ch in unicodedata.normalize("NFC", cluster).translate(_TRANSLATE):
                chars.append(ch)
                spans.append((i, j))
        i = j
    toned = _canonical_tones("".join(chars))
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    if len(toned) != len(chars):  # cannot happen for NFC input; stay correct anyway
        norm = normalize(text)
        return norm, [(min(k, n - 1), min(k + 1, n)) for k in range(len(norm))]
    for ch, span in zip(toned, spans):
        if ch == " " and out and out[-1] == " ":
            out_spans[-1] = (out_spans[-1][0], span[1])
            continue
        out.append(ch)
        out_spans.append(span)
    return "".join(out), out_spans
