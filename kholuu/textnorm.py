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


def _canonical_tones(text: str) -> str:
    return _SYLLABLE_RE.sub(lambda m: canonical_syllable(m.group(0)), text)


def normalize(text: str) -> str:
    """NFC, canonical tone placement, plain spaces, quotes and dashes.

    Line breaks are kept (layout matters to metadata extraction); runs of spaces
    inside a line collapse to one. The result is what the catalog stores and the
    index sees.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _canonical_tones(text)
    text = re.sub(r"[ ]{2,}", " ", text)
    return text


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
