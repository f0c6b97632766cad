"""Which Tesseract model to ship: accuracy and time per page for each ``vie`` model.

Debian's ``tesseract-ocr-vie`` is the small "fast" model; the npm package
``@tesseract.js-data/vie`` carries ``4.0.0`` (legacy + LSTM) and
``4.0.0_best_int``. Unpack those into directories holding ``vie.traineddata``
and pass them with ``--model NAME=DIR``; the system model is always included.
Each model OCRs the same rendered sample pages through kholuu (preprocessing
included, no cache), one page at a time, and the script prints CER and seconds
per page. Select the winner with ``KHOLUU_TESSDATA_DIR``.

    npm pack @tesseract.js-data/vie && tar xzf tesseract.js-data-vie-*.tgz
    mkdir -p models/best_int && gunzip -c package/4.0.0_best_int/vie.traineddata.gz > models/best_int/vie.traineddata
    .venv/bin/python bench/ocr_models.py --model best_int=models/best_int [--pages 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr_metrics import cer  # noqa: E402

from kholuu.samples import load_samples  # noqa: E402
from kholuu.samples.render import ground_truth, render_pages  # noqa: E402
from ocr import OcrOptions, ocr_page  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=[], metavar="NAME=DIR")
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--degrade", default="aged", choices=["none", "mild", "aged"])
    args = ap.parse_args()
    models: list[tuple[str, Path | None]] = [("debian-fast", None)]
    for spec in args.model:
        name, _, folder = spec.partition("=")
        models.append((name, Path(folder).resolve()))
    docs = load_samples()
    picks = docs[:: max(1, len(docs) // args.pages)][: args.pages]
    with tempfile.TemporaryDirectory() as tmp:
        pages = []
        for doc in picks:
            path = Path(tmp) / f"{doc.id}.png"
            render_pages(doc, dpi=300, degrade=args.degrade)[0].save(path, dpi=(300, 300))
            pages.append((path, ground_truth(doc)[0]))
        print(f"# {len(pages)} pages, degrade={args.degrade}, one page at a time")
        print(f"{'model':<16} {'CER%':>7} {'s/page':>7} {'CER-points saved per s vs fast':>32}")
        base = None
        for name, folder in models:
            options = OcrOptions(cache_dir=None, tessdata_dir=folder)
            start = time.perf_counter()
            errors = [cer(gt, ocr_page(p, options, source=p.name, page=1).text) for p, gt in pages]
            per_page = (time.perf_counter() - start) / len(pages)
            mean = 100 * sum(errors) / len(errors)
            if base is None:
                base = (mean, per_page)
                gain = "—"
            else:
                extra = per_page - base[1]
                gain = f"{(base[0] - mean) / extra:.3f}" if extra > 0 else "faster"
            print(f"{name:<16} {mean:7.2f} {per_page:7.2f} {gain:>32}", flush=True)


if __name__ == "__main__":
    main()
