"""Signature blocks as OCR reads them off real scans (bench/extraction_scans.py misses).

Each text below has the shape of the last page of a real scanned or signed
document after kholuu's OCR (names invented): the seal or the signature image
over the name, the signature column read across the recipients list, specks.
"""

from __future__ import annotations

from extraction.metadata import extract_metadata

BODY = ("ỦY BAN NHÂN DÂN TỈNH LÀO CAI\nSỞ CÔNG THƯƠNG\nSố: 1234/SCT-CN\nLào Cai, ngày 3 tháng 4 năm 2026\n"
        "V/v kiểm tra công trình\nKính gửi: Công ty cổ phần Xây dựng.\n"
        "Sở Công Thương thông báo để Công ty được biết và phối hợp triển khai thực hiện./.\n")


def test_title_read_across_recipients_name_lost_under_the_seal():
    # "dd nhận: KT. GIÁM ĐÓC" / "- Ban Giám đốc Sở; PHO GIAM ĐỌC": OCR dropped tones and
    # read the two columns across; the name under the signature image was not read at all
    text = BODY + ("dd nhận: KT. GIÁM ĐÓC\n- Như trên; h Ắ n\n- Ban Giám đốc Sở; PHO GIAM ĐỌC\n"
                   "- Phòng QLNL (để phối hợp);\n- Lưu: VT, CN (ang)-")
    meta = extract_metadata(text)
    assert meta.signer_name is None  # not printed in the text: never guessed
    assert meta.signer_title == "PHÓ GIÁM ĐỐC"
    assert meta.recipients[:2] == ["Như trên", "Ban Giám đốc Sở"]


def test_name_with_seal_specks_at_the_end_of_a_recipient_line():
    text = BODY + ("4ơi nhận: _—— GIÁM ĐÓC\n- Như trên; r.\n- Bộ Giáo dục và Đào tạo; 7 ữ ắc\n"
                   "- Các Sở: Y tế, TT&TT; Ä lJ jAL—~\n- Trang TTĐT Sở; Lê ê Thị Bích Hằng\n- Lưu: VT, CTrTT.")
    meta = extract_metadata(text)
    assert meta.signer_name == "Lê Thị Bích Hằng"
    assert meta.signer_title == "GIÁM ĐỐC"


def test_name_alone_after_the_recipients_title_lost():
    # a signed PDF rendered and OCR'd: the title lines sat under the e-signature image
    text = BODY + "Nơi nhận:\n- Như trên;\n- Giám đốc Sở (B/€);\n- Lưu: VT, QLGT.\nTrần Văn Hiếu"
    meta = extract_metadata(text)
    assert meta.signer_name == "Trần Văn Hiếu"
    assert meta.signer_title is None
    assert meta.recipients == ["Như trên", "Giám đốc Sở (B/€)", "Lưu: VT, QLGT"]


def test_authority_of_a_deputy_without_own_title_gives_no_title():
    # "KT. BỘ TRƯỞNG" read, "THỨ TRƯỞNG" and the name lost: which deputy signed is unknown
    text = BODY + ("chịu trách nhiệm thi hành Quyết định này./. z4\nKT. BỘ TRƯỞNG\nNơi nhận:\n- Như Điều 3;\n"
                   "- Lưu: VT, Vụ KHCNMT&VLXDq¿\".")
    meta = extract_metadata(text)
    assert meta.signer_name is None and meta.signer_title is None


def test_title_only_block_with_own_title():
    text = BODY + "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nT/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ\n"
    meta = extract_metadata(text)
    assert meta.signer_name is None
    assert meta.signer_title == "PHÓ BÍ THƯ"


def test_ordinary_block_still_wins_and_body_sentence_is_no_name():
    text = BODY + "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nKT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n\nHoàng Văn Thuận"
    meta = extract_metadata(text)
    assert (meta.signer_name, meta.signer_title) == ("Hoàng Văn Thuận", "PHÓ GIÁM ĐỐC")
    # a capitalized line at the end that does not follow a recipients list is not a signer
    meta = extract_metadata(BODY + "Lào Cai Công Thương")
    assert meta.signer_name is None


def test_authority_block_with_ocr_specks_and_lost_tones_is_repaired():
    # an aged page: "T/M BỘ CHÍNH TRỊ" read with a speck and the tone of "TRỊ" lost
    text = BODY.replace("ỦY BAN NHÂN DÂN TỈNH LÀO CAI\nSỞ CÔNG THƯƠNG\n", "BAN CHẤP HÀNH TRUNG ƯƠNG\n") + (
        "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nT/M BỘ CHÍNH : TRI\nTrần Cẩm Vân")
    meta = extract_metadata(text)
    assert (meta.signer_name, meta.signer_title) == ("Trần Cẩm Vân", "T/M BỘ CHÍNH TRỊ")
