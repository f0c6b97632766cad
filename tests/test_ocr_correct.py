"""Post-OCR correction: numbers, symbols and dates fixed; valid syllables untouched."""

from __future__ import annotations

import pytest

from ocr.correct import correct_symbol, correct_text, correct_words, is_valid_syllable


@pytest.mark.parametrize("ocr, expected", [
    ("O8-CT/TU", "08-CT/TU"),
    ("08-CT/TƯ", "08-CT/TU"),
    ("08-CTATU", "08-CT/TU"),
    ("08-CTTU", "08-CT/TU"),
    ("104-CTr/TU,", "104-CTr/TU,"),
    ("2449-CV/ĐU", "2449-CV/ĐU"),
    ("l2/QD-UBND", "12/QĐ-UBND"),
    ("45-HD/BTCTW", "45-HD/BTCTW"),
    ("432-TB|VPTW", "432-TB/VPTW"),
    ("123/HD/TW", "123/HD/TW"),
    ("18-NO/TU", "18-NQ/TU"),
    ("05-QD/TU", "05-QĐ/TU"),
])
def test_document_symbols(ocr, expected):
    assert correct_symbol(ocr) == expected


def test_dates_and_numbers_in_context():
    assert correct_text("Thái Bình, ngày l5 tháng 3 năm 2O21") == "Thái Bình, ngày 15 tháng 3 năm 2021"
    assert correct_text("ngày O1 tháng l2 năm 2026.") == "ngày 01 tháng 12 năm 2026."
    # out of range stays as read: not a day
    assert correct_text("ngày 4S tháng 3") == "ngày 4S tháng 3"
    assert correct_text("Số O8-CT/TƯ") == "Số 08-CT/TU"


def test_valid_syllables_are_never_touched():
    words = ["Số", "ngày", "Sổ", "tháng", "Đăng", "biếu", "vẽ", "lo", "Iô", "hoà"]
    out = correct_words(words)
    assert out[:9] == words[:9]
    assert out[9] == "hòa"  # only the normalization layer's canonical tone placement
    # a confusable "word" that is a valid syllable after "ngày" is left alone
    assert correct_words(["ngày", "lo"]) == ["ngày", "lo"]


def test_length_is_kept_for_word_boxes():
    words = ["Số", "O8-CTATU", "ngày", "l5", "tháng", "3", "năm", "2O21"]
    out = correct_words(words)
    assert len(out) == len(words)
    assert out == ["Số", "08-CT/TU", "ngày", "15", "tháng", "3", "năm", "2021"]


@pytest.mark.parametrize("word, valid", [
    ("nghiêng", True), ("khuya", True), ("giặc", True), ("quốc", True), ("Ủy", True), ("gì", True),
    ("thàc", False), ("bcd", False), ("2021", False), ("CT/TU", False), ("qwe", False), ("ngàyy", False),
])
def test_syllable_check(word, valid):
    assert is_valid_syllable(word) is valid


from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from kholuu.textnorm import normalize  # noqa: E402

_SYLLABLES = ["Số", "ngày", "tháng", "năm", "Đảng", "ủy", "hòa", "nông", "thôn", "mới", "lo", "Sổ", "gì"]
_JUNK = ["O8-CTATU", "l5", "2O21", "12/QD-UBND", "-", "(để", "báo", "cáo),", "18-NO/TU", "4S", "IOO"]


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_SYLLABLES + _JUNK), max_size=20))
def test_correction_keeps_length_and_valid_syllables(words):
    out = correct_words(words)
    assert len(out) == len(words)
    for before, after in zip(words, out):
        if before.isalpha() and is_valid_syllable(before):
            assert after == normalize(before)
