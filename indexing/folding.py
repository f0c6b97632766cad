"""``textnorm.fold`` for page-sized text, through one cached translation table.

Same output as ``kholuu.textnorm.fold`` (it calls it once per distinct
character), but ``str.translate`` runs in C: about ten times faster on a page,
which matters when indexing a million pages and marking hits on every result.
"""

from __future__ import annotations

from kholuu.textnorm import fold


class _FoldTable(dict):
    def __missing__(self, code: int) -> str:
        value = fold(chr(code))
        self[code] = value
        return value


_TABLE = _FoldTable()


def fold_text(text: str) -> str:
    """Accent-free text, one character for one character (``đ`` → ``d``)."""
    return text.translate(_TABLE)
