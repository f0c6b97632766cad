"""One bounded memo for the hot per-chunk and per-token lookups of text analysis.

Indexing looks the same few thousand syllables up over and over (a page is
mostly repeats), so a plain dict lookup per chunk replaces the regex, case and
fold work. A dict subclass with ``__missing__`` keeps the hit path in C
(``map(cache.__getitem__, chunks)`` never enters Python for a known key).
"""

from __future__ import annotations

from typing import Callable, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(dict[K, V]):
    """``cache[key]`` is ``compute(key)``, computed on the first lookup and kept.

    Bounded: emptied when it holds ``max_size`` keys (OCR noise and numbers make
    the set of keys open-ended; a full clear costs less per lookup than any
    eviction order and the working set is back after a page or two). A lookup
    never fails, even while another thread clears the cache: a missing key is
    computed again.
    """

    __slots__ = ("compute", "max_size")

    def __init__(self, compute: Callable[[K], V], max_size: int):
        super().__init__()
        self.compute = compute
        self.max_size = max_size

    def __missing__(self, key: K) -> V:
        if len(self) >= self.max_size:
            self.clear()
        value = self[key] = self.compute(key)
        return value
