"""Vietnamese word segmentation (multi-syllable words) via spaCy ``vi`` + pyvi.

Most Vietnamese words are several syllables ("nông thôn", "Ban Thường vụ");
phrase matching and ranking need to know where words begin and end. pyvi runs
at about 130k characters a second a core: cheap next to OCR, but a rebuild of a
large index that re-segments everything would take hours, so the pipeline
stores ``segmented_form`` once in the catalog and index rebuilds reuse it.

The spaCy pipeline is created once per process, on first use, never at import.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kholuu.textnorm import normalize


@lru_cache(maxsize=1)
def segmenter() -> Any:
    """The blank spaCy ``vi`` pipeline (pyvi tokenizer), built once."""
    import spacy

    return spacy.blank("vi")


def segment(text: str) -> list[str]:
    """Words of the normalized text, multi-syllable words as one item.

    Whitespace is dropped; punctuation and numbers are items of their own.
    ``segment("xây dựng nông thôn mới")`` → ``["xây dựng", "nông thôn", "mới"]``.
    """
    norm = normalize(text or "")
    if not norm.strip():
        return []
    return [t.text for t in segmenter()(norm) if not t.is_space and t.text.strip()]


def segmented_form(text: str) -> str:
    """The normalized text with the spaces inside words replaced by "_".

    ``segmented_form("xây dựng nông thôn mới")`` → ``"xây_dựng nông_thôn mới"``.
    The result has exactly the length of ``normalize(text)`` and the same
    characters except for those underscores, so offsets found on one are
    offsets on the other.
    """
    norm = normalize(text or "")
    if not norm.strip():
        return norm
    chars = list(norm)
    for tok in segmenter()(norm):
        if " " in tok.text and "\n" not in tok.text and not tok.is_space:
            for k, ch in enumerate(tok.text):
                if ch == " ":
                    chars[tok.idx + k] = "_"
    return "".join(chars)
