"""Pipeline benchmark: orchestration overhead and cached re-runs.

Generates a batch of N pages (default 200) from the project's own sample
documents (each rendered with several seeds), then, in one process run:

1. ``direct``  — the batch stages called one after another (no Dagster), cold cache;
2. ``dagster`` — the same batch, in a fresh data directory, through the Dagster
   assets in process (``pipelines.runner.run_batch``), cold cache;
3. ``rerun``   — the Dagster run again on the same data directory (everything cached).

It prints pages per minute for each, the overhead of Dagster against the direct
calls, the cached re-run as a share of the first run, and peak memory (this
process and its OCR workers). Medians over ``--repeat`` runs; the machine is noisy.

    .venv/bin/python bench/pipeline.py [--pages 200] [--repeat 1] [--dpi 300]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kholuu.catalog import Catalog  # noqa: E402
from kholuu.samples import load_samples  # noqa: E402
from kholuu.samples.render import render_document  # noqa: E402
from kholuu.settings import load_settings  # noqa: E402


def generate_pages(folder: Path, n_pages: int, dpi: int) -> int:
    """Render sample documents with growing seeds until ``n_pages`` pages exist."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = load_samples()
    made, seed = 0, 0
    while made < n_pages:
        for doc in docs:
            if made >= n_pages:
                break
            paths = render_document(doc, folder / f"s{seed:02d}-{doc.id}", dpi=dpi, degrade="mild", seed=seed)
            for i, p in enumerate(paths):
                p.rename(folder / f"{made + i + 1:04d}_{p.name}")
            (folder / f"s{seed:02d}-{doc.id}").rmdir()
            made += len(paths)
        seed += 1
    return made


def _settings(home: Path):
    s = load_settings({"KHOLUU_HOME": str(home)})
    s.ensure_dirs()
    return s


def run_direct(home: Path, folder: Path) -> float:
    from kholuu import stages
    from pipelines.cli import add_batch

    settings = _settings(home)
    batch_id, _ = add_batch(settings, "F01", folder)
    ctx = stages.StageContext.from_settings(settings, progress=lambda m: None)
    start = time.perf_counter()
    stages.register_pages(batch_id, ctx)
    stages.make_page_derivatives(batch_id, ctx)
    stages.ocr_pages(batch_id, ctx)
    stages.build_documents(batch_id, ctx)
    stages.write_pdfs(batch_id, ctx)
    stages.index_batch(batch_id, ctx)
    stages.finish_batch(batch_id, ctx)
    return time.perf_counter() - start


def run_dagster(home: Path, folder: Path) -> float:
    from pipelines.cli import add_batch
    from pipelines.runner import run_batch

    settings = _settings(home)
    _, key = add_batch(settings, "F01", folder)
    start = time.perf_counter()
    outcome = run_batch(settings, key)
    elapsed = time.perf_counter() - start
    if not outcome.success:
        raise SystemExit(f"dagster run failed: {outcome.message}")
    return elapsed


def peak_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, children


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kholuu-bench-pipeline-"))
    folder = work / "batch"
    t = time.perf_counter()
    n = generate_pages(folder, args.pages, args.dpi) if not folder.exists() else len(list(folder.iterdir()))
    print(f"batch: {n} pages at {args.dpi} dpi in {folder} (generated in {time.perf_counter() - t:.0f} s)")

    direct, dagster, rerun = [], [], []
    for r in range(args.repeat):
        direct.append(run_direct(work / f"direct-{r}", folder))
        print(f"  run {r + 1}: direct {direct[-1]:.1f} s", flush=True)
        dagster.append(run_dagster(work / f"dagster-{r}", folder))
        print(f"  run {r + 1}: dagster {dagster[-1]:.1f} s", flush=True)
        rerun.append(run_dagster(work / f"dagster-{r}", folder))
        print(f"  run {r + 1}: dagster re-run (cached) {rerun[-1]:.1f} s", flush=True)

    d, g, c = statistics.median(direct), statistics.median(dagster), statistics.median(rerun)
    docs = Catalog(_settings(work / "dagster-0").database_url).count_documents()
    me, children = peak_mb()
    print()
    print(f"{'run':28} {'seconds':>9} {'pages/min':>10}")
    print(f"{'stages called directly':28} {d:9.1f} {n / d * 60:10.1f}")
    print(f"{'through Dagster':28} {g:9.1f} {n / g * 60:10.1f}")
    print(f"{'Dagster re-run, cached':28} {c:9.1f} {n / c * 60:10.1f}")
    print()
    print(f"orchestration overhead: {(g / d - 1) * 100:+.1f}%  (goal < 10%)")
    print(f"cached re-run: {c / g * 100:.1f}% of the first run  (goal < 10%)")
    print(f"documents found: {docs}")
    print(f"peak memory: this process {me:.0f} MB, largest OCR worker/child {children:.0f} MB")


if __name__ == "__main__":
    main()
