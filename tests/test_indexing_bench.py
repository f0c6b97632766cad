"""The search benchmark runs end to end on a tiny corpus (so it does not rot)."""

from __future__ import annotations

import json
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
