"""One abbreviation table for extraction and search, read by one loader in core."""

from __future__ import annotations

from pathlib import Path

import pytest

import kholuu.abbreviations as abbreviations
from extraction.abbrev import doc_type_codes, doc_type_for_code, expand_abbreviations
from indexing.abbrev import doc_type_name, expand_query
from indexing.query import parse_query
from kholuu.errors import InputFileError


def test_extraction_and_search_read_the_same_table():
    table = abbreviations.abbreviation_table()
    assert doc_type_codes() is table.doc_types
    # a code the search copy used to lack now expands in search and extraction alike
    assert expand_abbreviations("UBMTTQ") == ["Ủy ban Mặt trận Tổ quốc"]
    assert [t.text for t in expand_query(parse_query("UBMTTQ")).groups[0]] == ["ubmttq", "ủy ban mặt trận tổ quốc"]
    assert doc_type_for_code("NĐ") == doc_type_name("NĐ") == "Nghị định"


def test_a_damaged_table_is_an_error_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bad = tmp_path / "abbreviations.yaml"
    bad.write_text("bodies: [unclosed\n", encoding="utf-8")
    monkeypatch.setattr(abbreviations, "DATA_FILE", bad)
    abbreviations.abbreviation_table.cache_clear()
    try:
        with pytest.raises(InputFileError, match="abbreviations.yaml: cannot read the abbreviation table"):
            abbreviations.abbreviation_table()
        bad.write_text("- just a list\n", encoding="utf-8")
        with pytest.raises(InputFileError, match="must be a mapping"):
            abbreviations.abbreviation_table()
    finally:
        abbreviations.abbreviation_table.cache_clear()

