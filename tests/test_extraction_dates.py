"""DATE forms of Party and state documents (extraction/dates.py), and the numbers that are no date."""

from __future__ import annotations

import pytest

from extraction.dates import canonical_date, find_dates
from extraction.entities import extract_entities


def _dates(text: str) -> list[tuple[str, str]]:
    return [(e.text, e.canonical) for e in extract_entities(text) if e.label == "DATE"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Thái Bình, ngày 15 tháng 3 năm 2021", [("ngày 15 tháng 3 năm 2021", "2021-03-15")]),
    ("Nghị quyết số 15/2021/NQ-HĐND ngày 15-3-2021 của tỉnh.", [("15-3-2021", "2021-03-15")]),
    ("Có hiệu lực từ 15.3.2021.", [("15.3.2021", "2021-03-15")]),
    ("Hội nghị ngày 3/2/1930 tại Cửu Long.", [("3/2/1930", "1930-02-03")]),
    ("Báo cáo tháng 3 năm 2021.", [("tháng 3 năm 2021", "2021-03")]),
    ("Kế hoạch tháng 3/2021.", [("tháng 3/2021", "2021-03")]),
    ("Cách mạng tháng 8-1945 thành công.", [("tháng 8-1945", "1945-08")]),
    ("Trong quý I năm 2021, thu ngân sách đạt 27,5%.", [("quý I năm 2021", "2021-Q1")]),
    ("Kết quả quý IV/2020.", [("quý IV/2020", "2020-Q4")]),
    ("Kỷ niệm Quốc khánh ngày 2/9.", [("2/9", "--09-02")]),
    ("Tết Độc lập mùng 2 tháng 9.", [("mùng 2 tháng 9", "--09-02")]),
    ("Từ ngày 1/3/2021 đến ngày 31/3/2021.", [("1/3/2021", "2021-03-01"), ("31/3/2021", "2021-03-31")]),
    ("Lớp học từ ngày 10 đến ngày 15 tháng 3 năm 2021.", [("ngày 15 tháng 3 năm 2021", "2021-03-15")]),
    # OCR slips stay inside the span
    ("ngày15 tháng 5 năm 2021 Ban Thường vụ họp.", [("ngày15 tháng 5 năm 2021", "2021-05-15")]),
    ("Hồ sơ lập trong tháng 4 năm 2O21.", [("tháng 4 năm 2O21", "2021-04")]),
    ("ngay 3 thang 2 nam 1930, Hội nghị hợp nhất.", [("ngay 3 thang 2 nam 1930", "1930-02-03")]),
    ("Ký ngày 21 tháng 7 nãm 1954.", [("ngày 21 tháng 7 nãm 1954", "1954-07-21")]),
])
def test_date_forms(text, expected):
    assert _dates(text) == expected


@pytest.mark.parametrize("text", [
    "Năm 2021, toàn tỉnh có 12 xã đạt chuẩn nông thôn mới.",
    "Đầu năm 1946, cuối năm 1954, 6 tháng đầu năm 2021.",
    "Đại hội nhiệm kỳ 2020 – 2025; chương trình giai đoạn 2021-2025.",
    "Ủy ban kiểm tra họp phiên thường kỳ quý II.",
    "Thông tư số 02/2019/TT-BNV; Hồ sơ số 12/1968, hộp 3, cặp 2/4; Điều 3.",
    "Điện thoại 0227.3831.234 hoặc 0912.345.678; từ trang 12 đến trang 56.",
    "Tỷ lệ đạt 98,5%, tăng 2,3%; thông qua 3/4 số nội dung.",
    "Ngày 31/2/2021 và ngày 12/13/2021 không có thật.",
    "Số vào sổ 1502/2018 lưu tại 15.3.2501.",
])
def test_not_dates(text):
    assert _dates(text) == []


def test_offsets_point_into_text_after_normalization():
    text = "Hà Nội,  ngày 10 tháng 12 năm 1946\r\nChủ tịch ký ngày 19-12-1946."
    found = [e for e in extract_entities(text) if e.label == "DATE"]
    assert [(text[e.start:e.end], e.canonical) for e in found] == [
        ("ngày 10 tháng 12 năm 1946", "1946-12-10"), ("19-12-1946", "1946-12-19")]


def test_matcher_never_overlaps_and_prefers_the_longest_form():
    norm = "ngày 15 tháng 3 năm 2021 và tháng 4 năm 2021"
    spans = find_dates(norm)
    assert [(norm[a:b], i) for a, b, _, i in spans] == [("ngày 15 tháng 3 năm 2021", "date|dmy"),
                                                         ("tháng 4 năm 2021", "date|my")]


def test_canonical_of_an_impossible_date_is_its_text():
    assert canonical_date("date|dmy", "31/2/2021") == "31/2/2021"


def test_a_date_the_statistical_model_finds_gets_its_form_from_the_same_matcher():
    """The model's DATE spans are linked by the rules' date forms (quarter, day and month, ...),
    so their canonical value is the same as a rule-found date's, not the raw text."""
    from extraction.entities import _statistical_id

    cases = {"quý I năm 2021": ("date|q", "2021-Q1"), "ngày 2/9": ("date|dm", None),
             "tháng 3 năm 2020": ("date|my", "2020-03"), "ngày 15 tháng 3 năm 2021": ("date|dmy", "2021-03-15")}
    for span, (form, value) in cases.items():
        ent_id = _statistical_id("DATE", span)
        assert ent_id == form, span
        if value is not None:
            assert canonical_date(ent_id, span) == value, span
