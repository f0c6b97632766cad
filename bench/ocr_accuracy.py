"""OCR accuracy: plain Tesseract vs kholuu, per degradation, with exact ground truth.

Renders pages of the project's own sample documents (kholuu.samples) under
several degradations, OCRs each with (a) plain ``pytesseract.image_to_string(img,
lang="vie")`` and (b) ``ocr.ocr_page`` (no cache), and prints CER, WER and CER
with diacritics removed, side by side. ``--real`` also scores the real scans in
../shared/samples/scans against their .gt.txt (CER and order-free word error).

    .venv/bin/python bench/ocr_accuracy.py [--pages 6] [--real] [--only-real] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"  # fair to plain Tesseract too: one thread a page, pages in parallel

import numpy as np  # noqa: E402
import pytesseract  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr_metrics import bag_wer, cer, cer_folded, wer  # noqa: E402

from kholuu.samples import load_samples  # noqa: E402
from kholuu.samples.render import ground_truth, render_pages  # noqa: E402
from ocr import OcrOptions, ocr_page, synthetic  # noqa: E402

SCANS = Path(__file__).resolve().parents[2] / "shared" / "samples" / "scans"
DEGRADATIONS = ["clean", "aged", "faded typewriter", "carbon copy", "red seal", "blue seal", "200 dpi", "rotated",
                "skewed"]


def carbon(img: Image.Image) -> Image.Image:
    """Carbon copy: soft, spread, violet-blue ink on grey paper."""
    g = np.asarray(img.convert("L").filter(ImageFilter.GaussianBlur(1.3)), dtype=np.float32) / 255.0
    ink = np.array([95, 80, 160], dtype=np.float32)
    paper = np.array([232, 230, 222], dtype=np.float32)
    amount = (1 - g)[..., None] * 0.75
    out = paper * (1 - amount) + ink * amount
    rng = np.random.default_rng(3)
    out += rng.normal(0, 5, out.shape[:2])[..., None]
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def degraded(doc, page_index: int, kind: str) -> tuple[Image.Image, int]:
    if kind == "200 dpi":
        return render_pages(doc, dpi=200, degrade="mild")[page_index], 200
    base = render_pages(doc, dpi=300, degrade="none" if kind == "clean" else "mild")[page_index]
    if kind == "aged":
        return render_pages(doc, dpi=300, degrade="aged")[page_index], 300
    if kind == "faded typewriter":
        return synthetic.faded(base, 0.6), 300
    if kind == "carbon copy":
        return carbon(base), 300
    if kind == "red seal":
        w, h = base.size
        img = synthetic.red_seal(base.convert("RGB"), (int(w * 0.35), int(h * 0.30)), int(w * 0.09))
        img = synthetic.red_seal(img, (int(w * 0.65), int(h * 0.55)), int(w * 0.09))
        return synthetic.red_stamp(img, "MẬT", (int(w * 0.08), int(h * 0.03)), int(w * 0.03)), 300
    if kind == "blue seal":
        w, h = base.size
        blue = synthetic.BLUE_INK
        img = synthetic.red_seal(base.convert("RGB"), (int(w * 0.35), int(h * 0.30)), int(w * 0.09), colour=blue)
        img = synthetic.red_seal(img, (int(w * 0.65), int(h * 0.55)), int(w * 0.09), colour=blue)
        return synthetic.red_stamp(img, "KHẨN", (int(w * 0.08), int(h * 0.03)), int(w * 0.03), colour=blue), 300
    if kind == "rotated":
        return base.rotate(90 if page_index % 2 == 0 else 180, expand=True), 300
    if kind == "skewed":
        return synthetic.skew(base.convert("RGB"), 2.5), 300
    return base, 300


def plain_tesseract(img: Image.Image) -> str:
    return pytesseract.image_to_string(img, lang="vie")


def kholuu_ocr(img: Image.Image, dpi: int, options: OcrOptions, tmp: Path, name: str) -> str:
    path = tmp / f"{name}.png"
    img.save(path, dpi=(dpi, dpi), compress_level=1)
    return ocr_page(path, options, source=name, page=1).text


def _row(label: str, scores: dict[str, list[float]]) -> str:
    m = {k: 100 * float(np.mean(v)) for k, v in scores.items()}
    return (f"{label:<18} {m['p_cer']:7.2f} {m['k_cer']:7.2f}   {m['p_wer']:7.2f} {m['k_wer']:7.2f}   "
            f"{m['p_fold']:7.2f} {m['k_fold']:7.2f}")


HEADER = (f"{'set':<18} {'CER%':>7} {'':>7}   {'WER%':>7} {'':>7}   {'CER-nodiac%':>7} {'':>3}\n"
          f"{'':<18} {'plain':>7} {'kholuu':>7}   {'plain':>7} {'kholuu':>7}   {'plain':>7} {'kholuu':>7}")


def synthetic_bench(n_pages: int, workers: int, options: OcrOptions, sets: list[str] = DEGRADATIONS) -> None:
    docs = load_samples()
    # spread over eras: take first pages in order typewriter → print → digital
    picks = [(d, 0) for d in docs][:: max(1, len(docs) // n_pages)][:n_pages]
    print(f"# {len(picks)} sample pages × {len(sets)} degradations; {workers} workers")
    print(HEADER)
    summary = {}
    with tempfile.TemporaryDirectory() as tmpdir, ThreadPoolExecutor(workers) as pool:
        tmp = Path(tmpdir)
        for kind in sets:
            t0 = time.perf_counter()
            cases = []
            for doc, i in picks:
                img, dpi = degraded(doc, i, kind)
                cases.append((ground_truth(doc)[i], img, dpi, f"{doc.id}-{i}-{kind.replace(' ', '_')}"))
            plains = list(pool.map(lambda c: plain_tesseract(c[1]), cases))
            t1 = time.perf_counter()
            ours = list(pool.map(lambda c: kholuu_ocr(c[1], c[2], options, tmp, c[3]), cases))
            t2 = time.perf_counter()
            scores: dict[str, list[float]] = {k: [] for k in ("p_cer", "k_cer", "p_wer", "k_wer", "p_fold", "k_fold")}
            for (gt, *_), p, k in zip(cases, plains, ours):
                scores["p_cer"].append(cer(gt, p)); scores["k_cer"].append(cer(gt, k))
                scores["p_wer"].append(wer(gt, p)); scores["k_wer"].append(wer(gt, k))
                scores["p_fold"].append(cer_folded(gt, p)); scores["k_fold"].append(cer_folded(gt, k))
            summary[kind] = {k: float(np.mean(v)) for k, v in scores.items()}
            print(_row(kind, scores) + f"   ({t2 - t1:.0f} s kholuu)", flush=True)
    if set(sets) != set(DEGRADATIONS):
        return
    degraded_sets = [k for k in DEGRADATIONS if k != "clean"]
    p = np.mean([summary[k]["p_cer"] for k in degraded_sets])
    k = np.mean([summary[k]["k_cer"] for k in degraded_sets])
    print(f"# degraded sets: mean CER plain {100 * p:.2f}%, kholuu {100 * k:.2f}% (ratio {k / max(p, 1e-9):.2f}; goal ≤ 0.5)")
    print(f"# aged 300 dpi: kholuu CER {100 * summary['aged']['k_cer']:.2f}% (goal < 1%); "
          f"rotated {100 * summary['rotated']['k_cer']:.2f}% vs clean {100 * summary['clean']['k_cer']:.2f}%")


def real_bench(workers: int, options: OcrOptions) -> None:
    manifest = json.loads((SCANS / "manifest.json").read_text(encoding="utf-8"))
    print(f"# real scans in {SCANS}: {len(manifest)} pages (CER is reading-order sensitive; bag-WER is not)")
    groups: dict[str, dict[str, list[float]]] = {}

    def one(entry):
        img = Image.open(SCANS / entry["image"])
        img.load()
        gt = (SCANS / entry["gt"]).read_text(encoding="utf-8")
        dpi = img.info.get("dpi")
        with tempfile.TemporaryDirectory() as tmp:
            ours = kholuu_ocr(img, int(round(dpi[0])) if dpi else 0, options, Path(tmp), "scan") if dpi \
                else kholuu_ocr_nodpi(img, options, Path(tmp))
        return entry, gt, plain_tesseract(img), ours

    with ThreadPoolExecutor(workers) as pool:
        for entry, gt, p, k in pool.map(one, manifest):
            kind = entry["kind"].replace("real_scan_augmented:", "scan ")
            g = groups.setdefault(kind, {k: [] for k in ("p_cer", "k_cer", "p_bag", "k_bag")})
            g["p_cer"].append(cer(gt, p)); g["k_cer"].append(cer(gt, k))
            g["p_bag"].append(bag_wer(gt, p)); g["k_bag"].append(bag_wer(gt, k))
            print(f"#   {entry['image'][:60]:<60} CER plain {100 * g['p_cer'][-1]:6.2f}  kholuu {100 * g['k_cer'][-1]:6.2f}",
                  flush=True)
    print(f"{'set':<28} {'n':>3} {'CER% plain':>11} {'kholuu':>7}   {'bagWER% plain':>14} {'kholuu':>7}")
    for kind, g in groups.items():
        m = {k: 100 * float(np.mean(v)) for k, v in g.items()}
        print(f"{kind:<28} {len(g['p_cer']):>3} {m['p_cer']:>11.2f} {m['k_cer']:>7.2f}   {m['p_bag']:>14.2f} {m['k_bag']:>7.2f}")


def kholuu_ocr_nodpi(img: Image.Image, options: OcrOptions, tmp: Path) -> str:
    path = tmp / "scan.png"
    img.save(path, compress_level=1)
    return ocr_page(path, options, source="scan", page=1).text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--real", action="store_true", help="also score ../shared/samples/scans")
    ap.add_argument("--only-real", action="store_true")
    ap.add_argument("--tessdata-dir", type=Path, default=None, help="another model (e.g. 4.0.0_best_int)")
    ap.add_argument("--sets", default=",".join(DEGRADATIONS), help="comma-separated degradations")
    args = ap.parse_args()
    options = OcrOptions(cache_dir=None, workers=1, tessdata_dir=args.tessdata_dir)
    start = time.time()
    print(f"# engine: {options.engine_label()}")
    if not args.only_real:
        synthetic_bench(args.pages, args.workers, options, [k.strip() for k in args.sets.split(",")])
    if args.real or args.only_real:
        real_bench(args.workers, options)
    print(f"# {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
