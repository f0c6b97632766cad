"""Post-OCR correction that knows Vietnamese document conventions.

Tesseract's errors in Party documents cluster in two places the search and the
metadata extraction care most about: document numbers and symbols (``Số
08-CT/TU`` read as ``Sô O8-CT/TƯ`` or ``08-CTATU``) and dates (``ngày l5 tháng
3 năm 2O21``). The rules here fix letter/digit confusions only inside tokens
that are numbers or symbols, and only into forms that are valid (known type and
organ codes, day 1–31, month 1–12, plausible years). A token that is already a
valid Vietnamese syllable is never changed; text is normalized (NFC, one tone
placement) through ``kholuu.textnorm`` first.

Corrections work word by word (the list keeps its length) so OCR word boxes
stay aligned with the corrected text.
"""

from __future__ import annotations

import re
import unicodedata

from kholuu.textnorm import fold, normalize

DOC_TYPES = ["NQ", "CT", "KL", "QĐ", "QĐi", "QC", "TB", "HD", "BC", "KH", "CTr", "TTr", "BB", "TT", "CV",
             "ĐA", "QyĐ", "TTr", "BCĐ", "CTHĐ", "NQLT", "HDLT", "TBLT", "KH", "QyĐ", "PA", "BCT"]
ORGANS = ["TW", "VPTW", "BTCTW", "BTGTW", "UBKTTW", "BDVTW", "BCĐTW", "TU", "HU", "ThU", "QU", "ĐU", "VPTU",
          "UBKTTU", "BTCTU", "BTGTU", "BDVTU", "BCĐ", "ĐUK", "ĐUKCCQ", "ĐUKDN", "BCS", "ĐĐ", "TĐTN"]
_TYPE_SET = {t.upper(): t for t in DOC_TYPES}
_ORGAN_SET = {o.upper(): o for o in ORGANS}
# letters OCR commonly produces instead of digits
_TO_DIGIT = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "I": "1", "l": "1", "|": "1", "!": "1",
                           "i": "1", "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "g": "9", "q": "9",
                           "G": "6", "b": "6", "T": "7"})
_CONFUSABLE = set("OoQDIl|!iZzSsBgqGbT")
# what Tesseract reads for the slash between type and organ
_SLASH_LIKE = set("/|lI1A7\\")

_ONSETS = sorted(["ngh", "ng", "gh", "gi", "kh", "nh", "ph", "qu", "th", "tr", "ch", "b", "c", "d", "đ", "g",
                  "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", ""], key=len, reverse=True)
_NUCLEI = {"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ia", "iê", "ya", "yê", "ua", "uô", "ưa",
           "ươ", "oa", "oă", "oe", "uâ", "uê", "uy", "uyê", "uya", "oo", "ưo"}
_CODAS = ["ch", "ng", "nh", "c", "m", "n", "p", "t", "i", "y", "o", "u", ""]
_STOP_CODAS = {"c", "ch", "p", "t"}
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def is_valid_syllable(word: str) -> bool:
    """Structural check: onset + vowel nucleus + coda, with the stop-final tone rule."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    if not bare or not all(c.isalpha() for c in bare):
        return False
    for onset in _ONSETS:
        if not bare.startswith(onset):
            continue
        rhyme = bare[len(onset):]
        if onset == "gi" and (rhyme == "" or rhyme[0] not in "aăâeêoôơuưy"):
            rhyme = "i" + rhyme  # "gì", "gìn": the i is the vowel
        for coda in _CODAS:
            if coda and not rhyme.endswith(coda):
                continue
            nucleus = rhyme[: len(rhyme) - len(coda)]
            if nucleus in _NUCLEI:
                if coda in _STOP_CODAS and tones and tones[0] not in ("\u0301", "\u0323"):
                    continue
                return True
    return False


def _digits(token: str) -> str | None:
    """``token`` with confusable letters read as digits, if it then is all digits."""
    if not token or not any(c.isdigit() for c in token) and len(token) > 2:
        return None
    if not all(c.isdigit() or c in _CONFUSABLE for c in token):
        return None
    fixed = token.translate(_TO_DIGIT)
    return fixed if fixed.isdigit() else None


_SYMBOL_RE = re.compile(r"^(?P<num>[0-9OoIl|]{1,5})\s*(?P<sep>[-–—~_/])\s*(?P<rest>[A-Za-zĐđƯư0-9/|\\]{2,16})$")
_STATE_RE = re.compile(r"^(?P<num>[0-9OoIl|]{1,6})\s*/\s*(?P<type>[A-Za-zĐđ]{1,5})\s*[-–—~]\s*(?P<org>[A-Za-zĐđ0-9-]{2,16})$")


def _code(text: str, table: dict[str, str]) -> str | None:
    """A known type/organ code for ``text``, allowing the usual misreadings:
    Ư for U, 0 for O, O for Q (``NO`` → ``NQ``), a lost bar on Đ (``QD`` → ``QĐ``)."""
    key = text.upper().replace("Ư", "U").replace("0", "O")
    for candidate in (key, key.replace("O", "Q"), key.replace("D", "Đ", 1)):
        if candidate in table:
            return table[candidate]
    return None


def correct_symbol(token: str) -> str:
    """``O8-CTATU`` → ``08-CT/TU``; ``12/QD-UBND`` → ``12/QĐ-UBND``; else unchanged."""
    core, trail = token, ""
    while core and core[-1] in ".,;:)":
        core, trail = core[:-1], core[-1] + trail
    m = _SYMBOL_RE.match(core)
    if m:
        num = _digits(m.group("num"))
        rest = m.group("rest")
        if num is not None:
            for i in range(1, len(rest)):
                t = _code(rest[:i], _TYPE_SET)
                if not t:
                    continue
                for skip in (1, 0):
                    if skip and rest[i] not in _SLASH_LIKE:
                        continue
                    o = _code(rest[i + skip:], _ORGAN_SET)
                    if o:
                        sep = "/" if m.group("sep") == "/" else "-"
                        return f"{num}{sep}{t}/{o}{trail}"
    m = _STATE_RE.match(core)
    if m:
        num = _digits(m.group("num"))
        t = m.group("type")
        fixed_t = t if t.upper() not in ("QD",) else "QĐ"
        if num is not None:
            return f"{num}/{fixed_t}-{m.group('org')}{trail}"
    return token


def _fold_key(word: str) -> str:
    return fold(word).lower().strip(".,:;")


def _fix_number(token: str, low: int, high: int) -> str:
    core, trail = token, ""
    while core and core[-1] in ".,;:":
        core, trail = core[:-1], core[-1] + trail
    if core.isdigit() or not core:
        return token
    fixed = _digits(core)
    if fixed is not None and low <= int(fixed) <= high:
        return fixed + trail
    return token


def correct_words(words: list[str]) -> list[str]:
    """Correct a page's words in reading order; the result has the same length."""
    out = [normalize(w) for w in words]
    for i, word in enumerate(out):
        if word.isalpha() and is_valid_syllable(word):
            continue
        prev = _fold_key(out[i - 1]) if i else ""
        if any(c in word for c in "-/") and any(c.isdigit() for c in word):
            out[i] = correct_symbol(word)
        elif prev == "ngay":
            out[i] = _fix_number(word, 1, 31)
        elif prev == "thang":
            out[i] = _fix_number(word, 1, 12)
        elif prev == "nam":
            out[i] = _fix_number(word, 1900, 2100)
        elif prev == "so" and any(c.isdigit() for c in word):
            out[i] = correct_symbol(word)
        elif len(word) == 4 and sum(c.isdigit() for c in word) >= 3:
            out[i] = _fix_number(word, 1900, 2100)  # a year anywhere: 2O21
    return out


def correct_text(text: str) -> str:
    """``correct_words`` over a text, keeping its line breaks and spacing."""
    lines = []
    for line in normalize(text).split("\n"):
        parts = re.split(r"( +)", line)
        words = parts[0::2]
        fixed = correct_words(words)
        parts[0::2] = fixed
        lines.append("".join(parts))
    return "\n".join(lines)
