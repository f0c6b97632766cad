"""Pure-logic parts of the batch stages."""

from kholuu.model import DocumentMetadata
from kholuu.stages import apply_stamp_marks


def test_red_stamps_fill_missing_marks_but_printed_marks_win() -> None:
    m = apply_stamp_marks(DocumentMetadata(), ["KHẨN", "MẬT"])
    assert (m.security_mark, m.urgency_mark) == ("MẬT", "KHẨN")
    m = apply_stamp_marks(DocumentMetadata(security_mark="TỐI MẬT"), ["MẬT", "HỎA TỐC"])
    assert (m.security_mark, m.urgency_mark) == ("TỐI MẬT", "HỎA TỐC")
    m = apply_stamp_marks(DocumentMetadata(), [])
    assert (m.security_mark, m.urgency_mark) == (None, None)


def test_a_secret_stamp_makes_the_document_secret() -> None:
    from kholuu.stages import access_for

    assert access_for(DocumentMetadata(security_mark="MẬT")) == "secret"
    assert access_for(DocumentMetadata()) is None


def test_the_dagster_resource_carries_every_setting(settings) -> None:
    import dataclasses

    from pipelines.resources import KholuuResource

    custom = dataclasses.replace(settings, elasticsearch_url="http://127.0.0.1:9", elasticsearch_index="other",
                                 ocr_timeout_s=42.0, public_access=False)
    assert KholuuResource.from_settings(custom).settings() == custom


def test_which_pages_need_ocr() -> None:
    from types import SimpleNamespace as P

    from kholuu.stages import pages_needing_ocr

    pages = [P(id=1, status="new", confidence=0.0, ocr_settings_hash=""),
             P(id=2, status="ocr", confidence=95.0, ocr_settings_hash="old"),
             P(id=3, status="ocr", confidence=40.0, ocr_settings_hash="old"),
             P(id=4, status="ocr", confidence=40.0, ocr_settings_hash="new"),
             P(id=5, status="blank", confidence=0.0, ocr_settings_hash="old"),
             P(id=6, status="error", confidence=0.0, ocr_settings_hash="old")]
    ids = lambda todo: [p.id for p in todo]  # noqa: E731
    assert ids(pages_needing_ocr(pages, "new")) == [1, 2, 3, 5]
    assert ids(pages_needing_ocr(pages, "new", only_below=70)) == [1, 3]
    assert ids(pages_needing_ocr(pages, "new", force=True)) == [1, 2, 3, 4, 5, 6]
