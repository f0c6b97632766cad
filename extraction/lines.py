"""Small predicates on text lines shared by the header and signature parsers."""

from __future__ import annotations


def is_caps(s: str) -> bool:
    """All letters are capitals (and there is at least one): a printed heading line."""
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 1 and all(c.isupper() for c in letters)
