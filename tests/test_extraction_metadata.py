"""Header parsing on documents written for these tests, one per header variant."""

from __future__ import annotations

from datetime import date

import pytest

from extraction.metadata import canonical_symbol, extract_metadata

PARTY_2018 = """TỈNH ỦY THÁI BÌNH
*
Số 08-CT/TU
ĐẢNG CỘNG SẢN VIỆT NAM
Thái Bình, ngày 15 tháng 3 năm 2021
CHỈ THỊ
của Ban Thường vụ Tỉnh ủy
về đẩy mạnh xây dựng nông thôn mới
giai đoạn 2021 - 2025
-----
Thực hiện Nghị quyết Đại hội Đảng bộ tỉnh, Ban Thường vụ Tỉnh ủy yêu cầu các cấp ủy đảng:
1. Tiếp tục quán triệt sâu rộng mục tiêu xây dựng nông thôn mới.
Nơi nhận:
- Ban Bí thư Trung ương Đảng (để b/c),
- Các huyện ủy, thành ủy,
- Lưu Văn phòng Tỉnh ủy.
T/M BAN THƯỜNG VỤ
BÍ THƯ
Nguyễn Văn An
"""

# 1998 typed style: heading first, then the issuer, then number and date on one line
PARTY_1998 = """ĐẢNG CỘNG SẢN VIỆT NAM
TỈNH UỶ THÁI BÌNH
Số 12-NQ/TU Thái Bình, ngày 2 tháng 9 năm 1998
NGHỊ QUYẾT
VỀ CÔNG TÁC THUỶ LỢI VỤ ĐÔNG
Ban Chấp hành Đảng bộ tỉnh họp ngày 30 tháng 8 năm 1998.
T/M TỈNH UỶ
PHÓ BÍ THƯ
Trần Văn Bình
"""

STATE_CV = """ỦY BAN NHÂN DÂN
TỈNH THÁI BÌNH
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 1696 /UBND-NNTNMT
V/v triển khai kế hoạch
phòng chống lụt bão năm 2019
Thái Bình, ngày15 tháng 5 năm 2019
Kính gửi: Sở Nông nghiệp và Phát triển nông thôn.
Ủy ban nhân dân tỉnh có ý kiến như sau: triển khai ngay.
Nơi nhận:
- Như trên;
- Lưu: VT.
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
Lê
Thị Hoa
"""

STATE_QD_2026 = """UỶ BAN NHÂN DÂN
TỈNH HƯNG YÊN
Số: 2170 /QĐ - UBND
CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM
Hưng Yên, ngày 23 tháng 6 năm 2026
Độc lập - Tự do - Hạnh phúc
QUYẾT ĐỊNH
Về việc phê duyệt danh mục hồ sơ lưu trữ
của các xã thuộc huyện Vũ Thư cũ
ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN
Căn cứ Luật Lưu trữ năm 2024;
QUYẾT ĐỊNH:
Điều 1. Phê duyệt danh mục.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Phạm Quang Minh
"""

EOFFICE_PARTY = """TỈNH UỶ THÁI BÌNH
*
Số         -CTr/TU

ĐẢNG CỘNG SẢN VIỆT NAM

Thái Bình, ngày        tháng 8 năm 2026

CHƯƠNG TRÌNH HÀNH ĐỘNG
thực hiện Kết luận số 75-KL/TW của Bộ Chính trị
-----
Thực hiện Kết luận, Tỉnh ủy ban hành chương trình.
T/M TỈNH ỦY
PHÓ BÍ THƯ THƯỜNG TRỰC

Hoàng Minh Giang
"""

TWO_COLUMN_SIGNER = """ĐẢNG BỘ TỈNH THÁI BÌNH ĐẢNG CỘNG SẢN VIỆT NAM
HUYỆN ỦY ĐÔNG HƯNG
Đông Hưng, ngày 07 tháng 9 năm 2004
*
Số 245 -CV/HU
về việc tổng kết công tác năm 2004
Kính gửi: Các chi bộ, đảng bộ cơ sở.
Đề nghị các chi bộ thực hiện.
Nơi nhận: T/M BAN THƯỜNG VỤ
- Như trên (t/h); PHÓ BÍ THƯ
- Lưu Văn phòng Huyện ủy.
Đỗ Văn Toàn
"""

MARKED = """MẬT
ĐẢNG CỘNG SẢN VIỆT NAM
TỈNH ỦY THÁI BÌNH
HỎA TỐC
Số 445-KL/TƯ
Thái Bình, ngày 1 tháng 2 năm 2018
KẾT LUẬN
CỦA BAN THƯỜNG VỤ TỈNH ỦY VỀ CÔNG TÁC CÁN BỘ
Ban Thường vụ kết luận như sau.
"""


def test_party_2018_all_fields():
    m = extract_metadata(PARTY_2018)
    assert m.doc_type == "Chỉ thị"
    assert m.number_symbol == "08-CT/TU"
    assert m.issuer == "TỈNH ỦY THÁI BÌNH"
    assert m.place == "Thái Bình"
    assert m.issued_date == date(2021, 3, 15)
    assert m.subject == "của Ban Thường vụ Tỉnh ủy về đẩy mạnh xây dựng nông thôn mới giai đoạn 2021 - 2025"
    assert m.signer_title == "BÍ THƯ"
    assert m.signer_name == "Nguyễn Văn An"
    assert m.recipients == ["Ban Bí thư Trung ương Đảng (để b/c)", "Các huyện ủy, thành ủy",
                            "Lưu Văn phòng Tỉnh ủy"]
    assert m.security_mark is None and m.urgency_mark is None
    assert set(m.confidence) >= {"doc_type", "number_symbol", "issuer", "issued_date", "signer_name"}
    assert all(0 < v <= 1 for v in m.confidence.values())


def test_party_1998_number_and_date_on_one_line_old_tone_style():
    m = extract_metadata(PARTY_1998)
    assert m.issuer == "TỈNH ỦY THÁI BÌNH"  # normalized from "UỶ"
    assert m.number_symbol == "12-NQ/TU"
    assert m.place == "Thái Bình"
    assert m.issued_date == date(1998, 9, 2)
    assert m.doc_type == "Nghị quyết"
    assert m.subject == "VỀ CÔNG TÁC THỦY LỢI VỤ ĐÔNG"
    assert (m.signer_title, m.signer_name) == ("PHÓ BÍ THƯ", "Trần Văn Bình")


def test_state_cong_van_vv_lost_space_and_split_name():
    m = extract_metadata(STATE_CV)
    assert m.doc_type == "Công văn"
    assert m.number_symbol == "1696/UBND-NNTNMT"
    assert m.issuer == "ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH"
    assert m.issued_date == date(2019, 5, 15)
    assert m.subject == "V/v triển khai kế hoạch phòng chống lụt bão năm 2019"
    assert m.signer_title == "PHÓ CHỦ TỊCH"
    assert m.signer_name == "Lê Thị Hoa"
    assert m.recipients == ["Như trên", "Lưu: VT"]


def test_state_decision_spaced_symbol_interleaved_columns():
    m = extract_metadata(STATE_QD_2026)
    assert m.number_symbol == "2170/QĐ-UBND"
    assert m.doc_type == "Quyết định"
    assert m.issuer == "ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN"
    assert m.place == "Hưng Yên" and m.issued_date == date(2026, 6, 23)
    assert m.subject == "Về việc phê duyệt danh mục hồ sơ lưu trữ của các xã thuộc huyện Vũ Thư cũ"
    assert (m.signer_title, m.signer_name) == ("CHỦ TỊCH", "Phạm Quang Minh")


def test_eoffice_stamped_number_and_day_are_not_invented():
    m = extract_metadata(EOFFICE_PARTY)
    assert m.number_symbol == "-CTr/TU"          # what is printed; the number is unknown
    assert m.confidence["number_symbol"] < 0.5
    assert m.issued_date is None                  # day missing: no date rather than a wrong one
    assert m.place == "Thái Bình"
    assert m.doc_type == "Chương trình hành động"
    assert m.subject == "thực hiện Kết luận số 75-KL/TW của Bộ Chính trị"
    assert (m.signer_title, m.signer_name) == ("PHÓ BÍ THƯ THƯỜNG TRỰC", "Hoàng Minh Giang")


def test_two_column_signature_read_across_and_superior_issuer():
    m = extract_metadata(TWO_COLUMN_SIGNER)
    assert m.issuer == "HUYỆN ỦY ĐÔNG HƯNG"  # the committee names itself; the Đảng bộ line is its superior
    assert m.number_symbol == "245-CV/HU"
    assert m.doc_type == "Công văn"
    assert m.subject == "về việc tổng kết công tác năm 2004"
    assert m.issued_date == date(2004, 9, 7)
    assert (m.signer_title, m.signer_name) == ("PHÓ BÍ THƯ", "Đỗ Văn Toàn")
    assert m.recipients == ["Như trên (t/h)", "Lưu Văn phòng Huyện ủy"]


def test_marks_and_ocr_slip_in_organ_code():
    m = extract_metadata(MARKED)
    assert m.security_mark == "MẬT"
    assert m.urgency_mark == "HỎA TỐC"
    assert m.number_symbol == "445-KL/TW"
    assert m.issuer == "TỈNH ỦY THÁI BÌNH"
    assert m.doc_type == "Kết luận"
    assert m.subject == "CỦA BAN THƯỜNG VỤ TỈNH ỦY VỀ CÔNG TÁC CÁN BỘ"
    assert m.signer_name is None and m.recipients == []


def test_secret_word_inside_a_subject_is_not_a_mark():
    text = PARTY_2018.replace("về đẩy mạnh xây dựng nông thôn mới", "về bảo vệ bí mật nhà nước")
    text = text.replace("CHỈ THỊ", "CHỈ THỊ VỀ BẢO VỆ BÍ MẬT NHÀ NƯỚC KHẨN TRƯƠNG")
    m = extract_metadata(text)
    assert m.security_mark is None and m.urgency_mark is None


@pytest.mark.parametrize("raw,expected", [
    ("08-CT/TU", "08-CT/TU"),
    ("1696 /QĐ-UBND", "1696/QĐ-UBND"),
    ("2170 /QĐ - UBND", "2170/QĐ-UBND"),
    ("1961/QĐUBND", "1961/QĐ-UBND"),
    ("445-KL/TƯ", "445-KL/TW"),
    ("34/2025/NQ-HĐND", "34/2025/NQ-HĐND"),
    ("224/CĐ-TTg", "224/CĐ-TTg"),
    ("-CTr/TU", "-CTr/TU"),
])
def test_canonical_symbol(raw, expected):
    assert canonical_symbol(raw)[0] == expected


def test_state_number_without_space_after_colon():
    text = STATE_CV.replace("Số: 1696 /UBND-NNTNMT", "Số:6791 /SNNMT-KHTC")
    assert extract_metadata(text).number_symbol == "6791/SNNMT-KHTC"


def test_header_without_number_or_signature_yields_nulls():
    m = extract_metadata("Báo cáo tình hình sản xuất vụ chiêm xuân, viết tay, không có tiêu đề.")
    assert m.number_symbol is None and m.issued_date is None and m.issuer is None
    assert m.signer_name is None and m.doc_type is None
    assert extract_metadata("").to_dict()["recipients"] == []


def test_stamp_read_across_with_the_national_heading():
    text = "TỐI MẬT ĐẢNG CỘNG SẢN VIỆT NAM\nTỈNH ỦY THÁI BÌNH\nTHƯỢNG KHẨN\nSố 3-TB/TU\nThái Bình, ngày 4 tháng 5 năm 2004\nTHÔNG BÁO\nVỀ NHÂN SỰ"
    m = extract_metadata(text)
    assert (m.security_mark, m.urgency_mark) == ("TỐI MẬT", "THƯỢNG KHẨN")
    assert m.issuer == "TỈNH ỦY THÁI BÌNH"
    assert m.doc_type == "Thông báo" and m.subject == "VỀ NHÂN SỰ"


def test_superior_line_is_kept_when_the_body_does_not_name_itself():
    text = ("UBND TỈNH THÁI BÌNH\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSỞ NỘI VỤ\nĐộc lập - Tự do - Hạnh phúc\n"
            "Số:1629 /SNV-CCVC\nV/v thi tuyển công chức\nThái Bình, ngày 27 tháng 3 năm 2024\nKính gửi: Các sở, ngành.")
    m = extract_metadata(text)
    assert m.issuer == "UBND TỈNH THÁI BÌNH - SỞ NỘI VỤ"
    assert m.number_symbol == "1629/SNV-CCVC" and m.doc_type == "Công văn"
    central = "BAN CHẤP HÀNH TRUNG ƯƠNG\nBAN TỔ CHỨC\n*\nSố 45-HD/BTCTW\nĐẢNG CỘNG SẢN VIỆT NAM\nHà Nội, ngày 21 tháng 11 năm 2025"
    assert extract_metadata(central).issuer == "BAN CHẤP HÀNH TRUNG ƯƠNG - BAN TỔ CHỨC"


def test_project_samples_printed_text_gives_their_expected_metadata():
    from kholuu.samples import load_samples

    samples = load_samples()
    assert len(samples) >= 12
    for s in samples:
        got, exp = extract_metadata(s.printed_text()), s.expected()
        for field in ("doc_type", "number_symbol", "issuer", "place", "issued_date", "subject", "signer_name",
                      "signer_title", "recipients"):
            assert getattr(got, field) == getattr(exp, field), (s.id, field)


def test_ocr_slips_in_symbol_and_issuer_names_are_repaired():
    text = "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ ĐÀ NẰNG\nSố: 122/2025/QĐÐ-UBND\nĐà Nẵng, ngày 24 tháng 11 năm 2025\nQUYẾT ĐỊNH\nVỀ VIỆC X"
    m = extract_metadata(text)
    assert m.number_symbol == "122/2025/QĐ-UBND"
    assert m.issuer == "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"
    assert extract_metadata(text.replace("ĐÀ NẰNG", "HÀ TĨNH")).issuer == "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ TĨNH"


def test_ocr_diacritic_slips_in_number_date_and_heading():
    text = ("TỈNH ỦY THÁI BÌNH\nSổ 21-CT/TU\nThái Bình, ngảy 9 thảng 4 nãm 2001\nCHỈ THI\n"
            "về công tác dân vận\nThực hiện chủ trương của Tỉnh ủy.")
    m = extract_metadata(text)
    assert m.number_symbol == "21-CT/TU"
    assert m.issued_date == date(2001, 4, 9) and m.place == "Thái Bình"
    assert m.doc_type == "Chỉ thị" and m.subject == "về công tác dân vận"
    # a one-syllable heading is not recovered from its accent-free form
    assert extract_metadata("THỦ TƯỚNG CHÍNH PHỦ\nSố: 1/CĐ-TTg").doc_type == "Công điện"


def test_ocr_specks_around_lines_and_before_the_signature():
    text = ("ỦY BAN NHÂN DÂN\nTỈNH THÁI BÌNH _\nSố: 20/2019/NQ-HĐND\n| Thái Bình, ngày 18 tháng 11 năm 2019\n"
            "NGHỊ QUYẾT\nQUY ĐỊNH MỨC HỌC PHÍ\nCăn cứ Luật Giáo dục.\nNơi nhận:\n- Ủy ban Thường vụ Quốc hội;\n"
            "- Chính phủ; _\n~Lưu: VT.- ;\n- CHỦ TỊCH\n- Nguyễn Minh Dũng")
    m = extract_metadata(text)
    assert m.issuer == "ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH" and m.place == "Thái Bình"
    assert (m.signer_title, m.signer_name) == ("CHỦ TỊCH", "Nguyễn Minh Dũng")
    assert m.recipients == ["Ủy ban Thường vụ Quốc hội", "Chính phủ", "Lưu: VT"]


def test_real_scan_header_read_across_with_stamped_digits():
    # how Tesseract reads a two-column state header with the e-signature's stamped day/month
    text = ("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nTĨNH LÀO CAI Độc lập - Tự do - Hạnh phúc\n"
            "Số: 4280 /SCT -CN Lào Cai, ngày J6 tháng 7 năm 2026\nV/v hoàn thiện hồ sơ\nKính gửi: Doanh nghiệp.\n"
            "Nội dung văn bản.\nơi nhận: KT. CHU TỊCH\n- Như trên; ^ %\n- Chủ tịch UBND tỉnh; PHO CHU TỊCH\n"
            "- Lưu: VT, TH.\nPhan Trung Bá")
    m = extract_metadata(text)
    assert m.issuer == "ỦY BAN NHÂN DÂN TỈNH LÀO CAI"
    assert m.number_symbol == "4280/SCT-CN" and m.place == "Lào Cai"
    assert m.issued_date == date(2026, 7, 16)
    assert (m.signer_title, m.signer_name) == ("PHÓ CHỦ TỊCH", "Phan Trung Bá")
    assert m.recipients == ["Như trên", "Chủ tịch UBND tỉnh", "Lưu: VT, TH"]


def test_degraded_ocr_signature_with_specks_and_split_names():
    text = ("TỈNH ỦY THÁI BÌNH\nSố 9-KL/TU\nThái Bình, ngày 3 tháng 2 năm 2010\nKẾT LUẬN\nVỀ CÔNG TÁC CÁN BỘ\n"
            "Ban Thường vụ kết luận.\nNơi nhận:\n- Như trên,\n- Lưu Văn phòng Tỉnh ủy.\n'T/M BAN THƯỜNG _\nVỤ n\n"
            "- PHÓ BÍ THƯ\n- Trần |\n- Chí Hùng")
    m = extract_metadata(text)
    assert (m.signer_title, m.signer_name) == ("PHÓ BÍ THƯ", "Trần Chí Hùng")
    assert m.recipients == ["Như trên", "Lưu Văn phòng Tỉnh ủy"]
