"""Joint documents (liên tịch): every issuer and every signer, the first as primary."""

from __future__ import annotations

from extraction.joint import is_joint, split_issuers
from extraction.metadata import extract_metadata
from kholuu.model import Signature

JOINT_SEQUENTIAL = """BAN TUYÊN GIÁO TỈNH ỦY – SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH
ĐẢNG CỘNG SẢN VIỆT NAM
*
Số 02-HDLT/BTGTU-SVHTTDL
Thái Bình, ngày 10 tháng 3 năm 2020
HƯỚNG DẪN LIÊN TỊCH
tuyên truyền kỷ niệm 90 năm Ngày thành lập Đảng Cộng sản Việt Nam
Thực hiện Hướng dẫn của Ban Tuyên giáo Trung ương, liên ngành hướng dẫn như sau:
1. Các huyện ủy, thành ủy chỉ đạo tổ chức các hoạt động tuyên truyền.
2. Các đơn vị văn hóa tổ chức trang trí cổ động trực quan.
T/M BAN TUYÊN GIÁO TỈNH ỦY
TRƯỞNG BAN
Nguyễn Văn An
KT. GIÁM ĐỐC SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH
PHÓ GIÁM ĐỐC
Trần Thị Bình
Nơi nhận:
- Ban Tuyên giáo Trung ương,
- Thường trực Tỉnh ủy,
- Lưu.
"""

JOINT_ACROSS = """TỈNH ỦY THÁI BÌNH ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH
ĐẢNG CỘNG SẢN VIỆT NAM
Số 05-KHLT/TU-UBND
Thái Bình, ngày 2 tháng 9 năm 2015
KẾ HOẠCH LIÊN TỊCH
tổ chức kỷ niệm 70 năm Cách mạng Tháng Tám và Quốc khánh 2/9
Để tổ chức tốt các hoạt động kỷ niệm, liên ngành ban hành kế hoạch như sau:
1. Tổ chức mít tinh tại Quảng trường Thái Bình.
Nơi nhận:
- Ban Bí thư,
- Lưu.
T/M BAN THƯỜNG VỤ TỈNH ỦY T/M ỦY BAN NHÂN DÂN
PHÓ BÍ THƯ CHỦ TỊCH
Phạm Văn Sinh Nguyễn Hồng Diên
"""


def test_joint_issuers_and_sequential_signature_blocks():
    meta = extract_metadata(JOINT_SEQUENTIAL)
    assert meta.number_symbol == "02-HDLT/BTGTU-SVHTTDL"
    assert meta.doc_type == "Hướng dẫn liên tịch"
    assert meta.issuers == ["BAN TUYÊN GIÁO TỈNH ỦY", "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH"]
    assert meta.issuer == "BAN TUYÊN GIÁO TỈNH ỦY"
    assert meta.signers == [Signature("Nguyễn Văn An", "TRƯỞNG BAN"), Signature("Trần Thị Bình", "PHÓ GIÁM ĐỐC")]
    assert (meta.signer_name, meta.signer_title) == ("Nguyễn Văn An", "TRƯỞNG BAN")
    assert meta.subject.startswith("tuyên truyền kỷ niệm 90 năm")
    assert meta.recipients == ["Ban Tuyên giáo Trung ương", "Thường trực Tỉnh ủy", "Lưu"]
    assert meta.to_dict()["signers"][1] == {"name": "Trần Thị Bình", "title": "PHÓ GIÁM ĐỐC"}


def test_joint_issuers_side_by_side_and_signatures_read_across():
    meta = extract_metadata(JOINT_ACROSS)
    assert meta.issuers == ["TỈNH ỦY THÁI BÌNH", "ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH"]
    assert meta.signers == [Signature("Phạm Văn Sinh", "PHÓ BÍ THƯ"), Signature("Nguyễn Hồng Diên", "CHỦ TỊCH")]
    assert meta.signer_name == "Phạm Văn Sinh"


def test_single_issuer_documents_are_not_split():
    # a department under its superior is one issuer, and one signature block is one signer
    text = ("UBND TỈNH LÀO CAI\nSỞ CÔNG THƯƠNG\nSố: 1629/SCT-CN\nLào Cai, ngày 27 tháng 3 năm 2026\n"
            "V/v kiểm tra kho vật liệu nổ\nKính gửi: Công ty Thủy điện.\nSở Công Thương đề nghị Công ty thực hiện./.\n"
            "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nKT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\nHoàng Văn Thuận")
    meta = extract_metadata(text)
    assert meta.issuer == "UBND TỈNH LÀO CAI - SỞ CÔNG THƯƠNG"
    assert meta.issuers == ["UBND TỈNH LÀO CAI - SỞ CÔNG THƯƠNG"]
    assert meta.signers == [Signature("Hoàng Văn Thuận", "PHÓ GIÁM ĐỐC")]


def test_joint_evidence_and_splitting_rules():
    assert is_joint([], "01/2015/TTLT-BNV-BTC", None)
    assert is_joint([], "02-HD/BTGTU-SVHTTDL", None)
    assert is_joint(["NGHỊ QUYẾT LIÊN TỊCH"], None, None)
    assert not is_joint(["QUYẾT ĐỊNH"], "3298/SXD-QLHĐXD", "Công văn")
    assert not is_joint([], "08-CT/TU", "Chỉ thị")
    assert split_issuers("BỘ NỘI VỤ - BỘ TÀI CHÍNH") == ["BỘ NỘI VỤ", "BỘ TÀI CHÍNH"]
    # a body named after another one stays whole
    assert split_issuers("ĐẢNG ỦY ỦY BAN NHÂN DÂN TỈNH HỘI LIÊN HIỆP PHỤ NỮ TỈNH") == [
        "ĐẢNG ỦY ỦY BAN NHÂN DÂN TỈNH", "HỘI LIÊN HIỆP PHỤ NỮ TỈNH"]
    assert split_issuers("BAN TỔ CHỨC TỈNH ỦY SỞ NỘI VỤ") == ["BAN TỔ CHỨC TỈNH ỦY", "SỞ NỘI VỤ"]


def test_catalog_keeps_all_issuers_and_signers(tmp_path):
    from kholuu.catalog import Catalog, DocumentRow
    from kholuu.model import Fonds

    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.load_fonds([Fonds(code="F01", name="Phông Tỉnh ủy")])
    batch = catalog.create_batch("F01", "/scans/lien-tich").id
    page = catalog.upsert_page(batch, 1, "p001.png", 1)
    meta = extract_metadata(JOINT_SEQUENTIAL)
    doc_id = catalog.upsert_document(batch, 1, [page], JOINT_SEQUENTIAL, meta, [])
    doc_id_again = catalog.upsert_document(batch, 1, [page], JOINT_SEQUENTIAL, meta, [])  # idempotent
    assert doc_id_again == doc_id
    with catalog.session() as s:
        row = s.get(DocumentRow, doc_id)
        assert row.issuer == "BAN TUYÊN GIÁO TỈNH ỦY"
        assert row.issuers == ["BAN TUYÊN GIÁO TỈNH ỦY", "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH"]
        assert row.signers == [{"name": "Nguyễn Văn An", "title": "TRƯỞNG BAN"},
                               {"name": "Trần Thị Bình", "title": "PHÓ GIÁM ĐỐC"}]


def test_extract_command_output_lists_every_issuer_and_signer():
    from extraction.cli import format_plain, result_json

    d = result_json(JOINT_ACROSS)
    assert d["issuers"] == ["TỈNH ỦY THÁI BÌNH", "ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH"]
    assert d["signers"][1] == {"name": "Nguyễn Hồng Diên", "title": "CHỦ TỊCH"}
    plain = format_plain(d)
    assert "Các cơ quan ban hành: TỈNH ỦY THÁI BÌNH; ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH" in plain
    assert "Những người ký: PHÓ BÍ THƯ Phạm Văn Sinh; CHỦ TỊCH Nguyễn Hồng Diên" in plain
    single = format_plain(result_json("TỈNH ỦY THÁI BÌNH\nSố 08-CT/TU\nCHỈ THỊ\nvề nông thôn mới\n"))
    assert "Các cơ quan ban hành" not in single
