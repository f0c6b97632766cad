"""OCR speed: pages per minute on this machine, kholuu vs plain Tesseract vs OCRmyPDF.

Renders N pages of the project's own samples (300 dpi, mild scan noise), then
times, each in its own child process (so peak memory is measured per engine):

* ``kholuu``   — ``ocr.ocr_many`` on all cores (threads; preprocessing included, cache off)
* ``kholuu-processes`` — the same with a process pool, for comparison
* ``kholuu+pdf`` — OCR and the searchable PDF
* ``plain``    — ``tesseract PAGE stdout -l vie``, one page per core, OMP_THREAD_LIMIT=1 (the bound)
* ``ocrmypdf`` — ``ocrmypdf --jobs N -l vie --output-type pdf`` on the same pages as one PDF
  (skipped when ``ocrmypdf`` is not found; ``--ocrmypdf PATH`` points at one)

The engines run in ROUNDS over the same pages, the order rotating from round to
round, so a load swing on this shared machine hits every engine alike; the
ratios are taken within each round and the median across rounds is reported,
with the CPU seconds per page (the child and everything it waited for), which
load does not inflate.

    .venv/bin/python bench/ocr_speed.py [--pages 8] [--rounds 3] [--workers 2] [--ocrmypdf /path/to/ocrmypdf]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _maxrss_mb(who: int) -> float:
    """Peak resident memory. For this process VmHWM (ru_maxrss would include the
    parent's memory inherited at fork, before exec)."""
    if who == resource.RUSAGE_SELF:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_mode(mode: str, folder: Path, workers: int, ocrmypdf: str | None) -> dict:
    pages = sorted(folder.glob("*.png"))
    start = time.perf_counter()
    if mode.startswith("kholuu"):
        from ocr import OcrJob, OcrOptions, ocr_many, write_searchable_pdf

        options = OcrOptions(cache_dir=None, workers=workers)
        jobs = [OcrJob(p, p.name, 1) for p in pages]
        executor = "process" if mode == "kholuu-processes" else "thread"
        results = dict(ocr_many(jobs, options, executor=executor))
        bad = [r for r in results.values() if isinstance(r, Exception)]
        if bad:
            raise SystemExit(f"errors: {bad[:3]}")
        if mode == "kholuu+pdf":
            write_searchable_pdf([(p, results[i]) for i, p in enumerate(pages)], folder / "out" / "k.pdf", options)
    elif mode == "plain":
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

        def one(p: Path) -> None:
            subprocess.run(["tesseract", str(p), "stdout", "-l", "vie"], env=env, check=True,
                           capture_output=True)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, pages))
    elif mode == "ocrmypdf":
        import img2pdf

        pdf = folder / "out" / "in.pdf"
        pdf.write_bytes(img2pdf.convert([str(p) for p in pages]))
        start = time.perf_counter()  # OCRmyPDF's time starts at its PDF input
        subprocess.run([ocrmypdf, "--jobs", str(workers), "-l", "vie", "--output-type", "pdf", "--quiet",
                        str(pdf), str(folder / "out" / "ocrmypdf.pdf")], check=True,
                       env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    seconds = time.perf_counter() - start
    return {"mode": mode, "pages": len(pages), "seconds": seconds,
            "self_mb": _maxrss_mb(resource.RUSAGE_SELF), "child_mb": _maxrss_mb(resource.RUSAGE_CHILDREN)}


def render(folder: Path, n: int) -> None:
    from kholuu.samples import load_samples
    from kholuu.samples.render import render_pages

    count = 0
    for doc in load_samples():
        for i, img in enumerate(render_pages(doc, dpi=300, degrade="mild"), 1):
            img.save(folder / f"{doc.id}_p{i}.png", dpi=(300, 300), compress_level=3)
            count += 1
            if count >= n:
                return


def _child(mode: str, folder: Path, args: argparse.Namespace) -> dict | str:
    cmd = [sys.executable, __file__, "--_mode", mode, "--_dir", str(folder), "--workers", str(args.workers)]
    if args.ocrmypdf:
        cmd += ["--ocrmypdf", args.ocrmypdf]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit code {proc.returncode}"
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--ocrmypdf", default=shutil.which("ocrmypdf"))
    ap.add_argument("--modes", default="plain,kholuu,ocrmypdf")
    ap.add_argument("--_mode", help=argparse.SUPPRESS)
    ap.add_argument("--_dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._mode:
        print(json.dumps(run_mode(args._mode, Path(args._dir), args.workers, args.ocrmypdf)))
        return
    modes = [m for m in args.modes.split(",") if m != "ocrmypdf" or args.ocrmypdf]
    if "ocrmypdf" in args.modes.split(",") and not args.ocrmypdf:
        print("# ocrmypdf: skipped, not found (pip install ocrmypdf; --ocrmypdf PATH)")
    with tempfile.TemporaryDirectory(prefix="kholuu-speed-") as tmp:
        folder = Path(tmp)
        (folder / "out").mkdir()
        render(folder, args.pages)
        print(f"# {args.pages} pages (300 dpi A4 samples), {args.workers} workers, {os.cpu_count()} cores, "
              f"{args.rounds} rounds, engines interleaved; load average {os.getloadavg()[0]:.2f}")
        print(f"{'round':<6} {'engine':<18} {'pages/min':>9} {'s/page':>7} {'CPU s/page':>10} "
              f"{'peak MB (python)':>17} {'(largest child*)':>16} {'load':>5}")
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        ratios: dict[str, list[float]] = {"plain": [], "ocrmypdf": []}
        for rnd in range(args.rounds):
            order = modes[rnd % len(modes):] + modes[: rnd % len(modes)]
            rates = {}
            for mode in order:
                r = _child(mode, folder, args)
                if isinstance(r, str):
                    print(f"{rnd + 1:<6} {mode:<18} failed: {r}")
                    continue
                rate = r["pages"] / r["seconds"] * 60
                rates[mode] = rate
                runs[mode].append({**r, "rate": rate})
                print(f"{rnd + 1:<6} {mode:<18} {rate:9.1f} {r['seconds'] / r['pages']:7.2f} "
                      f"{r['cpu'] / r['pages']:10.2f} {r['self_mb']:17.0f} {r['child_mb']:16.0f} "
                      f"{os.getloadavg()[0]:5.2f}", flush=True)
            for other in ratios:
                if "kholuu" in rates and other in rates:
                    ratios[other].append(rates["kholuu"] / rates[other])
        print("# * a child's peak includes memory inherited from its parent at fork (an upper bound)")
        for mode, rs in runs.items():
            if rs:
                print(f"# {mode:<18} median {statistics.median(x['rate'] for x in rs):6.1f} pages/min, "
                      f"CPU {statistics.median(x['cpu'] / x['pages'] for x in rs):.2f} s/page")
        if ratios["plain"]:
            print(f"# kholuu / plain Tesseract bound: median {statistics.median(ratios['plain']):.2f} over "
                  f"{len(ratios['plain'])} rounds ({', '.join(f'{x:.2f}' for x in ratios['plain'])}; goal ≥ 0.85)")
        if ratios["ocrmypdf"]:
            print(f"# kholuu / OCRmyPDF: median {statistics.median(ratios['ocrmypdf']):.2f} over "
                  f"{len(ratios['ocrmypdf'])} rounds ({', '.join(f'{x:.2f}' for x in ratios['ocrmypdf'])}; goal ≥ 1.3)")
        cpu = {m: statistics.median(x["cpu"] / x["pages"] for x in rs) for m, rs in runs.items() if rs}
        for other in ("plain", "ocrmypdf"):
            if "kholuu" in cpu and other in cpu:
                print(f"# CPU per page, {other} / kholuu: {cpu[other] / cpu['kholuu']:.2f} (work per page, free of "
                      "the load swings; parallel efficiency not included)")
        print(f"# load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
