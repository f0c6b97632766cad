"""Page images for the browser: the web side of ``kholuu.derivatives``.

The derivatives themselves (sizes, names, the one decode) are core, shared
with the pipeline that makes them ahead of the readers; here is only what a
request needs: a width clamped to the allowed sizes and the media type.
"""

from __future__ import annotations

from kholuu.derivatives import ALLOWED_WIDTHS, FORMATS, derivative, make_derivatives

DEFAULT_WIDTH = 1000

__all__ = ["ALLOWED_WIDTHS", "DEFAULT_WIDTH", "FORMATS", "clamp_width", "derivative", "make_derivatives",
           "media_type"]


def clamp_width(requested: int | None) -> int:
    """The smallest allowed width at least as wide as asked (or the largest)."""
    if not requested or requested <= 0:
        return DEFAULT_WIDTH
    for w in ALLOWED_WIDTHS:
        if w >= requested:
            return w
    return ALLOWED_WIDTHS[-1]


def media_type(fmt: str) -> str:
    return FORMATS[fmt][1]
