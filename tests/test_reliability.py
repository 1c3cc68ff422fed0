"""Issue 20's findings, one test each: locks with real processes, checked artifacts,
interrupted saves, audio edge cases and argument edges."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from audio_fixtures import write_sine
from audiotext_cli.audio.io import verify
from audiotext_cli.cli import app
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import AudioError, CheckpointError, EmbeddingFileError, IndexFileError
from audiotext_cli.index import folder as folder_job
from audiotext_cli.index.faiss_index import FaissIndex, add, build_index, choose_index
from audiotext_cli.index.folder import embed_captions, embed_folder
from audiotext_cli.index.store import EmbeddingStore
from audiotext_cli.integrity import IntegrityError, load_checked, save_checked
from audiotext_cli.locks import LockedError, writer_lock
from fake_embedder import FakeEmbedder

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
runner = CliRunner()
META = {"model_id": "m", "model_source": "", "dim": 4, "probabilistic": False}
META |= {"sample_rate": 16000, "kind": "audio"}


def _python(code: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{TESTS}{os.pathsep}{SRC}")
    return subprocess.Popen([sys.executable, "-c", code], env=env, **kw)


def _unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _rows(prefix: str, n: int) -> list[dict]:
    return [
        {"id": f"{prefix}{i:04d}", "path": f"/{prefix}{i}.wav", "sha256": "s"} for i in range(n)
    ]


def _store(path: Path, n: int = 20) -> EmbeddingStore:
    store = EmbeddingStore.create(path, META)
    store.append(_rows("a", n), Embeddings(_unit(n, 0)))
    return store


# -- locks, with real processes ----------------------------------------------------------


def _vector(key: str) -> np.ndarray:
    """A unit vector that names its row: (writer, batch, item) -> direction."""
    writer, batch, item = key.split("-")
    v = np.array([ord(writer), int(batch) + 1, int(item) + 1, 1.0], np.float32)
    return v / np.linalg.norm(v)


def test_two_processes_appending_to_one_store_keep_every_row(tmp_path):
    EmbeddingStore.create(tmp_path / "s", META)
    code = f"""
import sys
import numpy as np
from test_reliability import _vector
from audiotext_cli.embedder import Embeddings
from audiotext_cli.index.store import EmbeddingStore
store = EmbeddingStore.open({str(tmp_path / "s")!r})
for b in range(10):
    ids = [f"{{sys.argv[1]}}-{{b}}-{{i}}" for i in range(10)]
    store.append([{{"id": i}} for i in ids], Embeddings(np.stack([_vector(i) for i in ids])))
"""
    env = dict(os.environ, PYTHONPATH=f"{TESTS}{os.pathsep}{SRC}")
    procs = [subprocess.Popen([sys.executable, "-c", code, w], env=env) for w in "xy"]
    assert [p.wait() for p in procs] == [0, 0]
    ids, emb, _ = EmbeddingStore.open(tmp_path / "s").load()
    assert len(ids) == 200 and len(set(ids)) == 200
    for key, vector in zip(ids, emb.mean, strict=True):  # each row kept its own vector
        np.testing.assert_array_equal(vector, _vector(key))


def _hold_lock(folder: Path) -> subprocess.Popen:
    code = (
        f"from audiotext_cli.locks import writer_lock\nimport time\n"
        f"with writer_lock({str(folder)!r}):\n    print('held', flush=True); time.sleep(60)\n"
    )
    proc = _python(code, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_is_refused_and_a_killed_writers_lock_is_not_stale(tmp_path):
    folder = tmp_path / "audio"
    for i in range(3):
        write_sine(folder / f"t{i}.wav", 300 + 100 * i, 0.2)
    out = tmp_path / "emb"
    EmbeddingStore.create(out, FakeEmbedder().__dict__ | _fake_meta())
    holder = _hold_lock(out)
    try:
        with pytest.raises(LockedError, match=f"pid {holder.pid}"):
            embed_folder(FakeEmbedder(), folder, out, workers=0)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert embed_folder(FakeEmbedder(), folder, out, workers=0).embedded == 3  # kernel freed it


def _fake_meta() -> dict:
    from audiotext_cli.index.folder import store_meta

    return store_meta(FakeEmbedder(), "audio")


def test_index_add_is_refused_while_another_writer_holds_the_index(tmp_path):
    _store(tmp_path / "s")
    build_index(tmp_path / "s", out=tmp_path / "idx")
    holder = _hold_lock(tmp_path / "idx")
    try:
        with pytest.raises(LockedError):
            add(tmp_path / "idx", tmp_path / "s")
    finally:
        holder.kill()
        holder.wait()


def test_a_reader_never_deletes_a_live_writers_staged_files(tmp_path):
    _store(tmp_path / "s")
    build_index(tmp_path / "s", out=tmp_path / "idx")
    staged = tmp_path / "idx" / "index.faiss.new"
    staged.write_bytes(b"work in progress")
    holder = _hold_lock(tmp_path / "idx")
    try:
        assert len(FaissIndex.load(tmp_path / "idx")) == 20
        assert staged.exists()  # the writer is alive: its files are not debris
    finally:
        holder.kill()
        holder.wait()
    FaissIndex.load(tmp_path / "idx")  # now it is debris of a dead writer
    assert not staged.exists()


def test_readers_during_writes_see_old_or_new_never_a_mix(tmp_path):
    store = _store(tmp_path / "s", 10)
    build_index(tmp_path / "s", out=tmp_path / "idx")
    code = f"""
from audiotext_cli.index.faiss_index import FaissIndex
counts = set()
for _ in range(60):
    counts.add(len(FaissIndex.load({str(tmp_path / "idx")!r})))
print(sorted(counts))
"""
    reader = _python(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for b in range(6):
        store.append(_rows(f"b{b}-", 5), Embeddings(_unit(5, b + 1)))
        add(tmp_path / "idx", tmp_path / "s")
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert set(json.loads(out)) <= {10 + 5 * b for b in range(7)}


def test_store_readers_during_appends_see_whole_commits(tmp_path):
    """A reader process loads the store while this one appends: every load is one
    committed version (20 + 5b rows, ids and vectors aligned), never a mix."""
    store = _store(tmp_path / "s")
    code = f"""
import numpy as np
from audiotext_cli.index.store import EmbeddingStore
counts = set()
for _ in range(60):
    ids, emb, _ = EmbeddingStore.open({str(tmp_path / "s")!r}).load()
    assert len(ids) == len(set(ids)) == len(emb.mean), (len(ids), len(emb.mean))
    counts.add(len(ids))
print(sorted(counts))
"""
    reader = _python(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for b in range(6):
        store.append(_rows(f"b{b}-", 5), Embeddings(_unit(5, b + 1)))
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert set(json.loads(out)) <= {20 + 5 * b for b in range(7)}


def test_writer_lock_is_reentrant_in_one_process(tmp_path):
    with writer_lock(tmp_path), writer_lock(tmp_path):
        pass


# -- honest resume -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    ["model.hop_length=160", "train.batch_size=4", "train.loss=siglip", "train.seed=3"],
)
def test_resume_refuses_each_changed_setting(deterministic_ckpt, override):
    """The issue's list: hop length, batch size, loss and seed were applied mid-run."""
    from audiotext_cli.errors import ConfigUsageError
    from audiotext_cli.models.config import apply_overrides, load_preset
    from audiotext_cli.train.loop import _check_same_config

    _check_same_config(deterministic_ckpt, *load_preset("tiny"))  # unchanged: accepted
    key = override.split("=")[0].replace(".", r"\.")
    with pytest.raises(ConfigUsageError, match=f"other settings \\(.*{key}"):
        _check_same_config(deterministic_ckpt, *apply_overrides(*load_preset("tiny"), [override]))


# -- checked artifacts -------------------------------------------------------------------


def test_flipped_checkpoint_bytes_are_refused(deterministic_ckpt, tmp_path):
    from audiotext_cli.models.checkpoint import load_model

    bad = tmp_path / "ckpt"
    bad.mkdir()
    for f in deterministic_ckpt.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    data = bytearray((bad / "model.safetensors").read_bytes())
    for i in range(64):
        data[len(data) // 2 + i] ^= 0x10
    (bad / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_model(bad)


def test_a_save_killed_before_config_json_leaves_the_previous_checkpoint(
    deterministic_ckpt, tmp_path, monkeypatch
):
    from audiotext_cli.models import checkpoint as ck
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.models.model import AudioTextModel

    model_cfg, train_cfg = load_preset("tiny")
    target = tmp_path / "last"
    ck.save_checkpoint(target, AudioTextModel(model_cfg), train_cfg, {"step": 1})
    before = (target / "model.safetensors").read_bytes()

    def killed(path, obj):
        raise KeyboardInterrupt("kill -9 between the weights and config.json")

    torch.manual_seed(5)
    monkeypatch.setattr(ck, "write_json_atomic", killed)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(target, AudioTextModel(model_cfg), train_cfg, {"step": 2})
    monkeypatch.undo()
    assert (target / "model.safetensors").read_bytes() == before
    _, meta = ck.load_model(target)
    assert meta["state"] == {"step": 1}


def test_a_save_killed_between_its_renames_is_finished_on_read(tmp_path):
    from audiotext_cli.models import checkpoint as ck
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.models.model import AudioTextModel

    model_cfg, train_cfg = load_preset("tiny")
    target = tmp_path / "last"
    ck.save_checkpoint(target, AudioTextModel(model_cfg), train_cfg, {"step": 1})
    ck.save_checkpoint(tmp_path / ".last.new", AudioTextModel(model_cfg), train_cfg, {"step": 2})
    target.rename(tmp_path / ".last.old")  # as a kill after the first rename leaves it
    assert ck.checkpoint_exists(target)
    assert ck.read_config(target)[1]["state"] == {"step": 2}


def test_integrity_helper_round_trip_and_refusals(tmp_path):
    path = tmp_path / "features.safetensors"
    tensors = {"x": np.arange(12, dtype=np.float32).reshape(3, 4)}
    save_checked(path, tensors, format="feature-cache", version=2)
    np.testing.assert_array_equal(
        load_checked(path, format="feature-cache", version=2)["x"], tensors["x"]
    )
    with pytest.raises(IntegrityError, match="expected 'other'"):
        load_checked(path, format="other", version=2)
    with pytest.raises(IntegrityError, match="format version 2"):
        load_checked(path, format="feature-cache", version=3)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        load_checked(path, format="feature-cache", version=2)
    path.write_bytes(bytes(data[:40]))
    with pytest.raises(IntegrityError, match="truncated or corrupt"):
        load_checked(path, format="feature-cache", version=2)


def test_a_deleted_store_line_is_an_error_not_misaligned_rows(tmp_path):
    _store(tmp_path / "s")
    lines = tmp_path / "s" / "part-00000.jsonl"
    text = lines.read_text().splitlines(keepends=True)
    lines.write_text("".join(text[:5] + text[6:]))
    with pytest.raises(EmbeddingFileError, match="checksum mismatch|holds 19 rows"):
        EmbeddingStore.open(tmp_path / "s").load()


def test_a_truncated_shard_is_an_error_and_resume_does_not_skip_everything(tmp_path):
    folder = tmp_path / "audio"
    for i in range(4):
        write_sine(folder / f"t{i}.wav", 300 + 100 * i, 0.2)
    embed_folder(FakeEmbedder(), folder, tmp_path / "emb", workers=0)
    shard = tmp_path / "emb" / "part-00000.safetensors"
    shard.write_bytes(shard.read_bytes()[:50])
    with pytest.raises(EmbeddingFileError, match="part-00000.safetensors"):
        EmbeddingStore.open(tmp_path / "emb").load()
    with pytest.raises(EmbeddingFileError, match="part-00000.safetensors"):
        embed_folder(FakeEmbedder(), folder, tmp_path / "emb", workers=0)


def test_swapped_or_bad_ids_lines_and_index_json_without_spec(tmp_path):
    _store(tmp_path / "s")
    build_index(tmp_path / "s", out=tmp_path / "idx")
    ids = tmp_path / "idx" / "ids.jsonl"
    good = ids.read_text()
    lines = good.splitlines(keepends=True)
    ids.write_text("".join([lines[1], lines[0], *lines[2:]]))
    with pytest.raises(IndexFileError, match="ids.jsonl checksum mismatch"):
        FaissIndex.load(tmp_path / "idx")
    ids.write_text("{not json\n" + "".join(lines[1:]))
    with pytest.raises(IndexFileError, match="line 1 is not valid JSON"):
        FaissIndex.load(tmp_path / "idx")
    ids.write_text(good)
    meta_file = tmp_path / "idx" / "index.json"
    meta = json.loads(meta_file.read_text())
    del meta["spec"]
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(IndexFileError, match="lacks spec"):
        FaissIndex.load(tmp_path / "idx")


def test_embedding_into_a_store_of_another_model_is_refused(tmp_path):
    write_sine(tmp_path / "a" / "t.wav", 440, 0.2)
    embed_folder(FakeEmbedder(), tmp_path / "a", tmp_path / "emb", workers=0)
    with pytest.raises(EmbeddingFileError, match="model_id mismatch"):
        embed_folder(FakeEmbedder(model_id="other"), tmp_path / "a", tmp_path / "emb", workers=0)


# -- data build: locked, and a killed build's debris removed -----------------------------


@pytest.fixture
def fake_sources(tmp_path, monkeypatch):
    """`--size small` = the packages of tests/fake_packages.py (made here, no network)."""
    import fake_packages
    from audiotext_cli.data import build

    cache = fake_packages.make_archives(tmp_path / "packages", 6)
    monkeypatch.setenv("AUDIOTEXT_PACKAGES", str(cache))
    monkeypatch.setattr(build, "registry", fake_packages.sources)
    roles = {"train": ("faketones", "fakechimes"), "eval": ("fakenoise",)}
    monkeypatch.setitem(build.SPLIT_SOURCES, "small", roles)
    return cache


def test_data_build_removes_a_killed_builds_temp_files(tmp_path, fake_sources):
    from audiotext_cli.data.build import build_corpus
    from fault_campaign import _corpus_files

    out = tmp_path / "corpus"
    build_corpus(out, "small", workers=1)
    clean = _corpus_files(out)
    assert len([f for f in clean if f.startswith("audio/")]) == 18
    # what a kill -9 inside write_atomic leaves: a temp file beside the clip and the manifest
    (out / "audio" / "faketones" / ".tone001.flac.k1ll3d.tmp").write_bytes(b"fLaC half")
    (out / ".train.jsonl.k1ll3d.tmp").write_text('{"id": "half')
    info = build_corpus(out, "small", workers=1)
    assert info["reused_clips"] == 18 and _corpus_files(out) == clean


def test_a_second_data_build_of_one_folder_is_refused(tmp_path, fake_sources):
    from audiotext_cli.data.build import build_corpus

    holder = _hold_lock(tmp_path / "corpus")
    try:
        with pytest.raises(LockedError, match=f"pid {holder.pid}.* writing this corpus"):
            build_corpus(tmp_path / "corpus", "small", workers=1)
    finally:
        holder.kill()
        holder.wait()
    assert build_corpus(tmp_path / "corpus", "small", workers=1)["rendered_clips"] == 18


# -- audio content -----------------------------------------------------------------------


class _LoudNaN(FakeEmbedder):
    """Like a real front end, overflows on samples near float32's maximum."""

    def embed_waveforms(self, waves):
        emb = super().embed_waveforms(waves)
        loud = np.array([np.abs(w).max() > 1e30 for w in waves])
        emb.mean[loud] = np.nan
        return emb


def test_loud_files_giving_nan_vectors_are_reported_never_stored(tmp_path):
    write_sine(tmp_path / "a" / "ok.wav", 440, 0.2)
    sf.write(tmp_path / "a" / "loud.wav", np.full(1600, 3e38, np.float32), 16000, subtype="FLOAT")
    report = embed_folder(_LoudNaN(), tmp_path / "a", tmp_path / "emb", workers=0)
    assert (report.embedded, report.failed) == (1, 1)
    store = EmbeddingStore.open(tmp_path / "emb")
    assert "not finite" in store.errors()[0]["reason"]
    with pytest.raises(EmbeddingFileError, match="NaN"):
        store.append(_rows("n", 1), Embeddings(np.full((1, 8), np.nan, np.float32)))


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext"),
    [("AIFF", "PCM_16", "aiff"), ("WAV", "IMA_ADPCM", "wav"), ("MP3", "MPEG_LAYER_III", "mp3")],
)
def test_truncated_aiff_adpcm_and_mp3_are_reported(tmp_path, fmt, subtype, ext):
    path = tmp_path / f"a.{ext}"
    t = np.arange(32000) / 16000
    sf.write(
        path,
        (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
        16000,
        format=fmt,
        subtype=subtype,
    )
    verify(path)
    data = path.read_bytes()
    for frac in (0.3, 0.61, 0.93):
        path.write_bytes(data[: int(len(data) * frac)])
        with pytest.raises(AudioError, match="truncated"):
            verify(path)


def test_a_damaged_mp3_is_one_line_not_the_decoders_notes(tmp_path):
    """libmpg123 prints "Illegal Audio-MPEG-Header" / "Trying to resync" notes on the C
    stderr; a real process shows only our own lines, and stderr works again afterwards."""
    path = tmp_path / "cut.mp3"
    t = np.arange(88200) / 44100
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100, format="MP3")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] + bytes(500))
    code = (
        "import sys; from audiotext_cli.audio.io import probe, verify\n"
        "try: verify(sys.argv[1])\n"
        "except Exception as e: print(e, file=sys.stderr)\n"
        "print('stderr still works', file=sys.stderr)\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stderr
    lines = err.splitlines()
    assert len(lines) == 2 and "truncated" in lines[0], err
    assert lines[1] == "stderr still works"
    for i in range(16):  # embed folder, in decoder worker processes or inline: the same
        write_sine(tmp_path / "lib" / f"t{i:02d}.wav", 200 + 10 * i, 0.2)
    (tmp_path / "lib" / "cut.mp3").write_bytes(path.read_bytes())
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    for inline_seconds in (0.0, 1e9):  # every file in the pool; every file in the job
        code = (
            "import sys; from fake_embedder import FakeEmbedder\n"
            "from audiotext_cli.index import folder\n"
            f"folder.INLINE_DECODE_SECONDS = {inline_seconds}\n"
            "r = folder.embed_folder(FakeEmbedder(), sys.argv[1], sys.argv[2], workers=2)\n"
            "print(r.embedded, r.failed, file=sys.stderr)\n"
        )
        out = tmp_path / f"lib-{inline_seconds}.emb"
        err = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "lib"), str(out)],
            capture_output=True, text=True, check=True, env=env,
        ).stderr  # fmt: skip
        assert err.splitlines() == ["16 1"], err
    closed = "import os, sys; os.close(2); from audiotext_cli.audio.io import verify\n"
    closed += "print(verify(sys.argv[1]).frames)\n"  # `2>&-`: a good file still decodes
    wav = tmp_path / "lib" / "t00.wav"
    out = subprocess.run([sys.executable, "-c", closed, str(wav)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == str(sf.info(wav).frames), out


def test_a_wav_whose_fmt_claims_2gb_does_not_allocate_it(tmp_path):
    path = tmp_path / "huge.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16) + bytes(4000)
    riff = b"WAVEfmt " + struct.pack("<I", 2_000_000_000) + fmt
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    code = f"""
import resource
from audiotext_cli.audio.io import verify
from audiotext_cli.errors import AudioError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    verify({str(path)!r})
except AudioError as exc:
    print(exc.reason)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""
    proc = _python(code, stdout=subprocess.PIPE, text=True)
    reason, grown_kib = proc.communicate(timeout=60)[0].splitlines()
    # refused from the chunk headers, before libsndfile parses (and allocates) the claim
    assert reason.startswith("absurd header: the 'fmt ' chunk declares 2000000000 bytes")
    assert int(grown_kib) < 100_000  # 2 GB would be 2,000,000+ KiB


def test_upper_case_extensions_and_non_utf8_names_are_embedded(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_job, "INLINE_DECODE_SECONDS", 0.0)  # the decoder processes
    folder = tmp_path / "a"
    write_sine(folder / "UPPER.WAV", 440, 0.2)
    for i in range(17):
        write_sine(folder / f"t{i}.wav", 300 + 20 * i, 0.1)
    odd = os.path.join(os.fsencode(folder), b"caf\xe9.wav")
    os.rename(folder / "t0.wav", odd)
    report = embed_folder(FakeEmbedder(), folder, tmp_path / "emb", workers=2)
    assert (report.embedded, report.failed) == (18, 0)
    ids = {r["id"] for r in EmbeddingStore.open(tmp_path / "emb").rows()}
    assert "UPPER.WAV" in ids and os.fsdecode(b"caf\xe9.wav") in ids
    again = embed_folder(FakeEmbedder(), folder, tmp_path / "emb", workers=2)
    assert again.skipped == 18


def test_fifos_dangling_links_and_loops_are_reported_without_hanging(tmp_path):
    folder = tmp_path / "a"
    write_sine(folder / "ok.wav", 440, 0.2)
    os.mkfifo(folder / "pipe.wav")
    os.symlink(folder / "gone.wav", folder / "dangling.wav")
    os.symlink(folder / "l2.wav", folder / "l1.wav")
    os.symlink(folder / "l1.wav", folder / "l2.wav")
    report = embed_folder(FakeEmbedder(), folder, tmp_path / "emb", workers=0)
    reasons = {Path(e["path"]).name: e["reason"] for e in report.errors}
    assert report.embedded == 1
    assert reasons == {
        "pipe.wav": "not a regular file (a FIFO)",
        "dangling.wav": "dangling symlink",
        "l1.wav": "symlink loop",
        "l2.wav": "symlink loop",
    }
    result = runner.invoke(app, ["info", str(folder), "--json"])
    assert {Path(r["path"]).name: r["ok"] for r in json.loads(result.stdout)} == {
        "ok.wav": True,
        "pipe.wav": False,
        "dangling.wav": False,
        "l1.wav": False,
        "l2.wav": False,
    }


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def test_kill_9_of_embed_folder_leaves_no_decoder_workers(tmp_path):
    for i in range(40):
        write_sine(tmp_path / "a" / f"t{i:02d}.wav", 200 + 10 * i, 0.1)
    code = f"""
from fake_embedder import FakeEmbedder
from audiotext_cli.index import folder
folder.INLINE_DECODE_SECONDS = 0.0  # every file in the pool
folder.embed_folder(FakeEmbedder(delay=0.3), {str(tmp_path / "a")!r}, {str(tmp_path / "e")!r},
                    batch_size=2, workers=2, commit_every=4)
"""
    proc = _python(code)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = [
            c
            for c in _children(proc.pid)
            if "spawn" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")
        ]
    assert len(workers) >= 2, "no decoder workers seen"
    proc.send_signal(signal.SIGKILL)  # the job only, not its process group
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = [
        w
        for w in workers
        if Path(f"/proc/{w}").exists()
        and "Z" not in (Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0])
    ]
    assert alive == []


# -- arguments ---------------------------------------------------------------------------


def test_caption_files_invalid_utf8_and_empty(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a dog\n\xff\xfe rain\n")
    with pytest.raises(EmbeddingFileError, match="line 2 is not valid UTF-8"):
        embed_captions(FakeEmbedder(), bad, tmp_path / "t")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(EmbeddingFileError, match="no captions"):
        embed_captions(FakeEmbedder(), empty, tmp_path / "t2")


def test_a_long_caption_file_is_committed_in_few_shards(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("".join(f"caption number {i}\n" for i in range(10_000)))
    seen = []
    report = embed_captions(
        FakeEmbedder(), path, tmp_path / "t", batch_size=500, progress=seen.append
    )
    assert report.embedded == 10_000 and seen[-1].done == 10_000
    assert len(EmbeddingStore.open(tmp_path / "t").shards()) == 3  # 4096 a shard


def test_index_params_that_return_nothing_are_refused():
    with pytest.raises(IndexFileError, match="nlist=0"):
        choose_index(1000, 8, kind="ivf", nlist=0)
    with pytest.raises(IndexFileError, match="nprobe"):
        choose_index(1000, 8, kind="ivf", nprobe=-1)
    with pytest.raises(IndexFileError, match="more lists"):
        choose_index(100, 8, kind="ivf", nlist=500)


def test_search_edges_and_plot_parent(tmp_path, clap_run):
    write_sine(tmp_path / "a" / "t.wav", 440, 0.5)
    best = str(clap_run / "best")
    assert (
        runner.invoke(
            app,
            ["embed", "folder", str(tmp_path / "a"), "--model", best, "-o", str(tmp_path / "e")],
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, ["index", "build", str(tmp_path / "e"), "-o", str(tmp_path / "i")]
        ).exit_code
        == 0
    )
    for query in ("", "   "):
        result = runner.invoke(app, ["search", query, "--index", str(tmp_path / "i")])
        assert result.exit_code == 2 and "empty" in result.output
    for k in ("0", "-3"):
        assert (
            runner.invoke(
                app, ["search", "tone", "--index", str(tmp_path / "i"), "-k", k]
            ).exit_code
            == 2
        )
    result = runner.invoke(app, ["search", "tone", "--index", str(tmp_path / "i"), "-k", "50"])
    assert result.exit_code == 0 and "more than the 1 items" in result.output
    for query in ("ü✓ 犬の鳴き声", "dog " * 25_000):  # unicode, 100,000 characters
        result = runner.invoke(app, ["search", query, "--index", str(tmp_path / "i"), "--json"])
        assert result.exit_code == 0 and json.loads(result.stdout)[0]["id"] == "t.wav"
    a, b = tmp_path / "A.npy", tmp_path / "B.npy"
    np.save(a, _unit(40, 1))
    np.save(b, _unit(40, 2))
    plot = tmp_path / "no" / "such" / "dir" / "p.png"
    result = runner.invoke(app, ["compare-spaces", str(a), str(b), "--plot", str(plot)])
    assert result.exit_code == 2 and not (tmp_path / "no").exists()
    np.save(b, _unit(30, 2))
    result = runner.invoke(app, ["compare-spaces", str(a), str(b)])
    assert result.exit_code == 1 and "40 rows" in result.output and "Traceback" not in result.output
    nan = _unit(40, 2)
    nan[3] = np.nan
    np.save(b, nan)
    result = runner.invoke(app, ["compare-spaces", str(a), str(b)])
    assert result.exit_code == 1 and "NaN" in result.output


def test_embed_text_on_invalid_utf8_is_one_line(tmp_path, clap_run):
    bad = tmp_path / "c.txt"
    bad.write_bytes(b"\xff\xfe\x00 nope\n")
    result = runner.invoke(
        app,
        ["embed", "text", str(bad), "--model", str(clap_run / "best"), "-o", str(tmp_path / "t")],
    )
    assert result.exit_code == 1 and "not valid UTF-8" in result.output
    assert "Traceback" not in result.output


# -- full disk and kills in CI -----------------------------------------------------------


def _enospc(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_write_bytes_atomic_makes_the_folder_keeps_the_mode_and_leaves_no_half_file(
    tmp_path, monkeypatch
):
    from audiotext_cli.atomic import write_bytes_atomic

    target = tmp_path / "ab" / "entry.safetensors"  # its folder does not exist yet
    write_bytes_atomic(target, b"first")
    mask = os.umask(0)
    os.umask(mask)
    assert target.read_bytes() == b"first" and target.stat().st_mode & 0o777 == 0o666 & ~mask
    monkeypatch.setattr(os, "replace", _enospc)  # the disk fills at the rename
    with pytest.raises(OSError, match="No space"):
        write_bytes_atomic(target, b"second")
    monkeypatch.undo()
    assert target.read_bytes() == b"first" and os.listdir(target.parent) == ["entry.safetensors"]
    write_bytes_atomic(target, b"second")
    assert target.read_bytes() == b"second" and os.listdir(target.parent) == ["entry.safetensors"]


def test_full_disk_is_one_error_and_leaves_the_previous_artifacts(tmp_path, monkeypatch):
    from audiotext_cli import atomic
    from audiotext_cli.index import faiss_index

    store = _store(tmp_path / "s")
    build_index(tmp_path / "s", out=tmp_path / "idx")
    before = (tmp_path / "idx" / "index.faiss").read_bytes()
    store.append(_rows("n", 5), Embeddings(_unit(5, 4)))  # rows the index lacks
    real_write = atomic.write_atomic

    def full(path, writer):  # the disk fills while the file is written
        return real_write(path, lambda tmp: (writer(tmp), _enospc()))

    for module in (atomic, faiss_index):
        monkeypatch.setattr(module, "write_atomic", full)
    monkeypatch.setattr("audiotext_cli.index.store.write_atomic", full)
    with pytest.raises(OSError, match="No space"):
        store.append(_rows("b", 5), Embeddings(_unit(5, 3)))
    with pytest.raises(OSError, match="No space"):
        add(tmp_path / "idx", tmp_path / "s")
    folder = tmp_path / "audio"
    write_sine(folder / "t.wav", 440, 0.2)
    result = runner.invoke(app, ["info", str(folder)])  # reading needs no space
    assert result.exit_code == 0
    monkeypatch.undo()
    assert len(EmbeddingStore.open(tmp_path / "s").load()[0]) == 25
    assert (tmp_path / "idx" / "index.faiss").read_bytes() == before
    assert len(FaissIndex.load(tmp_path / "idx")) == 20
    assert not list((tmp_path / "s").glob(".*.tmp")) and not list((tmp_path / "idx").glob(".*.tmp"))
    store.append(_rows("b", 5), Embeddings(_unit(5, 3)))  # space again: the store goes on
    assert add(tmp_path / "idx", tmp_path / "s")["added"] == 10


def test_full_disk_in_the_cli_is_one_line(tmp_path, monkeypatch, clap_run):
    write_sine(tmp_path / "a" / "t.wav", 440, 0.3)
    monkeypatch.setattr("audiotext_cli.index.store.write_atomic", _enospc)
    args = [
        "embed",
        "folder",
        str(tmp_path / "a"),
        "--model",
        str(clap_run / "best"),
        "-o",
        str(tmp_path / "e"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "No space left on device" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.output and errors == ["error: No space left on device"]


def test_a_few_kills_of_embed_folder_lose_and_duplicate_nothing(tmp_path):
    import random

    from fault_campaign import embed_faults

    figures = embed_faults(tmp_path, 2, random.Random(0), n=24)
    assert figures["kills"] >= 2
    assert figures["rows_lost"] == figures["rows_duplicated"] == 0


@pytest.mark.slow  # about 20 s: a dozen `data build` processes
def test_a_few_kills_of_data_build_leave_the_files_of_a_clean_build(tmp_path):
    """`data build` on fake packages SIGKILLed, resumed, then rebuilt over with another seed
    while a reader reads the manifests (fault_campaign.data_build_faults raises on any
    difference from an uninterrupted build's folder or any half-written read)."""
    import random

    from fault_campaign import data_build_faults

    figures = data_build_faults(tmp_path, 3, random.Random(0), clips=120, delay=(0.3, 2.0))
    assert figures["kills"] >= 3 and figures["clips"] == 360
    assert figures["rows_lost"] == figures["rows_duplicated"] == figures["half_written_reads"] == 0
    assert figures["reader_reads"] > 0
