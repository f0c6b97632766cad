"""Abbreviation tables (``extraction/data/abbreviations.yaml``), read once.

The table is data so that archivists can add the codes of their own fonds
without touching code. ``expand_abbreviations`` is what the search layer uses
to make "TU" find "Tỉnh ủy"; ``doc_type_for_code`` turns the type code of a
number/symbol ("CT" in "08-CT/TU") into the full document type name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from kholuu.textnorm import normalize

DATA_DIR = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    with open(DATA_DIR / "abbreviations.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    bodies = {normalize(str(k)): [normalize(str(v)) for v in vals] for k, vals in (raw.get("bodies") or {}).items()}
    types = {normalize(str(k)): normalize(str(v)) for k, v in (raw.get("doc_types") or {}).items()}
    return {"bodies": bodies, "doc_types": types}


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
