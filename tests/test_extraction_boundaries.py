"""Document boundaries in a mixed batch of page texts (no manifest)."""

from __future__ import annotations

from extraction.boundaries import header_score, split_documents

DOC_A_P1 = """ĐẢNG CỘNG SẢN VIỆT NAM
TỈNH ỦY THÁI BÌNH
*
Số 08-CT/TU
Thái Bình, ngày 15 tháng 3 năm 2021
CHỈ THỊ
về đẩy mạnh xây dựng nông thôn mới
Thực hiện Nghị quyết Đại hội, Ban Thường vụ yêu cầu các cấp ủy đảng ..."""
DOC_A_P2 = """2
tiếp tục đẩy mạnh phong trào thi đua; kiểm tra việc thực hiện Nghị quyết số 05-NQ/TU
của Tỉnh ủy, báo cáo Ban Thường vụ trước ngày 30 tháng 6 năm 2021.
T/M BAN THƯỜNG VỤ
BÍ THƯ
Nguyễn Văn An"""
DOC_B_P1 = """ỦY BAN NHÂN DÂN
TỈNH THÁI BÌNH
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 12/QĐ-UBND
Thái Bình, ngày 2 tháng 4 năm 2021
QUYẾT ĐỊNH
Về việc thành lập Ban chỉ đạo"""
DOC_C_P1 = """ĐẢNG CỘNG SẢN VIỆT NAM
HUYỆN ỦY VŨ THƯ
Số 31-BC/HU
Vũ Thư, ngày 9 tháng 4 năm 2021
BÁO CÁO
kết quả quý I"""
# a body page quoting a Party heading and a number, but not at the top as a header
BODY_QUOTE = """3
Căn cứ văn bản của Tỉnh ủy, các xã tiếp tục triển khai kế hoạch.
Ủy ban nhân dân huyện tổng hợp số liệu, báo cáo theo quy định hiện hành.
Phòng Nông nghiệp chủ trì, phối hợp với các phòng, ban liên quan thực hiện.
Các xã báo cáo kết quả định kỳ hằng tháng.
Trường hợp có khó khăn, vướng mắc, kịp thời báo cáo để xem xét.
Văn phòng theo dõi, đôn đốc thực hiện.
Giao Phòng Tài chính bố trí kinh phí.
Các cơ quan, đơn vị căn cứ thực hiện.
Thủ trưởng các đơn vị chịu trách nhiệm thi hành.
Quyết định có hiệu lực từ ngày ký.
Lưu văn thư.
Tài liệu tham khảo.
Trích: Số 05-NQ/TU của ĐẢNG CỘNG SẢN VIỆT NAM, Tỉnh ủy Thái Bình.
Hết."""


def test_mixed_batch_split_with_blank_and_continuation_pages():
    pages = [DOC_A_P1, DOC_A_P2, "", DOC_B_P1, BODY_QUOTE, "  \n ", DOC_C_P1]
    plans = split_documents(pages)
    assert [p.page_seqs for p in plans] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [p.seq for p in plans] == [1, 2, 3]
    assert all(p.confidence >= 0.85 for p in plans)


def test_scores_separate_headers_from_continuations():
    assert header_score(DOC_A_P1) >= 0.85
    assert header_score(DOC_B_P1) >= 0.85
    assert header_score(DOC_A_P2) < 0.5
    assert header_score(BODY_QUOTE) < 0.5
    assert header_score("") == 0.0


def test_batch_starting_mid_document_is_one_low_confidence_document():
    plans = split_documents([DOC_A_P2, BODY_QUOTE])
    assert len(plans) == 1 and plans[0].page_seqs == [0, 1]
    assert plans[0].confidence < 0.5
    assert split_documents([]) == []


def test_heading_without_number_line_is_not_enough():
    # a bare national heading (e.g. the cover of an appendix) does not open a document
    page = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nPHỤ LỤC\nDanh sách các xã"
    plans = split_documents([DOC_B_P1, page])
    assert len(plans) == 1
