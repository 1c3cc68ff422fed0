"""Fuzzed audio through `info`, `embed folder`, the web API's upload, `curate` and `data
validate`: zero tracebacks, every bad file reported with a one-line reason, every good
file embedded (or, uploaded, searched with).

CI runs a fixed set of 60 entries (seconds); `make fuzz` runs thousands
(`tests/fault_campaign.py`). Byte-level fuzzing of the readers uses hypothesis.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from audiotext_cli.audio.io import probe, verify
from audiotext_cli.cli import app
from audiotext_cli.errors import AudioError
from audiotext_cli.index.folder import embed_folder
from audiotext_cli.index.store import EmbeddingStore
from fake_embedder import FakeEmbedder
from fuzz_corpus import BAD, EITHER, GOOD, SPECIAL_KINDS, fuzz_corpus

runner = CliRunner()
N_CI = 60
# what every command's reason must say about each special entry
KIND_REASONS = {
    "fifo": "FIFO",
    "dangling link": "dangling symlink",
    "symlink loop": "symlink loop",
    "directory": "directory",
    "empty": "empty file",
    "unreadable": "permission denied",
}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    return folder, fuzz_corpus(folder, N_CI, seed=0)


def special_kind(path: Path) -> str | None:
    """What the file system says an entry is, when it is one of SPECIAL_KINDS (read from the
    entry itself, not from the generator's intent)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else "dangling link"
    if stat.S_ISFIFO(st.st_mode):
        return "fifo"
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    if st.st_size == 0:
        return "empty"
    return "unreadable" if stat.S_IMODE(st.st_mode) == 0 else None


def assert_reported(path: Path, reason: str | None) -> None:
    """A bad entry's reason: one non-empty line that names a special entry's kind."""
    assert reason and reason.strip() and "\n" not in reason, (path, reason)
    kind = special_kind(path)
    if kind is not None:
        assert KIND_REASONS[kind] in reason, (path, kind, reason)


def check_embed_run(folder, expected, out, workers=2) -> dict[str, int]:
    """Embed `folder`; assert good -> a row, bad -> an error with a one-line reason."""
    report = embed_folder(FakeEmbedder(), folder, out, workers=workers)
    store = EmbeddingStore.open(out)
    embedded = {row["path"] for row in store.rows()}
    errors = {row["path"]: row["reason"] for row in store.errors()}
    for path, verdict in expected.items():
        key = str(path)
        assert (key in embedded) != (key in errors), f"{path!r}: embedded and reported, or neither"
        if verdict == GOOD:
            assert key in embedded, f"{path!r} not embedded: {errors.get(key)}"
        if verdict == BAD:
            assert_reported(path, errors.get(key))
    ids = [row["id"] for row in store.rows()]
    assert len(ids) == len(set(ids))
    return {"embedded": report.embedded, "failed": report.failed}


def test_embed_folder_reports_every_bad_file_and_embeds_every_good_one(fuzzed, tmp_path):
    folder, expected = fuzzed
    counts = check_embed_run(folder, expected, tmp_path / "emb")
    assert counts["embedded"] >= sum(v == GOOD for v in expected.values())
    assert counts["failed"] >= sum(v == BAD for v in expected.values())


def check_info(folder, expected) -> None:
    """`info --json`: a row per entry, ok for good files, a one-line reason for bad ones."""
    result = runner.invoke(app, ["info", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    rows = json.loads(result.stdout)
    by_path = {row["path"]: row for row in rows}
    assert len(rows) == len(by_path) == len(expected)
    for path, verdict in expected.items():
        row = by_path[str(path)]
        if verdict != EITHER:
            assert row["ok"] == (verdict == GOOD), (path, row)
        if not row["ok"]:
            assert_reported(path, row["error"])


def _utf8(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def test_the_quick_set_holds_every_special_kind_and_undecodable_names(fuzzed):
    kinds = {special_kind(path) for path in fuzzed[1]}
    assert kinds >= set(SPECIAL_KINDS), sorted(set(SPECIAL_KINDS) - kinds)
    undecodable = {v for p, v in fuzzed[1].items() if not _utf8(p.name)}
    assert undecodable >= {GOOD, BAD}, "no good and bad files under non-UTF-8 names"


def test_info_gives_a_row_per_entry_and_no_traceback(fuzzed):
    check_info(*fuzzed)


def test_info_table_prints_undecodable_names(tmp_path):
    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff.wav")
    sf.write(tmp_path / "plain.wav", 0.1 * np.sin(np.arange(800) / 3), 16000)
    os.rename(tmp_path / "plain.wav", name)
    result = runner.invoke(app, ["info", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "\\udcff" in result.stdout or "\\xff" in result.stdout


def check_uploads(client, expected) -> dict[str, int]:
    """POST every regular file of the corpus to `/api/search/audio` (ASGI test client):
    good -> 200 with results, bad -> 400/413 with a one-line JSON reason, never a 500."""
    counts = {"uploaded": 0, "answered": 0, "refused": 0}
    for path, verdict in expected.items():
        if path.is_symlink() or not path.is_file() or not os.access(path, os.R_OK):
            continue  # FIFOs, links, folders and unreadable files have no bytes to send
        name = path.name.encode(errors="surrogateescape").decode(errors="replace")  # sendable
        response = client.post(
            "/api/search/audio", params={"name": name}, content=path.read_bytes()
        )
        status, body = response.status_code, response.json()
        counts["uploaded"] += 1
        if status == 200:
            assert verdict != BAD, f"{path!r}: bad file answered"
            assert body["results"] and body["query"] == {"upload": name}, (path, body)
            counts["answered"] += 1
        else:
            assert status in (400, 413), (path, status, body)
            assert verdict != GOOD, f"{path!r}: good file refused: {body}"
            assert body["error"].strip() and "\n" not in body["error"], (path, body)
            counts["refused"] += 1
    return counts


@pytest.fixture(scope="module")
def upload_client(clap_run, tmp_path_factory):
    from fastapi.testclient import TestClient

    from audiotext_cli.serve import create_app
    from serve_library import build_index, write_library

    root = tmp_path_factory.mktemp("fuzz_serve")
    idx = build_index(write_library(root), clap_run / "best", root)
    return TestClient(create_app(idx), base_url="http://127.0.0.1")


def test_upload_answers_every_good_file_and_refuses_every_bad_one(fuzzed, upload_client):
    counts = check_uploads(upload_client, fuzzed[1])
    assert counts["answered"] >= sum(v == GOOD for v in fuzzed[1].values())
    assert counts["refused"] >= sum(v == BAD and p.is_file() for p, v in fuzzed[1].items())


def test_a_loud_query_is_refused_not_answered_with_no_hits(upload_client, tmp_path):
    """Samples near 3e38 make the model's vector NaN; a NaN query matches nothing, so the
    upload and `search --audio` used to answer 200 / exit 0 with an empty list."""
    from audiotext_cli.index.search import search_rows

    loud = tmp_path / "loud.wav"
    sf.write(loud, np.full(8000, 3e38, np.float32), 16000, subtype="FLOAT")
    response = upload_client.post("/api/search/audio", content=loud.read_bytes())
    assert response.status_code == 400 and "not finite" in response.json()["error"]
    index_dir = upload_client.app.state.catalog.index_dir
    with pytest.raises(AudioError, match="not finite"):
        search_rows(index_dir, audio=loud)
    result = runner.invoke(app, ["search", "--audio", str(loud), "--index", str(index_dir)])
    assert result.exit_code == 1 and "not finite" in result.output, result.output
    assert "Traceback" not in result.output


def check_curate(folder, expected, teacher: Path, work: Path) -> None:
    """`curate` over the corpus, keeping every pair (threshold below any cosine): each good
    file becomes a record, each bad one is listed as skipped with a one-line reason."""
    pool, out = work / "pool.txt", work / "curated.jsonl"
    pool.write_text("a short click\na long drone\n")
    argv = ["curate", "--audio", str(folder), "--texts", str(pool), "--teacher", str(teacher)]
    result = runner.invoke(app, [*argv, "--threshold", "-2", "--out", str(out), "--json"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    skipped = {item["path"]: item["reason"] for item in json.loads(result.stdout)["skipped"]}
    kept = {json.loads(line)["audio"] for line in out.read_text().splitlines()}
    kept = {os.path.realpath(out.parent / audio) for audio in kept}
    for path, verdict in expected.items():
        key, accepted = str(path), os.path.realpath(path) in kept
        assert accepted != (key in skipped), f"{path!r}: kept and skipped, or neither"
        if verdict == GOOD:
            assert accepted, f"{path!r} not curated: {skipped.get(key)}"
        if verdict == BAD:
            assert_reported(path, skipped.get(key))


def check_validate(folder, expected, work: Path) -> None:
    """`data validate --check-audio` of a manifest naming every entry (schema-valid lines):
    a problem naming the file and a one-line reason for each bad one, none for good ones."""
    del folder  # the entries are named one by one
    captions = [{"level": lv, "text": "a tone"} for lv in (1, 2, 3, 4)]
    manifest, paths = work / "fuzz.jsonl", list(expected)
    lines = [
        {
            "id": f"c{i}",
            "audio": str(path),
            "duration": 1.0,
            "sample_rate": 16000,
            "source": "fuzz",
            "split": "train",
            "captions": captions,
            "labels": ["a", "b", "c"],
            "license": "CC0",
        }
        for i, path in enumerate(paths)
    ]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in lines))
    result = runner.invoke(app, ["data", "validate", str(manifest), "--json"])
    assert "Traceback" not in result.output, result.output
    doc = json.loads(result.stdout)
    assert result.exit_code == (1 if doc["problems"] else 0), result.output
    by_line = {}
    for problem in doc["problems"]:
        where, _, reason = problem.partition(": ")
        by_line[int(where.rsplit(":", 1)[1]) - 1] = reason
    for i, (path, verdict) in enumerate(expected.items()):
        reason = by_line.get(i)
        if verdict == GOOD:
            assert reason is None, (path, reason)
        if verdict == BAD:
            assert reason and reason.startswith(f"audio {path}: "), (path, reason)
            assert_reported(path, reason.removeprefix(f"audio {path}: "))


def test_curate_reports_every_bad_file_and_keeps_every_good_one(fuzzed, clap_run, tmp_path):
    check_curate(*fuzzed, clap_run / "best", tmp_path)


def test_data_validate_reports_every_bad_file_and_accepts_every_good_one(fuzzed, tmp_path):
    check_validate(*fuzzed, tmp_path)


def check_all_commands(work: str, teacher: str) -> None:
    """The corpus through `embed folder`, `info`, `curate` and `data validate` (run by
    the unprivileged test below in a process of its own)."""
    work_dir = Path(work)
    folder = work_dir / "fuzz"
    expected = fuzz_corpus(folder, N_CI, seed=0)
    unreadable = [p for p in expected if special_kind(p) == "unreadable"]
    assert unreadable and all(expected[p] == BAD for p in unreadable), "the files are readable"
    check_embed_run(folder, expected, work_dir / "emb")
    check_info(folder, expected)
    check_curate(folder, expected, Path(teacher), work_dir)
    check_validate(folder, expected, work_dir)
    print(f"{len(unreadable)} unreadable file(s) reported by 4 commands")


# root reads a chmod-000 file; without these two capabilities it cannot
_UNPRIVILEGED = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]


def test_unreadable_files_are_reported_when_run_without_root_privileges(clap_run, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("not root: the tests above already find the chmod-000 file unreadable")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is missing: root reads chmod-000 files regardless")
    tests = Path(__file__).resolve().parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tests), str(tests.parent / "src")]))
    code = "import sys, test_fuzz\ntest_fuzz.check_all_commands(*sys.argv[1:])"
    argv = [*_UNPRIVILEGED, sys.executable, "-c", code, str(tmp_path), str(clap_run / "best")]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "unreadable file(s) reported by 4 commands" in proc.stdout, proc.stdout


_EXTS = st.sampled_from(["wav", "flac", "ogg", "mp3", "aiff", "WAV"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=2048), ext=_EXTS)
def test_random_bytes_are_audio_errors_never_crashes(tmp_path, data, ext):
    path = tmp_path / f"x.{ext}"
    path.write_bytes(data)
    try:
        verify(path)
    except AudioError as exc:
        assert exc.reason and "\n" not in exc.reason


def _valid_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    wave = 0.3 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)
    sf.write(buf, wave.astype(np.float32), 16000, format=fmt)
    return buf.getvalue()


_VALID = {fmt: _valid_bytes(fmt) for fmt in ("WAV", "FLAC", "OGG", "MP3", "AIFF")}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fmt=st.sampled_from(sorted(_VALID)), cut=st.floats(0.0, 0.999), flip=st.integers(0, 255))
def test_truncated_or_flipped_files_never_crash(tmp_path, fmt, cut, flip):
    """A cut (and one flipped byte) anywhere: an AudioError or a clean decode; and WAV/AIFF
    cuts, which the headers can always tell, are always reported."""
    data = bytearray(_VALID[fmt][: max(1, int(len(_VALID[fmt]) * cut))])
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(bytes(data))
    with pytest.raises(AudioError) if fmt in ("WAV", "AIFF") else _maybe():
        verify(path)
    data[flip % len(data)] ^= 0x5A
    path.write_bytes(bytes(data))
    with _maybe():
        probe(path)


class _maybe:
    """Accept a clean return or an AudioError; anything else propagates."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is not None and issubclass(kind, AudioError)
