"""The project's own annotated NER training corpus (PER, ORG, LOC, DATE).

Why generated: no Vietnamese archival NER corpus can be downloaded here, and
the entities of Party documents are regular (bodies + places, titles + names,
dated formulas) but come in more combinations than any gazetteer lists. The
generator fills hand-written sentence templates with names drawn from the
gazetteers in ``extraction/data/`` and from invented person, commune and body
names, so the model sees shapes, not a memorized list. A share of sentences
passes through ``ocr_noise`` (the diacritic slips Tesseract makes, one
character for one, so the spans stay put), and header lines appear in capitals.

Annotation conventions (the same as the held-out sets in ``tests/data/``):
"ngày D tháng M năm Y" includes "ngày"; numeric dates do not; a person's
title ("đồng chí", "Bí thư") is not part of PER; a body inside a title
("Bí thư Huyện ủy Hưng Hà") is an ORG; a place keeps its unit word
("huyện Vũ Thư", "xã Đông Hợp").

The corpus is written to ``extraction/data/ner/train.txt`` in the
``[[text|LABEL]]`` line format, with the hand-checked sentences of
``extraction/data/ner/handchecked.txt`` kept apart. ``python -m
extraction.ner_corpus`` regenerates it deterministically (fixed seed).
The held-out sets share no sentence and no template with it
(``tests/test_extraction_ner.py`` checks the sentences).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Callable

from extraction.entities import DATA_DIR, gazetteers
from kholuu.textnorm import normalize

NER_DIR = DATA_DIR / "ner"
TRAIN_PATH = NER_DIR / "train.txt"
HANDCHECKED_PATH = NER_DIR / "handchecked.txt"
SEED = 20261129
MARK_RE = re.compile(r"\[\[(.+?)\|(PER|ORG|LOC|DATE)\]\]")

# Invented name parts (not taken from any held-out set).
_MIDDLE = ["Văn", "Thị", "Đức", "Hữu", "Quang", "Minh", "Xuân", "Thanh", "Ngọc", "Công", "Đình", "Huy",
           "Trọng", "Kim", "Bá", "Duy", "Hồng", "Thế", "Mạnh", "Khắc", "Như", "Viết", "Tiến", "Phương"]
_GIVEN = ["An", "Bình", "Chiến", "Dũng", "Giang", "Hải", "Hạnh", "Hiền", "Hòa", "Hùng", "Khánh", "Khoa",
          "Lâm", "Liên", "Linh", "Lộc", "Minh", "Nam", "Nga", "Nghĩa", "Ngân", "Nhung", "Phong", "Phúc",
          "Quân", "Quyết", "Sơn", "Tâm", "Thắng", "Thành", "Thảo", "Thịnh", "Thủy", "Tiến", "Toàn", "Trang",
          "Trung", "Tuấn", "Tùng", "Uyên", "Vinh", "Xuân", "Yến", "Đạt", "Điệp", "Cường", "Hậu", "Kiên",
          "Luyến", "Mừng", "Oanh", "Quế", "Sáu", "Tình", "Vượng", "Thuận", "Khải", "Định", "Bắc", "Chung"]
_COMMUNES = ["Đông Lâm", "Tây Giang", "Nam Hồng", "Bắc Sơn", "Minh Tân", "Hồng Phong", "Quang Trung",
             "An Ninh", "Thụy Liên", "Vũ Lạc", "Đình Phùng", "Tân Lập", "Hòa Bình", "Thái Hà", "Phú Xuân",
             "Quỳnh Hoa", "Kim Trung", "Văn Cẩm", "Canh Tân", "Hồng An", "Bình Minh", "Trà Giang",
             "Nam Cao", "Đông Trà", "Thượng Hiền", "Mường Khương", "Bảo Yên", "Sa Pa", "Cốc San", "Tả Van"]
_VILLAGES = ["thôn Đoài", "thôn Đông", "thôn Nam", "xóm Mới", "thôn Thượng", "làng Hạ", "bản Pao", "ấp Bắc"]
_NOVEL_BODIES = ["Ban Quản lý các khu công nghiệp tỉnh", "Trường Chính trị tỉnh", "Báo Thái Bình",
                 "Đài Phát thanh và Truyền hình tỉnh", "Kho bạc Nhà nước tỉnh", "Ngân hàng Chính sách xã hội",
                 "Cục Thuế tỉnh", "Chi cục Thủy lợi", "Trung tâm Lưu trữ lịch sử", "Viện Kiểm sát nhân dân tỉnh",
                 "Tòa án nhân dân tỉnh", "Hội Cựu thanh niên xung phong tỉnh", "Công đoàn Viên chức tỉnh",
                 "Ban Quản lý dự án đầu tư xây dựng tỉnh", "Thanh tra tỉnh", "Chi bộ Văn phòng",
                 "Đảng bộ Quân sự tỉnh", "Đoàn Thanh niên Cộng sản Hồ Chí Minh", "Hợp tác xã nông nghiệp Tân Lập"]
# Compositional bodies: a head, a field in lower case, a level. The names of real
# bodies run long and mostly in lower case ("Trung tâm Dịch vụ việc làm tỉnh"), which
# no gazetteer lists completely; the model must learn where such a name ends.
_BODY_HEADS = ["Trung tâm", "Ban", "Hội", "Cục", "Chi cục", "Tổng cục", "Viện", "Trường", "Bệnh viện", "Đài",
               "Công ty", "Tập đoàn", "Vụ", "Phòng", "Ban Quản lý", "Ban Chỉ đạo", "Hội đồng", "Quỹ", "Đoàn",
               "Ban Đại diện", "Liên minh", "Câu lạc bộ", "Nhà văn hóa", "Bảo tàng", "Thư viện", "Kho bạc"]
_BODY_FIELDS = ["Khuyến nông", "Phát triển quỹ đất", "Kiểm soát bệnh tật", "Dịch vụ việc làm",
                "Công nghệ thông tin và Truyền thông", "Bảo trợ xã hội", "Đăng kiểm xe cơ giới",
                "Quan trắc môi trường", "Xúc tiến đầu tư, thương mại và du lịch", "Văn hóa nghệ thuật",
                "Giống cây trồng", "Chăn nuôi và Thú y", "Thủy sản", "Kiểm lâm", "Đo lường chất lượng",
                "Pháp y", "Phòng chống thiên tai", "Người cao tuổi", "Khuyến học", "Cựu giáo chức",
                "Nước sạch và Vệ sinh môi trường nông thôn", "Hỗ trợ phát triển doanh nghiệp", "Điều dưỡng",
                "Tư vấn thiết kế xây dựng", "Giáo dục nghề nghiệp", "Thi đua, khen thưởng", "Công tác xã hội",
                "An toàn giao thông", "Bảo vệ thực vật", "Phát thanh", "Kinh tế hợp tác", "Lưu trữ"]
_BODY_LEVELS = ["", "", " tỉnh", " tỉnh {P}", " huyện {D}", " thành phố", " khu vực I", " số 2"]
_PLACES_FOR_BODIES = ["Thái Bình", "Hưng Yên", "Lào Cai", "Nam Định", "Hà Nam", "Ninh Bình"]
_DISTRICTS_FOR_BODIES = ["Đông Hưng", "Kiến Xương", "Bát Xát", "Văn Giang", "Tiền Hải", "Bảo Thắng"]


def _compositional_body(rng: random.Random) -> str:
    field = rng.choice(_BODY_FIELDS)
    if rng.random() < 0.5:
        field = field[0].lower() + field[1:]
    level = rng.choice(_BODY_LEVELS).format(P=rng.choice(_PLACES_FOR_BODIES), D=rng.choice(_DISTRICTS_FOR_BODIES))
    return f"{rng.choice(_BODY_HEADS)} {field}{level}"


# Bodies named after another body ("Đảng ủy Bộ Tài chính", "Văn phòng Sở Nội vụ"):
# one entity, not two.
_PARENT_PREFIXES = ["Đảng ủy", "Văn phòng", "Công đoàn", "Chi bộ", "Đoàn Thanh niên", "Thanh tra", "Ban Cán sự đảng"]

_TITLES_BEFORE = ["đồng chí", "Đồng chí", "ông", "Ông", "bà", "Bà", "đ/c", "Bí thư", "Phó Bí thư", "Chủ tịch",
                  "Phó Chủ tịch", "Giám đốc", "Trưởng ban", "Chánh Văn phòng"]

# Templates: {PER} {ORG} {LOC} {DATE} slots; "{ORG_CAPS}" is a header line in capitals.
TEMPLATES = [
    "{DATE}, {ORG} tổ chức hội nghị quán triệt nghị quyết tại {LOC}.",
    "Đồng chí {PER}, Bí thư {ORG}, chủ trì buổi làm việc với {ORG}.",
    "{ORG} giao {ORG} chủ trì, phối hợp với {ORG} triển khai thực hiện.",
    "Ông {PER}, cán bộ {ORG}, được cử đi công tác tại {LOC} từ {DATE}.",
    "Bà {PER} được bầu giữ chức Chủ tịch {ORG} nhiệm kỳ mới.",
    "Căn cứ Quyết định số 125-QĐ/TU {DATE} của {ORG} về công tác cán bộ;",
    "Theo đề nghị của {ORG}, {ORG} quyết định khen thưởng đồng chí {PER}.",
    "Hội nghị có sự tham dự của đồng chí {PER} và đồng chí {PER}.",
    "Đoàn kiểm tra của {ORG} làm việc với {ORG} {DATE}.",
    "Nhân dân {LOC} đã hoàn thành việc đắp đê trước {DATE}.",
    "{ORG} yêu cầu các đơn vị báo cáo kết quả về {ORG} trước {DATE}.",
    "Thay mặt {ORG}, đồng chí {PER} trao Huy hiệu Đảng cho các đảng viên ở {LOC}.",
    "Năm 2019, {LOC} có 12 xã đạt chuẩn nông thôn mới.",
    "Thực hiện Kế hoạch số 45-KH/TU {DATE} của {ORG}, {ORG} hướng dẫn như sau:",
    "Đồng chí {PER} phụ trách địa bàn {LOC} và {LOC}.",
    "Sáng {DATE}, tại {LOC}, {ORG} long trọng tổ chức lễ kỷ niệm.",
    "{ORG} đã kiểm tra, giám sát 15 tổ chức đảng thuộc {ORG}.",
    "Kính gửi: {ORG}.",
    "- {ORG};",
    "Nơi nhận: - {ORG} (để báo cáo); - {ORG};",
    "Ông {PER}, trú tại {LOC}, {LOC}, có đơn kiến nghị gửi {ORG}.",
    "Bà {PER}, Phó Chủ tịch {ORG}, trình bày báo cáo tổng kết.",
    "Tờ trình {DATE} của {ORG} về việc điều chỉnh quy hoạch {LOC}.",
    "{ORG} và {ORG} ký quy chế phối hợp {DATE}.",
    "Chủ tịch {PER} đi thăm và làm việc tại {LOC}.",
    "Đồng chí {PER}, Ủy viên Ban Thường vụ, Trưởng {ORG}, phát biểu chỉ đạo.",
    "Tham dự có đại diện lãnh đạo {ORG}, {ORG} và {ORG}.",
    "Trận lũ {DATE} làm hư hỏng nhiều công trình ở {LOC}.",
    "Chi bộ thôn họp ngày cuối tháng, đồng chí {PER} làm thư ký.",
    "{ORG} ban hành Quy chế làm việc {DATE}.",
    "Ngày {DATE_NUM}, {ORG} có Công văn gửi {ORG}.",
    "Giao {ORG} theo dõi, đôn đốc; định kỳ báo cáo {ORG}.",
    "Từ {DATE} đến {DATE}, {ORG} tổ chức đợt sinh hoạt chính trị.",
    "Gia đình ông {PER} ở {LOC} được tặng Bằng khen.",
    "Đ/c {PER} (Phó Bí thư {ORG}) được điều động về {ORG}.",
    "Số liệu do {ORG} cung cấp, tính đến {DATE}.",
    "{ORG} thống nhất đề nghị {ORG} xem xét, quyết định.",
    "Đồng chí {PER} và đồng chí {PER} được chỉ định vào {ORG}.",
    "Các đồng chí lãnh đạo {ORG} đến thăm hỏi, tặng quà các gia đình chính sách ở {LOC}.",
    "{LOC} là địa phương dẫn đầu phong trào thi đua năm 2023.",
    "Hồ sơ gửi về {ORG} ({LOC}) trước {DATE}.",
    "Ông {PER}, nguyên Bí thư {ORG}, từ trần hồi 9 giờ {DATE}.",
    "{ORG_CAPS}",
    "{ORG_CAPS}\n*\nSố 12-NQ/TU",
    "{LOC_CAPS}, {DATE}",
    "{PLACE}, {DATE}",
    "T/M BAN THƯỜNG VỤ\nBÍ THƯ\n{PER}",
    "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n{PER}",
]

# Capitalized subject lines and references that hold no entity or only a few:
# the model must not take every word in capitals for a body.
_CAPS_SUBJECTS = [
    "VỀ VIỆC BAN HÀNH QUY CHẾ LÀM VIỆC NHIỆM KỲ 2020 - 2025", "VỀ TĂNG CƯỜNG CÔNG TÁC PHÒNG, CHỐNG THAM NHŨNG",
    "QUY ĐỊNH CHỨC NĂNG, NHIỆM VỤ, QUYỀN HẠN VÀ CƠ CẤU TỔ CHỨC", "SỬA ĐỔI, BỔ SUNG MỘT SỐ ĐIỀU CỦA QUY ĐỊNH",
    "VỀ ĐẨY MẠNH CHUYỂN ĐỔI SỐ TRONG CÁC CƠ QUAN ĐẢNG", "BÃI BỎ TOÀN BỘ QUYẾT ĐỊNH SỐ 17/2025/QĐ-UBND",
    "TIẾP TỤC NÂNG CAO CHẤT LƯỢNG SINH HOẠT CHI BỘ", "VỀ PHÂN CẤP QUẢN LÝ CÁN BỘ VÀ QUY HOẠCH, BỔ NHIỆM",
    "KẾ HOẠCH TỔ CHỨC THỰC HIỆN CHƯƠNG TRÌNH MỤC TIÊU QUỐC GIA", "QUY CHẾ PHỐI HỢP GIỮA CÁC CƠ QUAN",
    "BAN HÀNH ĐỊNH MỨC PHỤ CẤP, TRỢ CẤP NGÀY CÔNG LAO ĐỘNG", "VỀ CÔNG TÁC TUYÊN TRUYỀN, GIÁO DỤC CHÍNH TRỊ",
    "CHẤP THUẬN CHỦ TRƯƠNG ĐẦU TƯ ĐỒNG THỜI CHẤP THUẬN NHÀ ĐẦU TƯ", "HƯỚNG DẪN KIỂM ĐIỂM, ĐÁNH GIÁ, XẾP LOẠI",
    "QUYẾT ĐỊNH", "NGHỊ QUYẾT", "CHỈ THỊ", "KẾT LUẬN", "THÔNG BÁO", "HƯỚNG DẪN", "ĐỘC LẬP - TỰ DO - HẠNH PHÚC",
]
_CAPS_WITH = [
    "VỀ VIỆC THỰC HIỆN NGHỊ QUYẾT CỦA {ORG_CAPS}", "TRIỂN KHAI QUYẾT ĐỊNH {DATE_CAPS} CỦA {ORG_CAPS}",
    "VỀ PHÁT TRIỂN KINH TẾ - XÃ HỘI {LOC_CAPS2} GIAI ĐOẠN 2021 - 2025", "TRÊN ĐỊA BÀN {LOC_CAPS2}",
]
_REFERENCES = [
    "Căn cứ Luật Tổ chức chính quyền địa phương số 72/2025/QH15 {DATE};",
    "Căn cứ Nghị định số 200/2025/NĐ-CP {DATE} của {ORG} quy định chi tiết một số điều;",
    "Xét Tờ trình số 390/TTr-UBND {DATE} của {ORG};",
    "1. {ORG} có trách nhiệm hướng dẫn, kiểm tra việc thực hiện.",
    "2. Giao {ORG} chủ trì, phối hợp với các sở, ngành liên quan.",
    "3. Chánh Văn phòng, Giám đốc các sở, Thủ trưởng các cơ quan chịu trách nhiệm thi hành.",
    "Điều 3. {ORG}, {ORG} và các cơ quan liên quan chịu trách nhiệm thi hành Quyết định này.",
    "Thông tư số 41/2024/TT-BGTVT {DATE} của Bộ trưởng {ORG}.",
    "a) Kiểm tra hồ sơ theo quy định tại Điều 23 Nghị định 06/2021/NĐ-CP {DATE};",
    "- Lưu: VT, {ORG_SHORT}.",
    "Số: 1629/SCT-CN",
    "V/v tham gia ý kiến về phương án của Công ty",
]
# People named without a title: at the start of a sentence, in lists, after "của".
_BARE_NAMES = [
    "{PER} sinh năm 1952 tại {LOC}.",
    "{PER}, {PER} và {PER} được đề nghị khen thưởng.",
    "Theo lời kể của {PER}, trận đánh diễn ra vào {DATE}.",
    "{PER} (1920 - 1998), quê ở {LOC}, tham gia cách mạng từ năm 1945.",
    "Danh sách gồm: {PER}, {PER}, {PER}.",
    "Hồi ký của {PER} được {ORG} sưu tầm.",
    "Người ký: {PER}",
]
_ENUMERATIONS = [
    "1. Mục đích", "2. Yêu cầu - Bảo đảm đúng quy định.", "II. NHIỆM VỤ VÀ GIẢI PHÁP", "3. Tổ chức thực hiện",
    "a) Phạm vi điều chỉnh", "Điều 5. Hiệu lực thi hành", "2. Người đứng đầu cơ quan chịu trách nhiệm.",
    "- Như Điều 3;", "- Như trên;", "Phụ lục I", "Mẫu số 02", "Bảng 1-4 trang 14", "Chương II. QUY ĐỊNH CỤ THỂ",
    "4. Các cơ quan, đơn vị thuộc Bộ phận Một cửa tiếp nhận hồ sơ.",
]
_CONTEXT_ONLY = [  # no entity: capitalized words that are not names
    "Hội nghị lần thứ tám Ban Chấp hành khóa XIV bàn về công tác cán bộ.",
    "Các tỉnh ủy, thành ủy báo cáo kết quả sơ kết.",
    "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
    "Nâng cao chất lượng sinh hoạt chi bộ, giữ vững hòa bình và ổn định.",
    "Các đồng chí huyện ủy viên phụ trách cơ sở phải sâu sát.",
    "Tổng kết 10 năm thực hiện Nghị quyết Trung ương 7 khóa X.",
    "Cải cách hành chính, chuyển đổi số là nhiệm vụ trọng tâm.",
]


def ocr_noise(text: str, rng: random.Random, rate: float = 0.08) -> str:
    """Tesseract's usual slips on Vietnamese, one character for one so spans stay:
    a tone dropped or swapped (Đảng→Đăng, biểu→biếu, về→vẽ), đ→d, ư→u, ơ→o."""
    swaps = {"ả": "ă", "ể": "ế", "ề": "ẽ", "ỉ": "i", "ỷ": "y", "ủ": "u", "ộ": "ô", "ố": "ô", "ồ": "ô",
             "ạ": "a", "ị": "i", "ụ": "u", "ợ": "ơ", "ọ": "o", "đ": "d", "Đ": "D", "ư": "u", "ơ": "o",
             "ờ": "ơ", "ớ": "ơ", "ấ": "â", "ầ": "â", "ậ": "â", "ệ": "ê", "ế": "ê", "ữ": "ư", "ỳ": "y",
             "Ủ": "U", "Ỉ": "I", "Ộ": "Ô", "Ố": "Ô"}
    out = []
    for ch in text:
        if ch in swaps and rng.random() < rate:
            out.append(swaps[ch])
        elif ch == "l" and rng.random() < rate / 4:
            out.append("I")
        else:
            out.append(ch)
    return "".join(out)


def _person(rng: random.Random) -> str:
    g = gazetteers()
    surname = rng.choice(sorted(g.surnames))
    parts = [surname]
    if rng.random() < 0.85:
        parts.append(rng.choice(_MIDDLE))
    if rng.random() < 0.3:
        parts.append(rng.choice(_MIDDLE[3:]))
    parts.append(rng.choice(_GIVEN))
    return " ".join(parts)


def _date(rng: random.Random, numeric: bool | None = None) -> str:
    y, m, d = rng.randint(1945, 2026), rng.randint(1, 12), rng.randint(1, 28)
    kind = rng.random() if numeric is None else (0.6 if numeric else 0.0)
    if kind < 0.5:
        dd = f"{d:02d}" if rng.random() < 0.3 else str(d)
        mm = f"{m:02d}" if rng.random() < 0.3 else str(m)
        return f"ngày {dd} tháng {mm} năm {y}"
    if kind < 0.85:
        sep = rng.choice(["/", "/", "/", "-", "."])
        return f"{d}{sep}{m}{sep}{y}" if rng.random() < 0.6 else f"{d:02d}{sep}{m:02d}{sep}{y}"
    return f"tháng {m} năm {y}"


def _place_name(rng: random.Random) -> str:
    g = gazetteers()
    return rng.choice(sorted({v for v in g.places.values()}))


def _loc(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.2:
        return _place_name(rng)
    if r < 0.35:
        return "tỉnh " + _place_name(rng)
    if r < 0.55:
        return rng.choice(["huyện ", "huyện ", "thị xã ", "quận "]) + rng.choice(
            ["Đông Hưng", "Hưng Hà", "Kiến Xương", "Quỳnh Phụ", "Thái Thụy", "Tiền Hải", "Vũ Thư", "Bát Xát",
             "Mường Khương", "Văn Giang", "Khoái Châu", "Bảo Thắng"])
    if r < 0.85:
        return rng.choice(["xã ", "xã ", "phường ", "thị trấn "]) + rng.choice(_COMMUNES)
    if r < 0.93:
        return "thành phố " + rng.choice(["Thái Bình", "Hưng Yên", "Lào Cai", "Nam Định", "Hà Nội"])
    return rng.choice(_VILLAGES)


def _org(rng: random.Random) -> str:
    g = gazetteers()
    r = rng.random()
    if r < 0.12:
        return rng.choice(_NOVEL_BODIES)
    if r < 0.30:
        return _compositional_body(rng)
    if r < 0.36:
        parent = rng.choice(["Bộ Tài chính", "Sở Nội vụ", "Chính phủ", "Quốc hội", "Bộ Công an", "Sở Y tế",
                             "Ủy ban nhân dân tỉnh", "Cục Thuế", "Bộ Quốc phòng", "Tòa án nhân dân tỉnh"])
        return f"{rng.choice(_PARENT_PREFIXES)} {parent}"
    if r < 0.25:
        dept = rng.choice([b for b in g.bodies if b["name"].startswith(("Sở ", "Bộ "))])["name"]
        if dept.startswith("Sở ") and rng.random() < 0.4:
            return f"{dept} tỉnh {rng.choice(['Thái Bình', 'Lào Cai', 'Hưng Yên'])}"
        return dept
    # district offices and pre-1976 services (Phòng, Ty) are the departments' names again
    body = rng.choice([b for b in g.bodies if not b["name"].startswith(("Sở ", "Bộ ", "Phòng ", "Ty "))])
    alias = rng.choice([body["name"], body["name"], *body["aliases"]])
    if body["place"] and (rng.random() < 0.7 or len(alias) <= 3):
        lower = alias.lower()
        if lower.endswith((" xã", " phường")):
            return f"{alias} {rng.choice(_COMMUNES)}"
        if lower.endswith((" huyện",)):
            return f"{alias} {rng.choice(['Đông Hưng', 'Hưng Hà', 'Vũ Thư', 'Tiền Hải', 'Bát Xát'])}"
        if lower.endswith((" tỉnh", " thành phố")):
            return f"{alias} {rng.choice(['Thái Bình', 'Hưng Yên', 'Lào Cai', 'Nam Định'])}"
        if lower in ("huyện ủy", "hu", "ban thường vụ huyện ủy", "văn phòng huyện ủy", "ban tổ chức huyện ủy"):
            return f"{alias} {rng.choice(['Đông Hưng', 'Quỳnh Phụ', 'Kiến Xương', 'Thái Thụy', 'Văn Giang'])}"
        if lower in ("đảng ủy", "đu"):
            return f"{alias} xã {rng.choice(_COMMUNES)}" if rng.random() < 0.6 else f"{alias} {rng.choice(_NOVEL_BODIES[:3])}"
        return f"{alias} {rng.choice(['Thái Bình', 'Hưng Yên', 'Lào Cai', 'Nam Định', 'Hải Dương'])}"
    return alias


_SLOTS: dict[str, tuple[str | None, Callable[[random.Random], str]]] = {
    # slot: (label, or None for plain text; what fills it)
    "PER": ("PER", _person),
    "ORG": ("ORG", _org),
    "ORG_CAPS": ("ORG", lambda rng: _org(rng).upper()),
    "LOC": ("LOC", _loc),
    "LOC_CAPS": ("LOC", lambda rng: _place_name(rng).upper()),
    "LOC_CAPS2": ("LOC", lambda rng: _loc(rng).upper()),
    "PLACE": ("LOC", _place_name),
    "DATE": ("DATE", _date),
    "DATE_CAPS": ("DATE", lambda rng: _date(rng, numeric=False).upper()),
    "DATE_NUM": ("DATE", lambda rng: _date(rng, numeric=True)),
    "ORG_SHORT": (None, lambda rng: rng.choice(["TH", "QLGT", "CN", "KHTC", "VPTU", "XD"])),
}


def _fill(template: str, rng: random.Random) -> str:
    def sub(m: re.Match[str]) -> str:
        label, make = _SLOTS[m.group(1)]
        text = make(rng)
        return f"[[{text}|{label}]]" if label else text

    return re.sub(r"\{(\w+)\}", sub, template)


def _noisy_marked(line: str, rng: random.Random) -> str:
    """OCR noise on the text, marks kept (the noise never touches "[[", "|LABEL]]")."""
    out, pos = [], 0
    for m in MARK_RE.finditer(line):
        out.append(ocr_noise(line[pos:m.start()], rng))
        out.append(f"[[{ocr_noise(m.group(1), rng)}|{m.group(2)}]]")
        pos = m.end()
    out.append(ocr_noise(line[pos:], rng))
    return "".join(out)


def generate(n: int = 4000, seed: int = SEED) -> list[str]:
    """``n`` annotated lines (one document snippet each; "\\n" inside is written as " ⏎ ")."""
    rng = random.Random(seed)
    out: list[str] = []
    for k in range(n):
        r = rng.random()
        if k % 25 == 0:
            line = rng.choice(_CONTEXT_ONLY)
        elif r < 0.06:
            line = rng.choice(_CAPS_SUBJECTS)
        elif r < 0.10:
            line = _fill(rng.choice(_CAPS_WITH), rng)
        elif r < 0.20:
            line = _fill(rng.choice(_REFERENCES), rng)
        elif r < 0.28:
            line = _fill(rng.choice(_BARE_NAMES), rng)
        elif r < 0.33:
            line = rng.choice(_ENUMERATIONS)
        else:
            line = _fill(rng.choice(TEMPLATES), rng)
        line = normalize(line)
        if line.startswith("[["):
            line = line[:2] + line[2].upper() + line[3:]
        if rng.random() < 0.25:
            line = _noisy_marked(line, rng)
        out.append(line)
    return out


def parse_marked(line: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Plain text and (start, end, label) spans of one ``[[text|LABEL]]`` line."""
    line = line.replace(" ⏎ ", "\n")
    text, spans, pos, length = [], [], 0, 0
    for m in MARK_RE.finditer(line):
        before = line[pos:m.start()]
        text.append(before)
        length += len(before)
        spans.append((length, length + len(m.group(1)), m.group(2)))
        text.append(m.group(1))
        length += len(m.group(1))
        pos = m.end()
    text.append(line[pos:])
    return "".join(text), spans


def read_marked(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return [parse_marked(l) for l in path.read_text(encoding="utf-8").splitlines()
            if l.strip() and not l.startswith("#")]


def main() -> int:
    NER_DIR.mkdir(parents=True, exist_ok=True)
    lines = generate()
    header = ("# Generated by `python -m extraction.ner_corpus` (templates + gazetteers, seed "
              f"{SEED}); do not edit: edit the generator.\n# A line break inside a snippet is written \" ⏎ \".\n")
    TRAIN_PATH.write_text(header + "\n".join(l.replace("\n", " ⏎ ") for l in lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lines → {TRAIN_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
