"""The abbreviation table (``kholuu/data/abbreviations.yaml``), read once.

One file and one loader for extraction and search alike: when an archive adds
a code, the extractor reads it in numbers/symbols and the search expands it,
with no second copy to forget. Values come back normalized (``textnorm``), so
callers compare them with normalized text directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from kholuu.errors import InputFileError
from kholuu.textnorm import normalize

DATA_FILE = Path(__file__).resolve().parent / "data" / "abbreviations.yaml"


@dataclass(frozen=True)
class AbbreviationTable:
    bodies: dict[str, list[str]]      # "BTV" → ["Ban Thường vụ"]
    doc_types: dict[str, str]         # "CT" → "Chỉ thị"


@lru_cache(maxsize=1)
def abbreviation_table() -> AbbreviationTable:
    """The table, normalized; a damaged file is an ``InputFileError`` naming it."""
    try:
        raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputFileError(DATA_FILE, f"cannot read the abbreviation table ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise InputFileError(DATA_FILE, "the abbreviation table must be a mapping with `bodies` and `doc_types`")
    bodies = {normalize(str(k)): [normalize(str(v)) for v in (vals or [])]
              for k, vals in (raw.get("bodies") or {}).items()}
    types = {normalize(str(k)): normalize(str(v)) for k, v in (raw.get("doc_types") or {}).items()}
    return AbbreviationTable(bodies=bodies, doc_types=types)
