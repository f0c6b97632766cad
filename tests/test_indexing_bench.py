"""The search benchmark runs end to end on a tiny corpus (so it does not rot)."""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path


BENCH = Path(__file__).resolve().parent.parent / "bench" / "search.py"


def test_search_benchmark_reports_its_figures(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--docs", "60", "--queries", "12", "--json",
                                      "--dir", str(tmp_path)])
    try:
        runpy.run_path(str(BENCH), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["documents"] == 60 and result["pages"] >= 60
    assert result["docs_per_s"] > 0 and result["index_mb"] > 0
    for key in ("concurrency_1", "concurrency_8"):
        r = result[key]
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]
    assert set(result["p95_by_kind_ms"]) == set(result["p95_cpu_by_kind_ms"]) == \
        {"word+diacritics", "word folded", "phrase", "filters+facets"}
    # by default the searches go through the web app's pool of worker processes
    assert result["search_workers"] == min(len(os.sched_getaffinity(0)), 8) and result["search_mode"].startswith("pool")
    assert result["concurrency_8"]["cpu_p50_ms"] > 0 and result["concurrency_8"]["cpu_all_ms_per_query"] > 0


def test_search_benchmark_keeps_the_in_process_mode(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--docs", "40", "--queries", "12", "--search-workers", "0",
                                      "--dir", str(tmp_path)])
    try:
        runpy.run_path(str(BENCH), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "searches: in-process" in out and "concurrency_8: p50" in out


def test_search_benchmark_runs_both_embedded_backends_side_by_side(tmp_path: Path, capsys, monkeypatch):
    argv = [str(BENCH), "--docs", "40", "--queries", "12", "--embedded", "both", "--dir", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    try:
        runpy.run_path(str(BENCH), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    result = json.loads(capsys.readouterr().out)["embedded_side_by_side"]
    assert set(result) == {"tantivy", "fts5"}
    for r in result.values():
        assert r["documents"] == 40 and not r["reused_index"] and r["index_mb"] > 0
        assert 0 < r["concurrency_8"]["p50_ms"] <= r["concurrency_8"]["p95_ms"]
    # --reuse keeps what is there: nothing is indexed again
    monkeypatch.setattr(sys, "argv", argv + ["--reuse"])
    try:
        runpy.run_path(str(BENCH), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    again = json.loads(capsys.readouterr().out)["embedded_side_by_side"]
    assert all(r["reused_index"] and r["documents"] == 40 for r in again.values())
