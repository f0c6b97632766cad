"""The ``kholuu`` command's basics: help everywhere, fonds commands, and bad input
reported on one line with exit code 2 and no traceback."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kholuu.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path in the parser, e.g. ("batch", "add"), found from argparse itself."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append(prefix + (name,))
                out.extend(_commands(sub, prefix + (name,)))
    return out


COMMANDS = _commands(build_parser())


def run(args: list[str], home: Path, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process with its own data directory."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KHOLUU_")}
    full_env.update({"KHOLUU_HOME": str(home), "PYTHONIOENCODING": "utf-8", **env})
    return subprocess.run([sys.executable, "-m", "kholuu.cli", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kholuu: ")
    for needle in needles:
        assert needle in lines[0]


def test_every_documented_command_exists() -> None:
    for path in [("ocr",), ("extract",), ("search",), ("serve",), ("demo",), ("batch", "add"),
                 ("batch", "run"), ("batch", "list"), ("fonds", "load"), ("fonds", "list")]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", [()] + COMMANDS, ids=lambda p: " ".join(p) or "kholuu")
def test_help_exits_0(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kholuu" + "".join(" " + p for p in path))


def test_version_and_bare_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("kholuu ")
    assert main([]) == 2


def test_help_runs_as_a_program(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path / "home")
    assert result.returncode == 0
    for command in ("ocr", "extract", "search", "serve", "batch", "fonds", "demo"):
        assert command in result.stdout
    assert not (tmp_path / "home").exists()  # help touches no data


def test_fonds_list_json_has_the_41_shipped_fonds(tmp_path: Path) -> None:
    result = run(["fonds", "list", "--json"], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    fonds = json.loads(result.stdout)
    assert len(fonds) == 41
    assert set(fonds[0]) == {"code", "name", "creator", "start_year", "end_year"}
    assert fonds[0]["code"] == "F01" and "Tỉnh ủy" in fonds[0]["name"]
    text = run(["fonds", "list"], tmp_path / "home")
    assert text.returncode == 0 and len(text.stdout.strip().splitlines()) == 41


def test_fonds_load_then_list(tmp_path: Path) -> None:
    path = tmp_path / "phong.yaml"
    path.write_text("fonds:\n  - {code: H01, name: 'Phông Huyện ủy Vũ Thư', start_year: 1945}\n", encoding="utf-8")
    result = run(["fonds", "load", str(path)], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "1" in result.stdout
    codes = [f["code"] for f in json.loads(run(["fonds", "list", "--json"], tmp_path / "home").stdout)]
    assert codes == ["H01"]


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"),
    ("fonds: [code: F01\n", "not a valid YAML"),
    ("fonds:\n  - {code: F01, name: A}\n  - {code: F01, name: B}\n", "appears twice"),
])
def test_fonds_load_bad_file_is_one_line_exit_2(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "phông sai.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert_one_line_error(run(["fonds", "load", str(path)], tmp_path / "home"), str(path), reason)


def test_bad_setting_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run(["fonds", "list"], tmp_path / "home", KHOLUU_PORT="cổng")
    assert_one_line_error(result, "KHOLUU_PORT")


def test_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run(["nope"], tmp_path / "home"), "nope")
    assert_one_line_error(run(["search", "x", "--from", "19xx"], tmp_path / "home"), "19xx")
    assert_one_line_error(run(["batch", "add", "."], tmp_path / "home"), "--fonds")


def test_batch_add_unknown_fonds_is_one_line_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "lô 1"
    folder.mkdir()
    Image.new("L", (40, 40), 255).save(folder / "trang-001.png")
    result = run(["batch", "add", "--fonds", "NOPE", "."], tmp_path / "home", cwd=folder)
    assert_one_line_error(result, "NOPE")
    assert run(["batch", "list", "--json"], tmp_path / "home").stdout.strip() == "[]"


def test_batch_add_prints_the_id_last_and_is_idempotent(tmp_path: Path) -> None:
    folder = tmp_path / "lô 2"
    folder.mkdir()
    Image.new("L", (40, 40), 255).save(folder / "trang-001.png")
    first = run(["batch", "add", "--fonds", "F01", str(folder)], tmp_path / "home")
    assert first.returncode == 0, first.stderr
    again = run(["batch", "add", "--fonds", "F01", str(folder)], tmp_path / "home")
    last = first.stdout.strip().splitlines()[-1]
    assert last.isdigit() and again.stdout.strip().splitlines()[-1] == last
    [batch] = json.loads(run(["batch", "list", "--json"], tmp_path / "home").stdout)
    assert (batch["id"], batch["fonds"], batch["state"]) == (int(last), "F01", "registered")


def test_missing_batch_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run(["batch", "add", "--fonds", "F01", str(tmp_path / "không có")], tmp_path / "home")
    assert_one_line_error(result, "không có")
