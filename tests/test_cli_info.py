"""`audiotext info` end to end on a folder of good and broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audio_fixtures import make_mixed_folder, write_sine
from audiotext_cli.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> tuple[Path, dict, dict]:
    root = tmp_path_factory.mktemp("mixed")
    good, bad = make_mixed_folder(root)
    return root, good, bad


def _rows(args: list[str]) -> tuple[int, dict[str, dict]]:
    result = runner.invoke(app, ["info", "--json", *args])
    return result.exit_code, {Path(r["path"]).name: r for r in json.loads(result.stdout)}


def test_folder_one_row_per_file_with_reasons(mixed):
    root, good, bad = mixed
    code, rows = _rows([str(root)])
    assert code == 0
    assert set(rows) == set(good) | set(bad)
    for name, want in good.items():
        row = rows[name]
        assert row["ok"] and row["error"] is None
        assert {k: row[k] for k in want} == want
        assert row["duration"] == pytest.approx(1.0)
    for name, phrase in bad.items():
        assert not rows[name]["ok"] and phrase in rows[name]["error"], name


def test_strict_fails_on_bad_files_only(mixed, tmp_path):
    root, good, _ = mixed
    assert runner.invoke(app, ["info", "--strict", str(root)]).exit_code == 1
    goods = [str(root / name) for name in good]
    assert runner.invoke(app, ["info", "--strict", *goods]).exit_code == 0


def test_table_output_lists_status(mixed):
    root, _, _ = mixed
    result = runner.invoke(app, ["info", str(root / "tone.flac"), str(root / "silent.wav")])
    assert result.exit_code == 0
    assert "FLAC/PCM_16" in result.stdout and "silent" in result.stdout
    assert "1 of 2 files unusable" in result.stderr


def test_missing_file_is_one_line_error_row(tmp_path):
    missing = str(tmp_path / "nope.wav")
    code, rows = _rows([missing])
    assert code == 0 and rows["nope.wav"]["error"] == "no such file"
    result = runner.invoke(app, ["info", "--strict", missing])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.strip() == "1 of 1 files unusable"
    assert "error:" in result.stdout  # the row itself (table cells wrap at 80 columns)


def test_recursive_descends_only_when_asked(tmp_path):
    write_sine(tmp_path / "top.wav")
    write_sine(tmp_path / "sub" / "deep.flac")
    (tmp_path / "sub" / "notes.txt").write_text("not audio")
    _, flat = _rows([str(tmp_path)])
    _, deep = _rows(["-r", str(tmp_path)])
    assert set(flat) == {"top.wav"}
    assert set(deep) == {"top.wav", "deep.flac", "notes.txt"}
    assert not deep["notes.txt"]["ok"] and "not audio" in deep["notes.txt"]["error"]


def test_header_only_skips_decoding(mixed):
    root, _, _ = mixed
    _, rows = _rows(["--header-only", str(root / "nan.wav"), str(root / "truncated.wav")])
    assert rows["nan.wav"]["ok"]  # the header of a NaN file is fine
    assert "truncated" in rows["truncated.wav"]["error"]  # WAV truncation is a header check
