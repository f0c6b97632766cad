"""Entities from the gazetteer EntityRuler, with offsets and linked names."""

from __future__ import annotations

import time

from extraction.entities import entity_pipeline, extract_entities

TEXT = ("Ngày 15 tháng 3 năm 2021, Tỉnh ủy Thái Bình, Tỉnh uỷ Thái Bình và TU Thái Bình chỉ đạo "
        "đồng chí Nguyễn Văn An, Bí thư Huyện ủy Đông Hưng, cùng bà Trần Thị Bích làm việc với "
        "UBND tỉnh Thái Bình tại xã Đông Hợp, huyện Quỳnh Phụ ngày 16/3/2021. Số 08-CT/TU. "
        "Các tỉnh ủy, thành ủy báo cáo Ban Thường vụ Tỉnh ủy Thái Bình và Bộ Chính trị.")


def _by_label(ents, label):
    return [e for e in ents if e.label == label]


def test_offsets_point_into_the_given_text():
    ents = extract_entities(TEXT)
    assert ents
    for e in ents:
        assert TEXT[e.start:e.end] == e.text


def test_org_variants_link_to_one_canonical_name():
    orgs = _by_label(extract_entities(TEXT), "ORG")
    tinh_uy = [e for e in orgs if e.canonical == "Tỉnh ủy Thái Bình"]
    assert [e.text for e in tinh_uy] == ["Tỉnh ủy Thái Bình", "Tỉnh uỷ Thái Bình", "TU Thái Bình"]
    canon = {e.canonical for e in orgs}
    assert {"Huyện ủy Đông Hưng", "Ủy ban nhân dân tỉnh Thái Bình", "Ban Thường vụ Tỉnh ủy Thái Bình",
            "Bộ Chính trị"} <= canon
    # common nouns and the organ code of a number/symbol are not bodies
    assert not any(e.text.lower().startswith("các") or e.text == "TU" for e in orgs)


def test_persons_dates_and_historical_places():
    ents = extract_entities(TEXT)
    assert [e.text for e in _by_label(ents, "PER")] == ["Nguyễn Văn An", "Trần Thị Bích"]
    dates = _by_label(ents, "DATE")
    assert [(d.text, d.canonical) for d in dates] == [("Ngày 15 tháng 3 năm 2021", "2021-03-15"),
                                                        ("16/3/2021", "2021-03-16")]
    locs = {e.canonical for e in _by_label(ents, "LOC")}
    assert {"Đông Hợp", "Quỳnh Phụ"} <= locs


def test_offsets_survive_normalization_changes():
    raw = "Ông  Nguyễn Văn  Bình\r\nlàm việc tại huyện Tiền Hải."  # double spaces and CRLF
    ents = extract_entities(raw)
    assert ("Tiền Hải" in [e.canonical for e in ents if e.label == "LOC"])
    for e in ents:
        assert raw[e.start:e.end] == e.text


def test_caps_header_body_and_empty_text():
    ents = extract_entities("TỈNH ỦY THÁI BÌNH\n*\nSố 08-CT/TU")
    assert [(e.label, e.canonical) for e in ents if e.label == "ORG"] == [("ORG", "Tỉnh ủy Thái Bình")]
    assert extract_entities("") == [] and extract_entities("   ") == []


def test_pipelines_are_built_once():
    extract_entities(TEXT)  # the default mode runs the rules and the trained model
    rules, model = entity_pipeline("rules"), entity_pipeline("statistical")
    t0 = time.perf_counter()
    for _ in range(5):
        extract_entities(TEXT)
    assert entity_pipeline("rules") is rules and entity_pipeline("statistical") is model
    assert time.perf_counter() - t0 < 2.0


def test_f1_on_annotated_sets():
    import importlib.util
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "bench" / "extraction_entities.py"
    spec = importlib.util.spec_from_file_location("bench_extraction_entities", bench)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    for path in (mod.GOLD, mod.HELDOUT):
        gold = mod.load_gold(path)
        assert len(gold) >= 20
        scores = mod.evaluate(path)
        assert scores["ALL"]["f1"] >= 0.85, (path.name, scores["ALL"])
        for label in ("PER", "ORG", "LOC", "DATE"):
            assert scores[label]["gold"] > 0 and scores[label]["f1"] >= 0.8, (path.name, label, scores[label])
    # the larger held-out sets (names in no gazetteer; OCR slips): the default beats the rules
    for path in (mod.HELDOUT_C, mod.HELDOUT_OCR):
        assert sum(len(g) for _, g in mod.load_gold(path)) >= 100
        default, rules = mod.evaluate(path)["ALL"]["f1"], mod.evaluate(path, mode="rules")["ALL"]["f1"]
        assert default > rules and default >= 0.75, (path.name, default, rules)


def test_titles_before_names_and_departments():
    text = "Tổng Bí thư Tô Lâm làm việc với Sở Tài chính tỉnh Thái Bình và Đảng ủy Khối các cơ quan tỉnh."
    ents = extract_entities(text)
    assert ("Tô Lâm", "PER") in [(e.text, e.label) for e in ents]
    orgs = [e.text for e in ents if e.label == "ORG"]
    assert "Sở Tài chính tỉnh Thái Bình" in orgs or "Sở Tài chính" in orgs
    assert "Đảng ủy Khối các cơ quan tỉnh" in orgs


def test_long_text_is_processed_in_chunks_with_exact_offsets():
    from extraction import entities

    para = "Đồng chí Nguyễn Văn An làm việc tại huyện Vũ Thư ngày 15/3/2021.\r\n"
    text = para * (entities.CHUNK // len(para) + 50)
    ents = extract_entities(text)
    assert len([e for e in ents if e.label == "PER"]) == text.count("Nguyễn Văn An")
    for e in ents[-5:]:
        assert text[e.start:e.end] == e.text


def test_lower_case_words_never_start_a_body():
    ents = extract_entities("tỉnh Thái Bình và tỉnh Hưng Yên thành tỉnh Hưng Yên mới")
    assert [(e.text, e.label) for e in ents] == [("tỉnh Thái Bình", "LOC"), ("tỉnh Hưng Yên", "LOC"),
                                                 ("tỉnh Hưng Yên", "LOC")]


def test_statistical_entities_link_to_canonical_names():
    text = ("Ban Quản lý Khu kinh tế tỉnh Lào Cai làm việc với TU Thái Bình và Kho bạc Nhà nước tỉnh "
            "ngày 5/6/2024. Đảng uỷ Chính phủ chỉ đạo.")
    ents = extract_entities(text, "statistical")
    canon = {(e.label, e.text): e.canonical for e in ents}
    assert canon[("ORG", "TU Thái Bình")] == "Tỉnh ủy Thái Bình"  # linked through the gazetteer
    assert canon[("DATE", "5/6/2024")] == "2024-06-05"
    merged = {(e.label, e.text): e.canonical for e in extract_entities(text)}
    # a body the gazetteers do not list keeps its normalized name; one holding a known body stays whole
    assert merged[("ORG", "Ban Quản lý Khu kinh tế tỉnh Lào Cai")] == "Ban Quản lý Khu kinh tế tỉnh Lào Cai"
    assert merged[("ORG", "Đảng uỷ Chính phủ")] == "Đảng ủy Chính phủ"  # tone placement normalized
    assert ("LOC", "tỉnh Lào Cai") not in merged and ("ORG", "Chính phủ") not in merged
    for e in ents:
        assert text[e.start:e.end] == e.text


def test_unknown_mode_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown entity mode"):
        extract_entities("Tỉnh ủy Thái Bình", "magic")
