"""Post-OCR correction placeholder (filled in below)."""

from __future__ import annotations


def correct_words(words: list[str]) -> list[str]:
    return list(words)
