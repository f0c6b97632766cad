"""Metadata accuracy after a round of OCR (issue 4: goal 90% per header field).

Usage: .venv/bin/python bench/extraction_ocr.py [--limit N] [--workers N] [-v]

For every document of ../shared/samples/documents.jsonl, the first and last
LINES lines of its text (header; Nơi nhận + signature) are rendered to two page
images (Liberation Serif 12 pt, 300 dpi, as ocr.synthetic draws them), read by
the project's OCR (real Tesseract, cached under /tmp/kholuu-bench-extraction-ocr)
and the OCR text of both pages is given to extract_metadata. The same two
excerpts without OCR are scored too, so the loss due to OCR is visible apart
from what an excerpt leaves out. Scoring as in bench/extraction.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction.metadata import extract_metadata  # noqa: E402

LINES = 22
WORK = Path("/tmp/kholuu-bench-extraction-ocr")


def excerpts(text: str, signer: str | None) -> tuple[list[str], list[str]]:
    """The first page's worth of lines, and the page that ends with the signature.

    Several documents go on after the signature (appendices, footnotes); a real
    batch has those pages too, and the signature page among them. The reference
    signer name only chooses which lines make up that page.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw:
            continue
        lines.extend(textwrap.wrap(raw, 95) or [raw])
    end = len(lines)
    if signer:
        last = signer.split()[-1]
        hits = [i for i, l in enumerate(lines) if last in l and i >= LINES]
        if hits:
            end = hits[-1] + 1
    return lines[:LINES], lines[max(0, end - LINES):end]


def render_lines(lines: list[str], path: Path, degrade: bool = False) -> None:
    from ocr.synthetic import Line, aged, faded, render, skew, speckle

    height = 1.0 + 0.26 * len(lines) + 0.8
    page = render([Line(t, 0.8, 0.8 + i * 0.26, 12) for i, t in enumerate(lines)], dpi=300, size_in=(8.27, height))
    img = page.image
    if degrade:  # an aged carbon copy: yellowed paper, faded ink, specks, a slight skew
        img = skew(speckle(faded(aged(img, seed=len(lines)), 0.45), 0.002, seed=3), 0.8)
    img.save(path)


def main(argv: list[str]) -> int:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
    clean = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clean)  # type: ignore[union-attr]
    DEFAULT, FIELDS, score_field = clean.DEFAULT, clean.FIELDS, clean.score_field
    from kholuu.settings import load_settings
    from ocr import OcrOptions
    from ocr.engine import OcrJob, ocr_many

    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--degrade", action="store_true", help="age, fade, speckle and skew the pages first")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args(argv)
    docs = [json.loads(l) for l in DEFAULT.read_text(encoding="utf-8").splitlines() if l.strip()]
    if args.limit:
        docs = docs[:args.limit]
    WORK.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"KHOLUU_HOME": str(WORK / "home"), "KHOLUU_OCR_WORKERS": str(args.workers)})
    settings.ensure_dirs()
    options = OcrOptions.from_settings(settings)
    jobs, plain = [], {}
    for d in docs:
        head, tail = excerpts(d["text"], d.get("signer"))
        plain[d["id"]] = "\n".join(head) + "\n\n" + "\n".join(tail)
        for part, lines in (("head", head), ("tail", tail)):
            digest = hashlib.sha1("\n".join(lines).encode()).hexdigest()[:10]
            img = WORK / f"{d['id']}-{part}-{digest}{'-aged' if args.degrade else ''}.png"
            if not img.exists():
                render_lines(lines, img, args.degrade)
            jobs.append(OcrJob(image_path=img, source=d["id"], page=1 if part == "head" else 2))
    t0 = time.perf_counter()
    texts: dict[tuple[str, int], str] = {}
    for i, result in ocr_many(jobs, options):
        job = jobs[i]
        texts[(job.source, job.page)] = getattr(result, "text", "")
    ocr_s = time.perf_counter() - t0
    totals = {f: {"plain": [0, 0], "ocr": [0, 0]} for f, _ in FIELDS}
    for d in docs:
        ocr_text = texts.get((d["id"], 1), "") + "\n\n" + texts.get((d["id"], 2), "")
        for kind, text in (("plain", plain[d["id"]]), ("ocr", ocr_text)):
            meta = extract_metadata(text)
            for ref_key, attr in FIELDS:
                expected = d.get(ref_key)
                if expected is None:
                    continue
                ok = score_field(ref_key, expected, getattr(meta, attr))
                totals[ref_key][kind][0] += ok
                totals[ref_key][kind][1] += 1
                if args.v and kind == "ocr" and not ok:
                    print(f"  {d['id']} {ref_key}: expected {expected!r} got {getattr(meta, attr)!r}")
    print(f"{len(docs)} documents, {len(jobs)} OCR pages{' (degraded)' if args.degrade else ''} "
          f"in {ocr_s:.0f} s (cached pages are free)")
    print(f"{'field':<14}{'excerpt':>10}{'after OCR':>11}")
    for f, _ in FIELDS:
        p, o = totals[f]["plain"], totals[f]["ocr"]
        print(f"{f:<14}{(p[0] / p[1] if p[1] else 0):>10.1%}{(o[0] / o[1] if o[1] else 0):>11.1%}   (n={o[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
