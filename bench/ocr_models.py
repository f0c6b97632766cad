"""Which Tesseract model to ship: accuracy and time per page for each ``vie`` model.

Debian's ``tesseract-ocr-vie`` is the small "fast" model; the npm package
``@tesseract.js-data/vie`` carries ``4.0.0`` and ``4.0.0_best_int``, which
``scripts/install`` unpacks into ``<cache>/tessdata/<model>/vie.traineddata``
(the folders ``KHOLUU_OCR_MODEL`` selects). Every model OCRs the same rendered
sample pages under several degradations through kholuu (preprocessing included,
no cache), one page at a time. The models are interleaved page by page (the
model order rotating from page to page), so a load swing on this shared machine
hits every model alike; time is reported both as wall seconds and as CPU seconds
(this process and its Tesseract children), the figure that load does not inflate.

    .venv/bin/python bench/ocr_models.py [--pages 6] [--sets clean,aged,...]
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

from ocr_accuracy import degraded  # noqa: E402
from ocr_metrics import cer  # noqa: E402

from kholuu.samples import load_samples  # noqa: E402
from kholuu.samples.render import ground_truth  # noqa: E402
from kholuu.settings import MODELS, model_dir  # noqa: E402
from ocr import OcrOptions, ocr_page  # noqa: E402

SETS = ["clean", "aged", "faded typewriter", "carbon copy", "200 dpi", "red seal"]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated degradations (bench/ocr_accuracy)")
    args = ap.parse_args()
    models: list[tuple[str, Path | None]] = []
    for name in MODELS:
        folder = model_dir(name, os.environ)
        if name != "fast" and folder is None:
            print(f"# {name}: not installed (run scripts/install), skipped", flush=True)
            continue
        models.append((name, folder))
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    docs = load_samples()
    picks = [(d, 0) for d in docs][:: max(1, len(docs) // args.pages)][: args.pages]
    stats = {name: {"cer": [], "wall": 0.0, "cpu": 0.0, "by_set": {}} for name, _ in models}
    print(f"# {len(picks)} sample pages × {len(sets)} sets × {len(models)} models, one page at a time, "
          f"models interleaved; load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        turn = 0
        for kind in sets:
            for doc, i in picks:
                img, dpi = degraded(doc, i, kind)
                path = Path(tmp) / f"{doc.id}-{kind.replace(' ', '_')}.png"
                img.save(path, dpi=(dpi, dpi), compress_level=1)
                gt = ground_truth(doc)[i]
                order = models[turn % len(models):] + models[: turn % len(models)]
                turn += 1
                for name, folder in order:
                    options = OcrOptions(cache_dir=None, tessdata_dir=folder)
                    c0, w0 = _cpu(), time.perf_counter()
                    text = ocr_page(path, options, source=path.name, page=1).text
                    w1, c1 = time.perf_counter(), _cpu()
                    e = cer(gt, text)
                    s = stats[name]
                    s["cer"].append(e)
                    s["wall"] += w1 - w0
                    s["cpu"] += c1 - c0
                    s["by_set"].setdefault(kind, []).append(e)
            print(f"#   {kind:<18} " + "  ".join(
                f"{name} {100 * sum(stats[name]['by_set'][kind]) / len(picks):5.2f}%" for name, _ in models)
                + f"   load {os.getloadavg()[0]:.2f}", flush=True)
    n = len(picks) * len(sets)
    base = stats[models[0][0]]
    base_cer = 100 * sum(base["cer"]) / n
    base_cpu = base["cpu"] / n
    print(f"{'model':<16} {'CER%':>6} {'CPU s/page':>11} {'wall s/page':>12} {'(1 − CER) per CPU s':>24} "
          f"{'CER points saved per extra CPU s':>33}")
    for name, _ in models:
        s = stats[name]
        mean = 100 * sum(s["cer"]) / n
        cpu, wall = s["cpu"] / n, s["wall"] / n
        gain = "—" if name == models[0][0] else (
            f"{(base_cer - mean) / (cpu - base_cpu):.3f}" if cpu > base_cpu else "faster")
        # accuracy per second: share of characters read right per CPU second of a page
        print(f"{name:<16} {mean:6.2f} {cpu:11.2f} {wall:12.2f} {(100 - mean) / 100 / cpu:24.3f} {gain:>33}")
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
