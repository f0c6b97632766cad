"""Text error metrics for the OCR benchmarks (no extra dependency).

Both texts go through ``kholuu.textnorm.normalize`` and whitespace is collapsed,
so the scores measure reading, not layout. ``bag_wer`` ignores word order: the
real scans' transcriptions linearize two-column parts in their own order.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from kholuu.textnorm import fold, normalize


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", normalize(text)).strip()


def edit_distance(a: list | str, b: list | str) -> int:
    """Levenshtein distance, one numpy row at a time (fast enough for whole pages)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    vocab: dict = {}
    ai = np.array([vocab.setdefault(x, len(vocab)) for x in a], dtype=np.int64)
    bi = np.array([vocab.setdefault(x, len(vocab)) for x in b], dtype=np.int64)
    idx = np.arange(len(bi) + 1, dtype=np.int64)
    prev = idx.copy()
    for i, ch in enumerate(ai, 1):
        cost = (bi != ch).astype(np.int64)
        tmp = np.empty_like(prev)
        tmp[0] = i
        tmp[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost)
        # row[j] = min_k<=j (tmp[k] + j - k): insertions along the row
        prev = np.minimum.accumulate(tmp - idx) + idx
    return int(prev[-1])


def cer(ref: str, hyp: str) -> float:
    ref, hyp = clean(ref), clean(hyp)
    return edit_distance(ref, hyp) / max(1, len(ref))


def cer_folded(ref: str, hyp: str) -> float:
    ref, hyp = fold(clean(ref)).lower(), fold(clean(hyp)).lower()
    return edit_distance(ref, hyp) / max(1, len(ref))


def wer(ref: str, hyp: str) -> float:
    r, h = clean(ref).split(), clean(hyp).split()
    return edit_distance(r, h) / max(1, len(r))


def bag_wer(ref: str, hyp: str) -> float:
    """Order-free word error: words missing from or extra in the hypothesis."""
    r, h = Counter(clean(ref).lower().split()), Counter(clean(hyp).lower().split())
    missing = sum((r - h).values())
    extra = sum((h - r).values())
    return max(missing, extra) / max(1, sum(r.values()))
