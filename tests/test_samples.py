"""The project's sample documents and their page renderer.

Real fonts, real PIL drawing, real Tesseract for the OCR check; pages are
rendered at a low dpi where the size of the page does not matter, to stay fast.
"""

from __future__ import annotations

import csv
import os
import subprocess
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pikepdf
import pytest
import yaml
from PIL import Image

from kholuu.errors import KholuuError
from kholuu.manifest import scan_folder
from kholuu.samples import (
    DOC_TYPE_CODES,
    SampleError,
    load_samples,
    sample_by_id,
)
from kholuu.samples.render import (
    RenderError,
    _seal_texts,
    font_paths,
    ground_truth,
    missing_glyphs,
    render_document,
    render_pages,
    strip_markup,
    write_sample_batch,
)
from kholuu.textnorm import normalize

FONDS_FILE = Path(__file__).resolve().parents[1] / "kholuu" / "data" / "fonds.yaml"


@pytest.fixture(scope="module")
def docs():
    return load_samples()


def _strings(doc) -> list[str]:
    sig = doc.signature
    return [doc.id, doc.doc_type, doc.number_symbol, doc.place, doc.title, doc.number_line, doc.date_line,
            *doc.superior, *doc.issuer, *doc.subject, *doc.body, *sig.authority, sig.title, sig.name,
            *doc.recipients]


def test_samples_load_with_required_fields(docs):
    assert len(docs) >= 12
    for d in docs:
        for s in _strings(d):
            assert unicodedata.is_normalized("NFC", s), (d.id, s)
        assert d.issuer and d.subject and d.body and d.recipients and d.signature.name, d.id
        assert d.signature.title and d.place and d.fonds and d.register and d.file_number, d.id
        assert d.era_style in ("typewriter", "print", "digital")
        assert d.title or d.doc_type == "Công văn"
        # the type code in the number matches the document type
        code = d.number_symbol.split("-", 1)[1].split("/", 1)[0]
        assert code == DOC_TYPE_CODES[d.doc_type], d.id


def test_sample_numbers_and_ids_are_unique(docs):
    assert len({d.id for d in docs}) == len(docs)
    keys = Counter((" ".join(d.issuer), d.number_symbol, d.issued_date.year) for d in docs)
    assert max(keys.values()) == 1


def test_samples_cover_eras_types_marks_and_page_counts(docs):
    assert {d.era_style for d in docs} == {"typewriter", "print", "digital"}
    assert {"pre-1998", "1998", "2004", "2018"} <= {d.format for d in docs}
    assert min(d.issued_date.year for d in docs) < 1970 and max(d.issued_date.year for d in docs) >= 2020
    assert len({d.doc_type for d in docs}) >= 10
    assert any(d.security_mark == "MẬT" for d in docs)
    assert any(d.urgency_mark == "KHẨN" for d in docs)
    pages = Counter(d.pages for d in docs)
    assert pages[3] >= 1 and pages[2] >= 2 and pages[1] >= len(docs) // 2
    # the other tone-mark placement, on purpose, in a few documents
    old_style = [d.id for d in docs if any(normalize(s) != s for s in _strings(d))]
    assert len(old_style) >= 2, old_style
    for d in docs:  # era style follows the date
        if d.issued_date.year < 1990:
            assert d.era_style == "typewriter", d.id


def test_samples_fonds_exist_and_dates_fall_in_their_years(docs):
    fonds = {f["code"]: f for f in yaml.safe_load(FONDS_FILE.read_text(encoding="utf-8"))["fonds"]}
    for d in docs:
        assert d.fonds in fonds, d.id
        f = fonds[d.fonds]
        assert f["start_year"] <= d.issued_date.year <= f["end_year"], d.id
    assert "F01" in {d.fonds for d in docs} and len({d.fonds for d in docs}) >= 6


def test_nong_thon_moi_mentions(docs):
    def body(d):
        return normalize(" ".join([*d.subject, *d.body])).lower()

    new = [d for d in docs if "nông thôn mới" in body(d)]
    assert len(new) >= 4
    assert len({body(d).count("nông thôn mới") for d in new}) >= 3  # varying frequency
    only_rural = [d for d in docs if "nông thôn" in body(d) and "nông thôn mới" not in body(d)]
    assert len(only_rural) >= 2


def test_expected_metadata_is_normalized_and_consistent(docs):
    for d in docs:
        m = d.expected()
        assert m.number_symbol == d.number_symbol and m.issued_date == d.issued_date
        for value in (m.issuer, m.place, m.subject, m.signer_name, m.signer_title, *m.recipients):
            assert value and value == normalize(value), (d.id, value)
        assert not any(r.startswith("-") or r.endswith(",") for r in m.recipients), d.id
        if d.doc_type == "Công văn":
            assert m.subject.startswith("V/v ")
    tt = sample_by_id("tt-2003-hd-danh-gia-chat-luong")
    assert "HUYỆN UỶ THÁI THUỴ" in tt.issuer  # printed in the other tone-mark style ...
    expected = tt.expected().issuer  # ... expected in the canonical one, whichever textnorm picks
    assert expected == normalize("HUYỆN UỶ THÁI THUỴ") == normalize("HUYỆN ỦY THÁI THỤY")


def test_ground_truth_pages_hold_the_header_and_signature(docs):
    for d in docs:
        pages = ground_truth(d)
        assert len(pages) == d.pages, d.id
        first, last = pages[0].splitlines(), pages[-1]
        # rows: the header's two columns read across, as OCR reads them
        assert first[0] == f"{(d.superior or d.issuer)[0]} ĐẢNG CỘNG SẢN VIỆT NAM", d.id
        assert any(d.number_line in row and d.date_line in row for row in first[:6]), d.id
        assert d.signature.name in last.splitlines()[-1] and "Nơi nhận:" in last
        for line in (*d.superior, *d.issuer, *d.subject, d.title):
            assert line in pages[0], (d.id, line)  # header and subject lines are printed as written
        for line in d.subject if d.title else ():
            assert line in first, (d.id, line)  # centred lines stand alone on their row
        for n, text in enumerate(pages[1:], start=2):
            assert text.splitlines()[0] == str(n)  # page number on top from page 2
        # every body word, in order, once page numbers and markup are set aside
        text = " ".join([pages[0], *(p.split("\n", 1)[1] for p in pages[1:])])
        body = " ".join(strip_markup(para) for para in d.body)
        assert " ".join(body.split()) in " ".join(text.split()), d.id


def test_every_character_has_a_glyph(docs):
    for d in docs:
        fonts = font_paths(d.era_style, d.printed_text())
        assert set(fonts) == {"r", "b", "i", "bi"}
        for face, path in fonts.items():
            assert missing_glyphs(path, d.printed_text()) == set(), (d.id, face, path)
        if d.seal or d.security_mark or d.urgency_mark:  # seal ring and stamps have their own face
            seal_text = "".join(_seal_texts(d)) + (d.security_mark or "") + (d.urgency_mark or "")
            assert not missing_glyphs(font_paths("stamp", seal_text)["b"], seal_text)
    # the check itself can fail: a serif Latin font has no CJK glyph
    any_font = next(iter(font_paths("digital", "a").values()))
    assert missing_glyphs(any_font, "Thái Bình 漢") == {"漢"}


def test_render_size_dpi_and_determinism(tmp_path, docs):
    doc = sample_by_id("vt-2016-cv-tieu-chi-ntm")
    a = render_document(doc, tmp_path / "a", dpi=100, seed=3)
    b = render_document(doc, tmp_path / "b", dpi=100, seed=3)
    c = render_document(doc, tmp_path / "c", dpi=100, seed=4)
    assert len(a) == doc.pages == 1
    with Image.open(a[0]) as im:
        assert im.size == (827, 1169)  # A4 at 100 dpi
        assert round(im.info["dpi"][0]) == 100
        pix_a = np.asarray(im)
    assert a[0].read_bytes() == b[0].read_bytes()
    with Image.open(c[0]) as im:
        assert not np.array_equal(pix_a, np.asarray(im))
    # ink where the text is, paper in the margins
    assert pix_a[:60, :].mean() > 200 and pix_a.min() < 80


def test_render_colour_marks_and_clean_pages():
    marked = sample_by_id("tu-1968-tt-hop-tac-xa")  # MẬT stamp in red
    page = render_pages(marked, dpi=100, degrade="none")[0]
    assert page.mode == "RGB"
    rgb = np.asarray(page).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)
    assert red.sum() > 50
    ys, xs = np.nonzero(red)
    assert ys.mean() < page.height / 3 and xs.mean() < page.width / 2  # under the number, top left
    plain = render_pages(sample_by_id("tp-2023-ctr-do-thi-van-minh"), dpi=100, degrade="none")[0]
    assert plain.mode == "L" and np.asarray(plain)[:50].min() == 255  # no noise when asked for none
    aged = render_pages(sample_by_id("tp-2023-ctr-do-thi-van-minh"), dpi=100, degrade="aged")[0]
    assert np.asarray(aged)[:50].std() > np.asarray(plain)[:50].std()


def test_full_resolution_page_is_a4_at_300_dpi():
    doc = sample_by_id("tu-2021-ct-van-thu-luu-tru")
    (page,) = render_pages(doc, dpi=300)
    assert page.size == (2480, 3508)


def test_bad_render_options_are_kholuu_errors(tmp_path):
    doc = sample_by_id("tu-2021-ct-van-thu-luu-tru")
    with pytest.raises(RenderError, match="dpi"):
        render_pages(doc, dpi=10)
    with pytest.raises(KholuuError, match="degrade"):
        render_pages(doc, degrade="heavy")
    with pytest.raises(KholuuError, match="format"):
        write_sample_batch(tmp_path, [doc], formats=("bmp",))


def test_malformed_sample_file_names_file_document_and_field(tmp_path):
    bad = tmp_path / "docs.yaml"
    text = (Path(__file__).resolve().parents[1] / "kholuu" / "samples" / "documents.yaml").read_text("utf-8")
    bad.write_text(text.replace("  number_symbol: 08-CT/TU\n", "", 1), encoding="utf-8")
    with pytest.raises(SampleError) as err:
        load_samples(bad)
    assert str(bad) in str(err.value) and "tu-2021-ct-van-thu-luu-tru" in str(err.value)
    assert "number_symbol" in str(err.value)
    with pytest.raises(SampleError, match="not found"):
        load_samples(tmp_path / "missing.yaml")


def test_sample_batch_manifest_matches_files(tmp_path):
    docs = [sample_by_id(i) for i in ("tu-1977-bc-san-xuat-nong-nghiep", "kx-1994-tb-kinh-te-nong-thon",
                                      "qp-2013-kh-nong-thon-moi", "tu-2021-ct-van-thu-luu-tru",
                                      "hh-2019-ttr-huyen-ntm")]
    folder = write_sample_batch(tmp_path / "batch", docs, dpi=72)
    with open(folder / "manifest.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["file", "page", "document", "register", "file_number"]
    assert len(rows) == sum(d.pages for d in docs)
    listed = {r["file"] for r in rows}
    on_disk = {p.name for p in folder.iterdir()} - {"manifest.csv"}
    assert listed == on_disk
    assert {Path(n).suffix for n in on_disk} == {".png", ".jpg", ".tif", ".pdf"}
    for seq, d in enumerate(docs, start=1):
        mine = [r for r in rows if r["document"] == str(seq)]
        assert len(mine) == d.pages
        assert {(r["register"], r["file_number"]) for r in mine} == {(d.register, d.file_number)}
    # multi-page files hold as many pages as the manifest says
    for name in listed:
        pages = [int(r["page"]) for r in rows if r["file"] == name]
        path = folder / name
        if path.suffix == ".pdf":
            with pikepdf.open(path) as pdf:
                assert len(pdf.pages) == len(pages) == max(pages)
        else:
            with Image.open(path) as im:
                assert getattr(im, "n_frames", 1) == max(pages)
                assert round(im.info["dpi"][0]) == 72
    # the batch reader of the pipeline accepts it
    layout = scan_folder(folder)
    assert layout.documents_given and len(layout.entries) == len(rows)


@pytest.mark.slow
def test_rendered_page_ocrs_with_tesseract(tmp_path):
    doc = sample_by_id("vt-2016-cv-tieu-chi-ntm")
    (page,) = render_document(doc, tmp_path, dpi=300, degrade="mild")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run(["tesseract", str(page), "-", "-l", "vie"], capture_output=True, text=True,
                         timeout=120, env=env, check=True).stdout
    text = normalize(out)
    assert "215-CV/HU" in text.replace(" ", "")
    assert "nông thôn mới" in text.lower()
    assert "Vũ Thư, ngày 08 tháng 9 năm 2016" in text


def test_samples_command_writes_a_batch_and_reports_bad_ids(tmp_path, capsys):
    from kholuu.samples.__main__ import main

    assert main([str(tmp_path / "b"), "--id", "vt-2016-cv-tieu-chi-ntm", "--dpi", "72", "--format", "png",
                 "--text"]) == 0
    assert (tmp_path / "b" / "manifest.csv").read_text(encoding="utf-8").splitlines()[1] \
        == "01_vt-2016-cv-tieu-chi-ntm_p1.png,1,1,01,19"
    gt = (tmp_path / "b" / "vt-2016-cv-tieu-chi-ntm_p1.gt.txt").read_text(encoding="utf-8")
    assert gt.startswith("ĐẢNG BỘ TỈNH THÁI BÌNH ĐẢNG CỘNG SẢN VIỆT NAM\n")
    assert main([str(tmp_path / "c"), "--id", "no-such-doc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-doc" in err[0]
