"""embed_folder / embed_captions: determinism, bad files, resume, sharding, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from audio_fixtures import make_mixed_folder, write_sine
from audiotext_cli.audio.io import load_audio
from audiotext_cli.errors import EmbeddingFileError
from audiotext_cli.index import folder as folder_job
from audiotext_cli.index.folder import (
    CHUNK_FILES,
    embed_captions,
    embed_folder,
    list_files,
    parse_shard,
)
from audiotext_cli.index.store import EmbeddingStore, merge_stores
from fake_embedder import FakeEmbedder

TESTS = Path(__file__).resolve().parent


def make_tones(root: Path, n: int, seconds: float = 0.25) -> list[Path]:
    """n short tones of different pitch, some in sub-folders."""
    return [
        write_sine(root / f"d{i % 3}" / f"tone{i:02d}.wav", 200 + 150 * i, seconds)
        for i in range(n)
    ]


def by_id(store_path: Path) -> dict[str, np.ndarray]:
    ids, emb, _ = EmbeddingStore.open(store_path).load()
    return dict(zip(ids, emb.mean, strict=True))


def test_batch_equals_single_and_direct_embedding(tmp_path):
    files = make_tones(tmp_path / "audio", 7)
    single = embed_folder(
        FakeEmbedder(), tmp_path / "audio", tmp_path / "s1", batch_size=1, workers=0
    )
    batched = embed_folder(
        FakeEmbedder(), tmp_path / "audio", tmp_path / "s7", batch_size=4, workers=0
    )
    assert single.embedded == batched.embedded == 7
    one, many = by_id(tmp_path / "s1"), by_id(tmp_path / "s7")
    assert one.keys() == many.keys()
    for key in one:
        np.testing.assert_array_equal(one[key], many[key])
    direct = FakeEmbedder().embed_waveforms([load_audio(files[3])]).mean[0]
    np.testing.assert_array_equal(many["d0/tone03.wav"], direct)
    rows = EmbeddingStore.open(tmp_path / "s7").rows()
    assert {r["path"] for r in rows} == {str(f.resolve()) for f in files}
    assert all(r["duration"] == pytest.approx(0.25) and len(r["sha256"]) == 64 for r in rows)


@pytest.mark.parametrize("workers", [0, 2])
def test_short_files_fill_a_model_call_up_to_batch_seconds_in_input_order(
    tmp_path, monkeypatch, workers
):
    monkeypatch.setattr(folder_job, "INLINE_DECODE_SECONDS", 0.0)  # workers: the pool
    files = make_tones(tmp_path / "audio", 20)  # 0.25 s each
    for batch_seconds, calls in ((0.0, [4] * 5), (2.0, [8, 8, 4])):
        fake = FakeEmbedder()
        out = tmp_path / f"emb-{batch_seconds}"
        kwargs = {"batch_size": 4, "batch_seconds": batch_seconds, "workers": workers}
        assert embed_folder(fake, tmp_path / "audio", out, **kwargs).embedded == 20
        assert fake.batches == calls
        ids = [r["id"] for r in EmbeddingStore.open(out).rows()]
        assert ids == [f.relative_to(tmp_path / "audio").as_posix() for f in sorted(files)]


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_job, "INLINE_DECODE_SECONDS", 0.0)  # the decoder pool
    good, bad = make_mixed_folder(tmp_path / "mixed")
    for i in range(4):
        write_sine(tmp_path / "mixed" / f"extra{i}.wav", 300 + 100 * i, 0.2)
        good[f"extra{i}.wav"] = {}
    progress = []
    report = embed_folder(
        FakeEmbedder(probabilistic=True),
        tmp_path / "mixed",
        tmp_path / "emb",
        batch_size=2,
        workers=2,
        progress=progress.append,
    )
    assert report.embedded == len(good) and report.failed == len(bad)
    store = EmbeddingStore.open(tmp_path / "emb")
    assert {Path(r["path"]).name for r in store.rows()} == set(good)
    errors = {Path(r["path"]).name: r["reason"] for r in store.errors()}
    assert errors.keys() == bad.keys()
    for name, phrase in bad.items():
        assert phrase.lower() in errors[name].lower(), (name, errors[name])
    assert store.load()[1].logvar is not None
    assert progress[-1].done == progress[-1].total == len(good) + len(bad)
    assert progress[-1].files_per_s > 0 and progress[-1].audio_hours_per_s > 0


@pytest.mark.parametrize(("threshold", "inline"), [(0.0, 0), (1e-9, CHUNK_FILES), (1e9, 40)])
def test_a_job_decodes_inline_until_the_rest_would_pay_for_workers(
    tmp_path, monkeypatch, threshold, inline
):
    """Chunks decode in this process while the rest projects under the threshold at the
    rate measured so far, then in the pool; the store is the same either way."""
    files = make_tones(tmp_path / "audio", 40, seconds=0.1)
    embed_folder(FakeEmbedder(), tmp_path / "audio", tmp_path / "ref", workers=0)
    here: list[str] = []  # files decoded in this process (a worker decodes in its own)
    decode = folder_job._decode
    monkeypatch.setattr(folder_job, "_decode", lambda p, *a: here.append(p) or decode(p, *a))
    monkeypatch.setattr(folder_job, "INLINE_DECODE_SECONDS", threshold)
    report = embed_folder(FakeEmbedder(), tmp_path / "audio", tmp_path / "emb", workers=2)
    assert report.embedded == len(files) and len(here) == inline
    assert here == sorted(str(f) for f in files)[:inline]  # the first chunk, in order
    ref, got = by_id(tmp_path / "ref"), by_id(tmp_path / "emb")
    assert list(got) == list(ref)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key])


def test_incremental_rerun(tmp_path):
    files = make_tones(tmp_path / "audio", 5)
    embed_folder(FakeEmbedder(), tmp_path / "audio", tmp_path / "emb", workers=0)
    before = by_id(tmp_path / "emb")

    again = FakeEmbedder()
    report = embed_folder(again, tmp_path / "audio", tmp_path / "emb", workers=0)
    assert (report.embedded, report.skipped, again.batches) == (0, 5, [])

    stat = files[1].stat()  # touched, same bytes: hashed, not re-embedded
    os.utime(files[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    write_sine(files[2], 3000, 0.25)  # modified
    os.utime(files[2], ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))
    write_sine(tmp_path / "audio" / "new.wav", 5000, 0.5)  # new
    third = FakeEmbedder()
    report = embed_folder(third, tmp_path / "audio", tmp_path / "emb", workers=0)
    assert (report.embedded, report.skipped, report.failed) == (2, 4, 0)
    assert sum(third.batches) == 2
    after = by_id(tmp_path / "emb")
    assert len(after) == 6
    assert not np.allclose(after["d2/tone02.wav"], before["d2/tone02.wav"])
    np.testing.assert_array_equal(after["d1/tone01.wav"], before["d1/tone01.wav"])


def test_include_exclude_and_output_inside_root(tmp_path):
    make_tones(tmp_path, 6)
    (tmp_path / "notes.txt").write_text("not audio")
    report = embed_folder(
        FakeEmbedder(), tmp_path, tmp_path / "emb", include=["*.wav"], exclude=["d1/*"], workers=0
    )
    assert report.embedded == 4 and report.failed == 0
    again = embed_folder(FakeEmbedder(), tmp_path, tmp_path / "emb", include=["*"], workers=0)
    assert again.failed == 1  # notes.txt; nothing from the store folder itself
    assert [Path(e["path"]).name for e in again.errors] == ["notes.txt"]


def test_shards_partition_and_merge_equal_one_run(tmp_path):
    make_tones(tmp_path / "audio", 12)
    parts = [list_files(tmp_path / "audio", shard=(i, 3)) for i in range(3)]
    assert sorted(f for p in parts for f in p) == list_files(tmp_path / "audio")
    assert all(parts)  # 12 files over 3 shards: none empty with this hash
    for i in range(3):
        embed_folder(
            FakeEmbedder(), tmp_path / "audio", tmp_path / f"part{i}", shard=(i, 3), workers=0
        )
    merge_stores([tmp_path / f"part{i}" for i in range(3)], tmp_path / "merged")
    embed_folder(FakeEmbedder(), tmp_path / "audio", tmp_path / "single", workers=0)
    merged, single = by_id(tmp_path / "merged"), by_id(tmp_path / "single")
    assert merged.keys() == single.keys()
    for key in single:
        np.testing.assert_array_equal(merged[key], single[key])
    assert parse_shard("2/3") == (2, 3)
    with pytest.raises(EmbeddingFileError):
        parse_shard("3/3")


_KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from fake_embedder import FakeEmbedder
from audiotext_cli.index.folder import embed_folder
embed_folder(FakeEmbedder(delay=0.15), {root!r}, {out!r}, batch_size=2, workers=1, commit_every=4)
"""


def test_kill_9_then_resume_embeds_every_file_exactly_once(tmp_path):
    make_tones(tmp_path / "audio", 30, seconds=0.1)
    out = tmp_path / "emb"
    script = _KILL_SCRIPT.format(tests=str(TESTS), root=str(tmp_path / "audio"), out=str(out))
    # its own process group, so the kill takes the decoder workers too (no orphans left)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            manifest = out / "manifest.json"
            if manifest.exists() and '"part-00001"' in manifest.read_text():
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the job finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    committed = len(EmbeddingStore.open(out).rows())
    assert 8 <= committed < 30

    report = embed_folder(FakeEmbedder(), tmp_path / "audio", out, workers=0)
    assert report.embedded == 30 - committed and report.skipped == committed
    store = EmbeddingStore.open(out)
    all_rows = [line for name in store.shards() for line in (out / f"{name}.jsonl").open()]
    assert len(all_rows) == 30  # nothing duplicated, nothing lost
    assert len(store.rows()) == 30


def test_embed_captions_txt_and_jsonl(tmp_path):
    txt = tmp_path / "c.txt"
    txt.write_text("a dog barks\n\nrain on a roof\n")
    report = embed_captions(FakeEmbedder(), txt, tmp_path / "t")
    assert report.embedded == 2
    ids, emb, rows = EmbeddingStore.open(tmp_path / "t").load()
    assert ids == ["line-000001", "line-000003"] and rows[1]["text"] == "rain on a roof"
    np.testing.assert_array_equal(emb.mean[0], FakeEmbedder().embed_texts(["a dog barks"]).mean[0])
    assert embed_captions(FakeEmbedder(), txt, tmp_path / "t").skipped == 2

    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text('{"id": "x1", "text": "bells"}\n{"id": "x2", "caption": "a car"}\n')
    embed_captions(FakeEmbedder(), jsonl, tmp_path / "j")
    assert EmbeddingStore.open(tmp_path / "j").meta["kind"] == "text"
    assert [r["id"] for r in EmbeddingStore.open(tmp_path / "j").rows()] == ["x1", "x2"]
    jsonl.write_text('{"id": "x1"}\n')
    with pytest.raises(EmbeddingFileError, match='line 1 has no "text"'):
        embed_captions(FakeEmbedder(), jsonl, tmp_path / "j2")
