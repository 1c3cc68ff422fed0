"""The CLI's contract, across commands: usage mistakes exit 2 with one line, runtime
failures exit 1 with one line, never a traceback; `--format` json/jsonl/csv round-trip the
same rows; output that is not a terminal (CliRunner's) keeps each table row on one line and
logs progress as lines; help renders whole; importing the CLI imports no torch or faiss."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audio_fixtures import write_sine
from audiotext_cli.cli import COMMANDS, _options, _output, app

runner = CliRunner()

USAGE_MISTAKES = [
    ["no-such-command"],
    ["index", "build", "store", "--out", "o", "--kind", "bogus"],
    ["index", "build", "store", "--out", "o", "--memory-budget", "lots"],
    ["index", "build", "store", "--out", "o", "--param", "nlist"],
    ["index", "merge", "a", "--out", "o", "--memory-budget", "1 parsec"],
    ["curate", "--audio", "a", "--texts", "t", "--teacher", "c", "--out", "o", "--mode", "x"],
    ["train", "--out", "o", "--set", "train.nonexistent=1"],
    ["train", "--out", "o", "--set", "train.lr=abc"],
    ["train", "--out", "o", "--set", "no-equals-sign"],
    ["train", "--out", "o", "--preset", "no-such-preset"],
    ["train", "--out", "o", "--loss", "bogus"],
    ["train", "--out", "o", "--model", "bogus"],
    ["train", "--out", "o", "--device", "gpu"],
    ["embed", "folder", "d", "--model", "m", "--out", "o", "--shard", "5/2"],
    ["embed", "folder", "d", "--model", "m", "--out", "o", "--shard", "half"],
    ["compare-spaces", "a.npy", "b.npy", "--metrics", "nngs,bogus"],
    ["info", "x.wav", "--format", "xml"],
    ["info", "x.wav", "--json", "--format", "csv"],
    ["uncertainty", "ckpt", "--kind", "bogus"],
    ["traverse", "ckpt", "--text", "a dog", "--root", "bogus"],
    ["zeroshot", "ckpt", "--level", "4"],
    ["data", "build", "--size", "huge"],
    ["data", "build-docs", "--size", "large"],
    ["eval-docs", "corpus", "--ablation", "bogus"],
    ["eval-docs", "corpus", "--vad", "bogus"],
    ["search", "dog", "--index", "i", "--format", "yaml"],
]


def _one_error_line(result) -> str:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("args", USAGE_MISTAKES, ids=" ".join)
def test_usage_mistakes_exit_2_with_one_line(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing the commands might write lands in the repo
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    _one_error_line(result)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["data", "stats", "missing.jsonl"], "manifest not found"),
        (["index", "info", "no-index"], "no-index"),
        (["embed", "merge", "not-a-store", "--out", "o"], "not-a-store"),
        (["index", "info", "take [/1] [red]"], "take [/1] [red]"),  # brackets are not markup
    ],
)
def test_runtime_failures_exit_1_with_one_line(args, phrase, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert phrase in _one_error_line(result)


def test_choice_enums_match_the_library():
    from audiotext_cli.cli.train import MODEL_PRESETS
    from audiotext_cli.curate.pairs import MODES
    from audiotext_cli.data.build import SIZES
    from audiotext_cli.hilbert.docs_corpus import SIZES as DOC_SIZES
    from audiotext_cli.index.faiss_index import INDEX_KINDS
    from audiotext_cli.prolap.traverse import ROOT_MODES
    from audiotext_cli.towers import TOWERS

    def values(enum) -> list[str]:
        return [m.value for m in enum]

    assert values(_options.IndexKind) == ["auto", *INDEX_KINDS]
    assert values(_options.CurateMode) == list(MODES)
    assert values(_options.RootMode) == list(ROOT_MODES)
    assert values(_options.CorpusSize) == list(SIZES)
    assert values(_options.DocsSize) == list(DOC_SIZES)
    assert values(_options.ModelKind) == [*dict.fromkeys(m for m, _ in MODEL_PRESETS), "hilbert"]
    assert set(values(_options.AudioTower)) == {"cnn", *TOWERS}
    assert {t for _, t in MODEL_PRESETS} == set(values(_options.AudioTower))


# --- --format ---------------------------------------------------------------------------

AWKWARD = 'tone, "quoted"\nwith newline.wav'


@pytest.fixture
def folder(tmp_path) -> Path:
    write_sine(tmp_path / "plain.wav")
    write_sine(tmp_path / AWKWARD)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really")
    return tmp_path


def _info(folder: Path, *args: str) -> str:
    result = runner.invoke(app, ["info", str(folder), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_jsonl_and_csv_carry_the_same_rows(folder):
    rows = json.loads(_info(folder, "--format", "json"))
    assert json.loads(_info(folder, "--json")) == rows  # --json is an alias
    lines = _info(folder, "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == rows  # one row object per line
    table = list(csv.DictReader(io.StringIO(_info(folder, "--format", "csv"))))
    assert [r["path"] for r in table] == [r["path"] for r in rows]
    assert str(folder / AWKWARD) in [r["path"] for r in table]  # comma, quotes, newline
    for got, want in zip(table, rows, strict=True):
        assert got["ok"] == str(want["ok"]) and got["error"] == (want["error"] or "")
        if want["ok"]:
            assert float(got["duration"]) == want["duration"]


def test_csv_writes_lists_as_json_and_missing_cells_empty(capsys):
    _output.emit(
        _output.Format.csv,
        None,
        [
            _output.Table(["a", "b"], [[1, [1, 2]]], key={"level": 1}),
            _output.Table(["a", "c"], [["x,y", None]], key={"level": 2}),
        ],
    )
    got = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert got == [
        {"level": "1", "a": "1", "b": "[1, 2]", "c": ""},
        {"level": "2", "a": "x,y", "b": "", "c": ""},
    ]


# --- not a terminal -----------------------------------------------------------------------


def test_warning_prints_its_prefix_and_the_message_verbatim(capsys):
    _output.warn("take [/1] [bold]x[/bold] is odd")
    assert capsys.readouterr().err.strip() == "warning: take [/1] [bold]x[/bold] is odd"


def test_piped_table_keeps_a_long_path_on_one_line(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 6) / "bad.wav"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(b"not audio")
    out = runner.invoke(app, ["info", "--strict", str(deep)]).stdout
    assert [line for line in out.splitlines() if str(deep) in line]  # `| grep bad.wav` works


def test_progress_off_a_terminal_logs_lines(capsys, monkeypatch):
    monkeypatch.setattr(_output._LineProgress, "MIN_INTERVAL_S", 0.0)
    with _output.progress("loss") as bar:
        task = bar.add_task("train", total=None, loss="")
        for step in range(1, 41):
            epoch = (step - 1) // 20 + 1
            desc, loss = f"train epoch {epoch}", f"loss {step}"
            bar.update(task, completed=step, total=40, description=desc, loss=loss)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("train epoch 1: 4/40") and lines[0].endswith("loss 4")
    assert sum(line.startswith("train epoch 1: 20/40") for line in lines) == 1  # the epoch's end
    assert lines[-1].startswith("train epoch 2: 40/40") and lines[-1].endswith("loss 40")
    assert len(lines) == 10  # a line per tenth, each epoch's end among them


def test_fast_progress_off_a_terminal_stays_quiet(capsys):
    with _output.progress() as bar:
        task = bar.add_task("checking", total=3)
        for _ in range(3):
            bar.advance(task)
    assert capsys.readouterr().err == ""


# --- help and import ----------------------------------------------------------------------


def _command_paths() -> list[list[str]]:
    from typer.main import get_command

    root = get_command(app)
    paths = [[]]
    for name, cmd in root.commands.items():
        paths.append([name])
        paths += [[name, sub] for sub in getattr(cmd, "commands", {})]
    return paths


def test_every_help_renders_whole():
    paths = _command_paths()
    assert len(paths) > 20
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, path
        assert "…" not in result.stdout, f"{' '.join(path)}: a cropped help cell"


# Commands that print no results, or whose --format names something else.
NO_RESULT_FORMAT = {"serve": "runs a web server", "export": "--format is the file's (csv, parquet)"}


def test_every_command_that_prints_results_takes_format_and_json():
    import typer

    root = typer.main.get_command(app)
    missing = []
    for path in _command_paths():
        cmd = root
        for name in path:
            cmd = cmd.commands[name]
        if getattr(cmd, "commands", None) or path[-1] in NO_RESULT_FORMAT:
            continue
        options = {o for p in cmd.params for o in getattr(p, "opts", [])}
        missing += [f"{' '.join(path)} {o}" for o in ("--format", "--json") if o not in options]
    assert missing == []


def test_validate_prints_its_problems_in_each_format(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\nnot json\n')
    result = runner.invoke(app, ["data", "validate", str(bad), "--format", "json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["ok"] is False and len(doc["problems"]) == 2
    result = runner.invoke(app, ["data", "validate", str(bad), "--format", "jsonl"])
    assert [json.loads(x)["problem"] for x in result.stdout.splitlines()] == doc["problems"]
    table = runner.invoke(app, ["data", "validate", str(bad)])
    assert table.exit_code == 1 and table.stdout == "" and table.stderr.count("error: ") == 2


def test_every_command_module_registers():
    assert {"info", "data", "embed", "index", "search", "train", "eval"} <= set(COMMANDS)


def test_cli_import_loads_no_torch_or_faiss():
    code = (
        "import sys, audiotext_cli.cli; "
        "print(sorted(m for m in ('torch', 'faiss', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_piped_training_logs_each_epoch_and_prints_csv(corpus, tmp_path):
    """`make demo > log` used to show nothing for the whole run: now a line per epoch."""
    from synthetic_corpus import tiny_train_args

    args = tiny_train_args(corpus, tmp_path / "run", "--epochs", "2", "--format", "csv")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for epoch in (1, 2):
        assert [x for x in result.stderr.splitlines() if x.startswith(f"train epoch {epoch}: ")]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["metric (validation)"] == "text_to_audio R@1"
    assert 0 <= float(rows[0]["value"]) <= 1


def _number(word: str) -> bool:
    return word.lstrip("-").replace(".", "", 1).isdigit()


def test_readme_tour_names_only_options_that_exist():
    """Every `audiotext ...` line of the README tour runs as written, as far as the
    command and its options go (the tour is what a new user types first)."""
    import shlex

    from typer.main import get_command

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## Tour", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    root, checked, wrong = get_command(app), 0, []
    for line in tour.splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[0] != "audiotext":
            continue
        words = words[: next((i for i, w in enumerate(words) if w in (">", "|")), len(words))]
        cmd, rest = root, words[1:]
        while rest and rest[0] in getattr(cmd, "commands", {}):
            cmd, rest = cmd.commands[rest[0]], rest[1:]
        known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
        options = [w.split("=")[0] for w in rest if w.startswith("-") and not _number(w)]
        wrong += [f"{line.strip()}: {o}" for o in options if o not in known]
        checked += 1
    assert checked > 30 and wrong == []
