"""`audiotext zeroshot`: prompt files, per-class tables, confusion matrices, chance levels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.errors import ConfigError
from audiotext_cli.evaluate.perclass import (
    confusion_matrix,
    per_class_rows,
    plot_confusion,
    read_templates,
)

runner = CliRunner()


@pytest.fixture
def shared(corpus, clap_run) -> tuple[dict[str, Path], Path]:
    return corpus, clap_run


def test_templates_file(tmp_path: Path) -> None:
    good = tmp_path / "p.txt"
    good.write_text("# comment\n\nthe sound of {}\n  {} playing  \n")
    assert read_templates(good) == ("the sound of {}", "{} playing")
    bad = tmp_path / "bad.txt"
    bad.write_text("the sound of {}\na recording\n")
    with pytest.raises(ConfigError, match="line 2"):
        read_templates(bad)
    two = tmp_path / "two.txt"
    two.write_text("{} and {}\n")
    with pytest.raises(ConfigError, match="exactly one"):
        read_templates(two)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="no template"):
        read_templates(empty)


def test_per_class_table_by_hand(tmp_path: Path) -> None:
    names = ["cat", "dog", "owl"]
    truth = np.array([0, 0, 0, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 2, 1, 0, 2])
    m = confusion_matrix(pred, truth, 3)
    assert m.tolist() == [[1, 2, 1], [1, 1, 0], [0, 0, 1]]
    rows = {r["class"]: r for r in per_class_rows(m, names)}
    assert rows["cat"]["n"] == 4 and rows["cat"]["recall"] == 0.25
    assert rows["cat"]["most_confused_with"] == "dog" and rows["cat"]["confused_share"] == 0.5
    assert rows["dog"]["most_confused_with"] == "cat" and rows["dog"]["predicted"] == 3
    assert rows["owl"]["recall"] == 1.0 and rows["owl"]["most_confused_with"] is None
    png = plot_confusion(
        m, [f"a rather long class name number {i}" for i in range(3)], tmp_path / "c.png"
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_zeroshot_cli_json_and_png(shared, tmp_path: Path) -> None:
    corpus, run = shared
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("{}\nthe sound of {}\n")
    png = tmp_path / "cm.png"
    result = runner.invoke(
        app,
        [
            "zeroshot",
            str(run / "best"),
            "--manifest",
            str(corpus["eval"]),
            "--prompts",
            str(prompts),
            "--level",
            "3",
            "--confusion",
            str(png),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report["levels"]) == ["3"] and report["templates"] == ["{}", "the sound of {}"]
    rep = report["levels"]["3"]
    assert rep["classes"] == ["a noise burst", "a sine tone", "a square wave"]
    m = np.array(rep["confusion"])
    assert m.sum() == rep["n"] == 9 and m.sum(1).tolist() == [3, 3, 3]
    assert rep["accuracy"] == pytest.approx(np.trace(m) / 9)
    assert [r["recall"] for r in rep["per_class"]] == pytest.approx((np.diag(m) / 3).tolist())
    assert rep["chance"] == pytest.approx(1 / 3) and rep["majority"] == pytest.approx(1 / 3)
    assert png.read_bytes()[:4] == b"\x89PNG" and rep["confusion_png"] == str(png)


def test_zeroshot_cli_table_all_levels_and_errors(shared, tmp_path: Path) -> None:
    corpus, run = shared
    result = runner.invoke(
        app,
        [
            "zeroshot",
            str(run / "best"),
            "--manifest",
            str(corpus["eval"]),
            "--confusion",
            str(tmp_path / "cm.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "level 1" in result.stdout
        and "level 3" in result.stdout
        and "most confused" in result.stdout
    )
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [f"cm-level{i}.png" for i in (1, 2, 3)]
    bad = tmp_path / "bad.txt"
    bad.write_text("no placeholder\n")
    result = runner.invoke(
        app,
        ["zeroshot", str(run / "best"), "--manifest", str(corpus["eval"]), "--prompts", str(bad)],
    )
    assert result.exit_code == 1 and "line 1" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["zeroshot", str(run / "best"), "--level", "4"])
    assert result.exit_code == 2


def test_zeroshot_csv_quotes_odd_class_names_and_jsonl_matches_json(shared, tmp_path: Path):
    import csv
    import io

    corpus, run = shared
    odd = {"a sine tone": 'a "sine", tone', "a square wave": "a square,\nwave"}
    manifest = tmp_path / "odd.jsonl"
    with manifest.open("w") as fh:
        for line in corpus["eval"].read_text().splitlines():
            row = json.loads(line)
            row["audio"] = str(corpus["eval"].parent / row["audio"])
            row["labels"] = [odd.get(x, x) for x in row["labels"]]
            row["captions"] = [c | {"text": odd.get(c["text"], c["text"])} for c in row["captions"]]
            fh.write(json.dumps(row) + "\n")

    def out(fmt: str) -> str:
        args = ["zeroshot", str(run / "best"), "-m", str(manifest), "--format", fmt]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return result.stdout

    report = json.loads(out("json"))
    want = [
        {"level": int(lv)} | r for lv, rep in report["levels"].items() for r in rep["per_class"]
    ]
    lines = [json.loads(line) for line in out("jsonl").splitlines()]
    assert lines == want  # the JSON document's per-class rows, keys and all
    table = list(csv.DictReader(io.StringIO(out("csv"))))
    assert [(int(r["level"]), r["class"]) for r in table] == [
        (w["level"], w["class"]) for w in want
    ]
    assert list(table[0]) == list(want[0])
    assert set(odd.values()) <= {r["class"] for r in table}
