"""Abbreviations for extraction, from the shared table (``kholuu.abbreviations``).

The table is data so that archivists can add the codes of their own fonds
without touching code. ``expand_abbreviations`` is what the search layer uses
to make "TU" find "Tỉnh ủy"; ``doc_type_for_code`` turns the type code of a
number/symbol ("CT" in "08-CT/TU") into the full document type name.
"""

from __future__ import annotations

from kholuu.abbreviations import abbreviation_table
from kholuu.textnorm import normalize


def _table() -> dict[str, dict]:
    t = abbreviation_table()
    return {"bodies": t.bodies, "doc_types": t.doc_types}


def doc_type_codes() -> dict[str, str]:
    """Type code → full document type name ("CT" → "Chỉ thị")."""
    return _table()["doc_types"]


def doc_type_for_code(code: str) -> str | None:
    codes = doc_type_codes()
    code = normalize(code)
    if code in codes:
        return codes[code]
    upper = {k.upper(): v for k, v in codes.items()}
    return upper.get(code.upper())


def expand_abbreviations(word: str) -> list[str]:
    """The full forms an abbreviation stands for; ``[]`` when it is not one.

    Matching is exact first, then case-insensitive ("Tu" in a query is not
    necessarily "TU", so exact hits come first in the list).
    """
    word = normalize(word).strip()
    if not word:
        return []
    t = _table()
    out: list[str] = []
    for table in (t["bodies"], {k: [v] for k, v in t["doc_types"].items()}):
        if word in table:
            out.extend(table[word])
    if not out:
        up = word.upper()
        for table in (t["bodies"], {k: [v] for k, v in t["doc_types"].items()}):
            for key, values in table.items():
                if key.upper() == up:
                    out.extend(values)
    seen: set[str] = set()
    return [v for v in out if not (v in seen or seen.add(v))]
