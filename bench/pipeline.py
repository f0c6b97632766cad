"""Pipeline benchmark: orchestration overhead, peak memory and cached re-runs.

Generates a batch of N pages (default 200) from the project's own sample
documents (each rendered with several seeds), then runs, each in a fresh child
process with a fresh data directory (cold OCR cache):

1. ``direct A`` — the batch stages called one after another (no Dagster) on the
   first half of the batch (split at a document boundary);
2. ``dagster``  — the whole batch through the Dagster assets in process
   (``pipelines.runner.run_batch``);
3. ``direct B`` — the stages called directly on the second half;
4. ``rerun``    — the Dagster run again on the data directory of 2 (everything cached).

The machine is shared, so the two direct halves bracket the Dagster run in
time (a load that drifts during the bench weighs on both sides alike), and
besides wall time each run reports the CPU time of its whole process tree
(the Python process, its OCR threads and every Tesseract it started): CPU
seconds barely change with what else runs on the machine, wall seconds do.
Each child times only the work, after imports and the spaCy model are loaded,
so the two direct halves do not pay start-up twice. Peak memory is per run:
the largest resident size of the child and its descendants (``wait4``).

    .venv/bin/python bench/pipeline.py [--pages 200] [--dpi 300] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Measure:
    label: str
    pages: int
    wall_s: float
    cpu_s: float
    peak_mb: float = 0.0
    documents: int = 0
    load: str = ""           # /proc/loadavg (1, 5, 15 min) at the start and the end

    @property
    def pages_per_min(self) -> float:
        return self.pages / self.wall_s * 60


def generate_pages(folder: Path, n_pages: int, dpi: int) -> list[int]:
    """Render sample documents with growing seeds until ``n_pages`` pages exist.

    Returns the 1-based page numbers where a document starts.
    """
    from kholuu.samples import load_samples
    from kholuu.samples.render import render_document

    folder.mkdir(parents=True, exist_ok=True)
    docs = load_samples()
    made, seed, starts = 0, 0, []
    while made < n_pages:
        for doc in docs:
            if made >= n_pages:
                break
            paths = render_document(doc, folder / f"s{seed:02d}-{doc.id}", dpi=dpi, degrade="mild", seed=seed)
            starts.append(made + 1)
            for i, p in enumerate(paths):
                p.rename(folder / f"{made + i + 1:04d}_{p.name}")
            (folder / f"s{seed:02d}-{doc.id}").rmdir()
            made += len(paths)
        seed += 1
    return starts


def split_halves(folder: Path, starts: list[int], work: Path) -> tuple[Path, Path]:
    """Two folders (hard links) holding the first and second half, cut where a document starts."""
    pages = sorted(p for p in folder.iterdir() if p.suffix == ".png")
    cut = min(starts, key=lambda s: abs(s - 1 - len(pages) / 2)) - 1
    halves = (work / "half-a", work / "half-b")
    for half, files in zip(halves, (pages[:cut], pages[cut:])):
        half.mkdir(exist_ok=True)
        for p in files:
            if not (half / p.name).exists():
                os.link(p, half / p.name)
    return halves


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _warm_up() -> None:
    """Imports and models every run needs, loaded before the clock starts."""
    from extraction import extract_entities, extract_metadata
    from kholuu import stages  # noqa: F401
    from kholuu.segment import segmented_form

    text = "TỈNH ỦY THÁI BÌNH\nSố 08-CT/TU\nCHỈ THỊ về xây dựng nông thôn mới"
    extract_metadata(text)
    extract_entities(text)
    segmented_form(text)


def child(mode: str, home: Path, folder: Path) -> dict:
    """One measured run in this process: ``direct`` or ``dagster``; prints a JSON line."""
    from kholuu.settings import load_settings
    from pipelines.cli import add_batch

    settings = load_settings({"KHOLUU_HOME": str(home)})
    settings.ensure_dirs()
    batch_id, key = add_batch(settings, "F01", folder)
    _warm_up()
    if mode == "direct":
        from kholuu import stages

        load, cpu0, t0 = _loadavg(), _cpu(), time.perf_counter()
        ctx = stages.StageContext.from_settings(settings, progress=lambda m: None)
        stages.register_pages(batch_id, ctx)
        stages.make_page_derivatives(batch_id, ctx)
        stages.ocr_pages(batch_id, ctx)
        stages.build_documents(batch_id, ctx)
        stages.write_pdfs(batch_id, ctx)
        stages.index_batch(batch_id, ctx)
        stages.finish_batch(batch_id, ctx)
    else:
        from pipelines.runner import run_batch

        load, cpu0, t0 = _loadavg(), _cpu(), time.perf_counter()
        outcome = run_batch(settings, key)
        if not outcome.success:
            raise SystemExit(f"dagster run failed: {outcome.message}")
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    from kholuu.catalog import Catalog

    catalog = Catalog(settings.database_url)
    batch = catalog.get_batch(key)
    docs = len(catalog.documents(batch.id))
    pages = sum(1 for p in catalog.batch_pages(batch.id) if p.status in ("ocr", "blank"))
    return {"pages": pages, "wall_s": wall, "cpu_s": cpu, "documents": docs, "load": f"{load} → {_loadavg()}"}


def measure(label: str, mode: str, home: Path, folder: Path) -> Measure:
    """Run ``child`` in a fresh process; its peak memory comes from ``wait4``."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, "--home", str(home), "--folder", str(folder)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{label}: the run failed (exit {proc.returncode})")
    data = json.loads(out.strip().splitlines()[-1])
    m = Measure(label=label, peak_mb=usage.ru_maxrss / 1024, **data)
    print(f"  {label:24} {m.pages:4d} pages {m.wall_s:8.1f} s wall {m.cpu_s:8.1f} s CPU "
          f"{m.pages_per_min:7.1f} pages/min  peak {m.peak_mb:5.0f} MB  load {m.load}", flush=True)
    return m


def report(n: int, a: Measure, g: Measure, b: Measure, c: Measure) -> None:
    d_wall, d_cpu = a.wall_s + b.wall_s, a.cpu_s + b.cpu_s
    print()
    print(f"{'run':34} {'wall s':>8} {'CPU s':>8} {'pages/min':>10} {'peak MB':>8}")
    print(f"{'stages called directly (A + B)':34} {d_wall:8.1f} {d_cpu:8.1f} {n / d_wall * 60:10.1f} "
          f"{max(a.peak_mb, b.peak_mb):8.0f}")
    print(f"{'through Dagster (one batch)':34} {g.wall_s:8.1f} {g.cpu_s:8.1f} {g.pages_per_min:10.1f} {g.peak_mb:8.0f}")
    print(f"{'Dagster re-run, cached':34} {c.wall_s:8.1f} {c.cpu_s:8.1f} {c.pages_per_min:10.1f} {c.peak_mb:8.0f}")
    print()
    print(f"orchestration overhead: wall {(g.wall_s / d_wall - 1) * 100:+.1f}%, "
          f"CPU {(g.cpu_s / d_cpu - 1) * 100:+.1f}%  (goal < 10%)")
    print(f"cached re-run: {c.wall_s / g.wall_s * 100:.1f}% of the first run's wall time, "
          f"{c.cpu_s / g.cpu_s * 100:.1f}% of its CPU  (goal < 10%)")
    print(f"documents: direct {a.documents} + {b.documents}, Dagster {g.documents}")
    print(json.dumps({"pages": n, "runs": [asdict(m) for m in (a, g, b, c)]}, ensure_ascii=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", choices=("direct", "dagster"), help=argparse.SUPPRESS)
    ap.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.home, args.folder)))
        return

    work = (args.workdir or Path(tempfile.mkdtemp(prefix="kholuu-bench-pipeline-"))).resolve()
    folder, starts_file = work / "batch", work / "starts.json"
    t = time.perf_counter()
    if starts_file.is_file():   # a batch generated by an earlier run of the bench
        starts = json.loads(starts_file.read_text(encoding="utf-8"))
    else:
        starts = generate_pages(folder, args.pages, args.dpi)
        starts_file.write_text(json.dumps(starts), encoding="utf-8")
    n = sum(1 for p in folder.iterdir() if p.suffix == ".png")
    half_a, half_b = split_halves(folder, starts, work)
    print(f"batch: {n} pages ({len(starts)} documents) at {args.dpi} dpi in {folder} "
          f"(ready in {time.perf_counter() - t:.0f} s); halves of "
          f"{sum(1 for _ in half_a.iterdir())} and {sum(1 for _ in half_b.iterdir())} pages", flush=True)
    a = measure("direct, first half", "direct", work / "direct-a", half_a)
    g = measure("Dagster, whole batch", "dagster", work / "dagster", folder)
    b = measure("direct, second half", "direct", work / "direct-b", half_b)
    c = measure("Dagster re-run, cached", "dagster", work / "dagster", folder)
    report(n, a, g, b, c)


if __name__ == "__main__":
    main()
