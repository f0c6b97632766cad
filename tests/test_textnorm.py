"""Every rule of the one normalization layer (kholuu.textnorm), plus segmentation."""

from __future__ import annotations

import unicodedata

import pytest

from kholuu.textnorm import (LegacyEncodingError, decode_bytes, decode_legacy, detect_encoding, exact_form, fold,
                             folded_form, has_diacritics, normalize, normalize_query, repair_spaces, tokens)


def test_nfd_input_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "Việt Nam nông thôn")
    assert nfd != "Việt Nam nông thôn"
    assert normalize(nfd) == "Việt Nam nông thôn"


@pytest.mark.parametrize("old,new", [
    ("uỷ", "ủy"), ("hoà", "hòa"), ("khoá", "khóa"), ("thuý", "thúy"), ("khoẻ", "khỏe"),
    ("UỶ", "ỦY"), ("HOÀ", "HÒA"), ("Thuỵ", "Thụy"), ("Tỉnh uỷ", "Tỉnh ủy"), ("CỘNG HOÀ", "CỘNG HÒA"),
])
def test_tone_mark_placement_is_canonical(old, new):
    assert normalize(old) == new
    assert normalize(new) == new


@pytest.mark.parametrize("word", ["quý", "quà", "giá", "hoàng", "khoảng", "thuyền", "Quỳnh"])
def test_tone_rule_applies_to_whole_open_syllables_only(word):
    # qu-/gi- onsets and syllables with a final consonant keep their mark
    assert normalize(word) == word


def test_spaces_quotes_dashes_and_invisible_characters():
    raw = "Nghị\u00a0quyết \u201cvề\u201d nông\u2013thôn\u200b  mới\tnăm"
    assert normalize(raw) == 'Nghị quyết "về" nông-thôn mới năm'


def test_line_breaks_are_kept_and_unified():
    assert normalize("a\r\nb\rc\nd") == "a\nb\nc\nd"


def test_query_normalization_is_one_line():
    assert normalize_query("  nông  thôn\nmới ") == "nông thôn mới"


def test_fold_removes_diacritics_and_keeps_offsets():
    text = normalize("Đảng bộ tỉnh Thái Bình lãnh đạo")
    folded = fold(text)
    assert folded == "Dang bo tinh Thai Binh lanh dao"
    assert len(folded) == len(text)
    start = folded.lower().index("thai binh")
    assert text[start:start + len("thai binh")] == "Thái Bình"
    assert has_diacritics("Thái") and not has_diacritics("Thai")


def test_index_forms():
    assert exact_form("Tỉnh Uỷ") == "tỉnh ủy"
    assert folded_form("Tỉnh Uỷ") == "tinh uy"


def test_tokens_with_offsets():
    toks = tokens("Số 08-CT/TU, nông thôn")
    assert [t.text for t in toks] == ["Số", "08", "CT", "TU", "nông", "thôn"]
    assert toks[4].start == 13 and toks[4].folded == "nong"


@pytest.mark.parametrize("raw,fixed", [
    ("BộChính trị", "Bộ Chính trị"),
    ("ngày15 tháng 5 năm 2026", "ngày 15 tháng 5 năm 2026"),
    ("ngày 10 tháng 01năm 2026", "ngày 10 tháng 01 năm 2026"),
    ("Số08-CT/TU", "Số 08-CT/TU"),
    ("Quyết định số 224/CĐ-TTg, SGDĐT-CTrTT, QH15, COVID-19", "Quyết định số 224/CĐ-TTg, SGDĐT-CTrTT, QH15, COVID-19"),
])
def test_lost_spaces(raw, fixed):
    assert repair_spaces(raw) == fixed


TCVN3_SAMPLE = "Céng hoµ x· héi chñ nghÜa ViÖt Nam\nTØnh ñy Th¸i B×nh - §¶ng bé huyÖn Vò Th\u00ad"
VNI_SAMPLE = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam\nTænh uûy Thaùi Bình - Ñaûng boä huyeän Vuõ Thö"


def test_tcvn3_is_detected_and_converted():
    assert detect_encoding(TCVN3_SAMPLE) == "tcvn3"
    out = normalize(decode_legacy(TCVN3_SAMPLE))
    assert out == "Cộng hòa xã hội chủ nghĩa Việt Nam\nTỉnh ủy Thái Bình - Đảng bộ huyện Vũ Thư"


def test_tcvn3_capitals_from_upper_case_fonts():
    assert decode_legacy("CéNG HOµ X· HéI CHñ NGHÜA VIÖT NAM") == "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert decode_legacy("X· §«ng Hîp, huyÖn Th¸i Thuþ") == "Xã Đông Hợp, huyện Thái Thuỵ"


def test_vni_is_detected_and_converted():
    assert detect_encoding(VNI_SAMPLE) == "vni"
    out = normalize(decode_legacy(VNI_SAMPLE))
    assert out == "Cộng hòa xã hội chủ nghĩa Việt Nam\nTỉnh ủy Thái Bình - Đảng bộ huyện Vũ Thư"
    assert decode_legacy("ÑAÛNG COÄNG SAÛN VIEÄT NAM") == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert decode_legacy("Thöôøng vuï, ngöôøi, Quoác hoäi") == "Thường vụ, người, Quốc hội"


def test_unicode_and_ascii_pass_unchanged():
    text = "Tỉnh ủy Thái Bình ban hành Chỉ thị về nông thôn mới, ông Nguyễn Văn Tý."
    assert detect_encoding(text) == "unicode" and decode_legacy(text) == text
    assert decode_legacy("Nghi quyet so 08") == "Nghi quyet so 08"


def test_utf8_read_as_cp1252_is_repaired():
    garbled = "Tỉnh ủy Thái Bình".encode("utf-8").decode("cp1252")
    assert decode_legacy(garbled) == "Tỉnh ủy Thái Bình"


def test_text_that_is_neither_is_rejected():
    with pytest.raises(LegacyEncodingError):
        decode_legacy("Ωμέγα και άλφα, ελληνικά")
    with pytest.raises(LegacyEncodingError):
        decode_bytes(b"\x00\x01\x02binary")


def test_decode_bytes_handles_files():
    assert decode_bytes("Việt Nam".encode("utf-8-sig")) == "Việt Nam"
    assert decode_bytes("Việt Nam".encode("utf-16")) == "Việt Nam"
    assert normalize(decode_bytes(TCVN3_SAMPLE.encode("latin-1"))).startswith("Cộng hòa xã hội")
    assert decode_bytes(VNI_SAMPLE.encode("latin-1")).startswith("Cộng hòa xã hội")


def test_segmentation_and_segmented_form():
    from kholuu.segment import segment, segmented_form

    assert segment("xây dựng nông thôn mới") == ["xây dựng", "nông thôn", "mới"]
    assert "Ban Thường vụ" in " ".join(segment("Ban Thường vụ Tỉnh uỷ")) or "Thường vụ" in segment(
        "Ban Thường vụ Tỉnh uỷ")
    text = "Ban Thường vụ  Tỉnh uỷ\nchỉ đạo xây dựng nông thôn mới"
    seg = segmented_form(text)
    norm = normalize(text)
    assert len(seg) == len(norm) and seg.replace("_", " ") == norm
    assert "nông_thôn" in seg and "Tỉnh_ủy" in seg and "\n" in seg
    assert segment("") == [] and segmented_form("") == ""


def test_abbreviation_expansion_from_data():
    from extraction.abbrev import doc_type_for_code, expand_abbreviations

    assert expand_abbreviations("TU") == ["Tỉnh ủy"]
    assert expand_abbreviations("UBND") == ["Ủy ban nhân dân"]
    assert "Ban Thường vụ" in expand_abbreviations("btv")
    assert expand_abbreviations("HĐND") == ["Hội đồng nhân dân"]
    assert expand_abbreviations("nông") == []
    assert doc_type_for_code("CTr") == "Chương trình" and doc_type_for_code("CT") == "Chỉ thị"


def test_normalize_with_offsets_maps_back_to_the_original():
    from kholuu.textnorm import normalize_with_offsets

    raw = unicodedata.normalize("NFD", "Tỉnh uỷ  Thái Bình\r\nhoà\u200b bình") + "\u00a0cuối"
    norm, spans = normalize_with_offsets(raw)
    assert norm == normalize(raw)
    assert len(spans) == len(norm)
    s = norm.index("Thái Bình")
    e = s + len("Thái Bình")
    original = raw[spans[s][0]:spans[e - 1][1]]
    assert unicodedata.normalize("NFC", original) == "Thái Bình"
    k = norm.index("hòa")
    assert normalize(raw[spans[k][0]:spans[k + 2][1]]) == "hòa"
    assert normalize_with_offsets("") == ("", [])


def test_a_few_latin1_symbols_are_not_legacy_text():
    english = "Copyright © 2020, particles of 5 µm and more text here in English only"
    assert detect_encoding(english) != "tcvn3"
    assert detect_encoding("Tỉnh ủy Thái Bình © 2020") == "unicode"


def test_is_normalized_agrees_with_normalize():
    """The index's cheap check: true exactly when ``normalize`` would change nothing."""
    import random

    from kholuu.textnorm import is_normalized

    rng = random.Random(5)
    alphabet = list("oòóỏõọaàáảãạeuùủyỳýqhtOÒÀỦY1_-.,đ ") + ["\n", "\r", "  ", "\u00a0", "\u201c", "\u0301",
                                                            "o\u0300", "ho\u0300a", "hoà", "thuỷ", "khoẻ"]
    seen = {True: 0, False: 0}
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        for t in (text, normalize(text)):
            expected = normalize(t) == t
            assert is_normalized(t) == expected, repr(t)
            seen[expected] += 1
    assert seen[True] > 1000 and seen[False] > 1000


def test_bounded_cache_computes_each_key_once_and_empties_when_full():
    """The memo behind the per-chunk lookups (tone check, search forms, folding):
    a key is computed on its first lookup only, and the cache never holds more
    than its bound (it starts over), answering right across the clear."""
    from kholuu.cache import BoundedCache

    calls: list[str] = []

    def upper(key: str) -> str:
        calls.append(key)
        return key.upper()

    cache = BoundedCache(upper, 3)
    assert list(map(cache.__getitem__, ["a", "b", "a", "c", "b"])) == ["A", "B", "A", "C", "B"]
    assert calls == ["a", "b", "c"] and len(cache) == 3
    assert cache["d"] == "D" and dict(cache) == {"d": "D"}   # full: emptied, then d
    assert cache["a"] == "A" and calls == ["a", "b", "c", "d", "a"]
    assert "zz" not in cache and len(cache) == 2    # membership tests compute nothing


def test_is_normalized_agrees_with_normalize_while_its_chunk_cache_is_emptied(monkeypatch: pytest.MonkeyPatch):
    import kholuu.textnorm as textnorm

    monkeypatch.setattr(textnorm._CANONICAL_CHUNKS, "max_size", 2)
    textnorm._CANONICAL_CHUNKS.clear()   # earlier tests' chunks would never be missed
    for text in ["Tỉnh uỷ Thái Bình", "Tỉnh ủy Thái Bình", "hoà bình, khoẻ mạnh", "hòa bình, khỏe mạnh"] * 3:
        assert textnorm.is_normalized(text) == (textnorm.normalize(text) == text)
        assert len(textnorm._CANONICAL_CHUNKS) <= 2
