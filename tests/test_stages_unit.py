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
