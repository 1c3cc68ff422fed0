"""The distilled student tower (towers/student.py, train/distill.py, `audiotext distill`):
the teacher's block layout for any length, rows independent of their batch (bit for bit
alone vs together; a padded training batch equal to each clip alone), a hash-checked
checkpoint round trip, the loss against a plain reference, a tiny distillation that learns,
and `--audio-tower student:DIR` through config, model and embedder."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from audio_fixtures import write_noise, write_sine
from audiotext_cli.audio.features import LogMel
from audiotext_cli.audio.sfx_frontend import SfxLogMel, block_starts, blocks_of, n_frames
from audiotext_cli.cli import app
from audiotext_cli.errors import CheckpointError, ConfigUsageError
from audiotext_cli.towers import load_tower, tower_spec
from audiotext_cli.towers.student import (
    FRAME_PASS,
    FRONTEND,
    SAMPLE_RATE,
    StudentConfig,
    StudentFrontend,
    StudentNet,
    StudentTower,
    block_ranges,
    load_student,
    num_student_frames,
    pool_steps,
    save_student,
)
from audiotext_cli.towers.student_passes import bucket_of, fold_batchnorm, pass_rows
from audiotext_cli.train.distill import (
    DistillConfig,
    DistillData,
    distill,
    distill_data,
    distill_loss,
    evaluate_student,
    forward_blocks,
    standardise,
)

TINY = StudentConfig(stem=8, stages=((16, 2), (16, 2), (32, 2)), context=32, head_hidden=32, dim=16)
LENGTHS = (1, 100, 511, 512, 5000, 16000, 37119, 37120, 60000, 160000)


def _net(cfg: StudentConfig = TINY, seed: int = 0) -> StudentNet:
    torch.manual_seed(seed)
    net = StudentNet(cfg)
    with torch.no_grad():  # non-trivial statistics, so a round trip that dropped them fails
        net.in_stats.copy_(torch.tensor([-6.0, 3.0]))
        net.out_mean.uniform_(0, 1)
        net.out_std.uniform_(0.5, 2)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net


def _student(tmp_path: Path, cfg: StudentConfig = TINY, seed: int = 0) -> Path:
    return save_student(tmp_path / "student", _net(cfg, seed), {"teacher": "fake"})


def _waves(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in LENGTHS]


@pytest.mark.parametrize("n", [*LENGTHS, 16000 * 10 + 7, 16000 * 61])
def test_block_layout_is_the_teachers_for_the_same_duration(n):
    n44 = round(n / SAMPLE_RATE * 44100)
    ranges = block_ranges(n)
    assert len(ranges) == len(block_starts(n_frames(max(1, n44))))
    n_steps = -(-(1 + max(n, 512) // 320) // 4)
    assert all(0 <= a < b <= n_steps for a, b in ranges)
    # consecutive blocks overlap by half, as the teacher's do: starts rise, ends never fall
    assert [a for a, _ in ranges] == sorted(a for a, _ in ranges)
    if len(ranges) > 2:  # a full block spans 2.32 s = 29 steps of 80 ms, give or take one
        assert all(28 <= b - a <= 30 for a, b in ranges[:-1])


def test_shapes_any_length_and_teacher_space(tmp_path):
    tower = load_tower(f"student:{_student(tmp_path)}")
    assert (tower.sample_rate, tower.dim) == (16000, 16)
    out = tower.embed_blocks(_waves())
    for wave, blocks in zip(_waves(), out, strict=True):
        assert blocks.shape == (len(block_ranges(len(wave))), 16)
        assert blocks.dtype == np.float32 and np.isfinite(blocks).all()


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_rows_do_not_depend_on_the_batch(tmp_path, precision):
    """Bit for bit, for clips of every bucket and of none (LENGTHS span 2..501 frames),
    and for more clips of one bucket than a pass holds."""
    tower = StudentTower(_student(tmp_path), precision=precision)
    rng = np.random.default_rng(3)
    same_bucket = [int(n) for n in rng.integers(16000, 19000, pass_rows(64) + 3)]
    assert {bucket_of(num_student_frames(n)) for n in same_bucket} == {64}
    waves = _waves() + [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in same_bucket]
    together = tower.embed_blocks(waves)
    alone = [tower.embed_blocks([w])[0] for w in waves]
    reordered = tower.embed_blocks(waves[::-1])[::-1]
    for a, b, c in zip(together, alone, reordered, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_frontend_is_logmel_and_a_clips_frames_do_not_depend_on_the_batch():
    """Framed rfft = `LogMel(FRONTEND)` (a clip under one FFT zero-padded to it), and the
    shared fixed-size passes give each clip alone its rows, bit for bit, including clips
    that straddle a pass boundary or span several (the 40 s one)."""
    frontend = StudentFrontend()
    waves = [*_waves(), (0.1 * np.random.default_rng(2).standard_normal(640000)).astype("f4")]
    assert sum(num_student_frames(len(w)) for w in waves) > 2 * FRAME_PASS
    with torch.inference_mode():
        together = frontend.many(waves)
        for wave, mel in zip(waves, together, strict=True):
            assert torch.equal(frontend(torch.from_numpy(wave)), mel)
            assert mel.shape == (num_student_frames(len(wave)), FRONTEND.n_mels)
            padded = np.pad(wave, (0, max(0, FRONTEND.n_fft - len(wave))))
            want = LogMel(FRONTEND)(torch.from_numpy(padded)[None])[0].T
            torch.testing.assert_close(mel, want, rtol=0, atol=2e-5)


def test_padded_training_batch_equals_each_clip_alone(tmp_path):
    """The masking after every layer: a clip padded into a batch with longer ones gives what
    it gives alone (without the masks the padded steps leak into its last blocks)."""
    tower = StudentTower(_student(tmp_path), precision="fp32")
    waves = _waves(1)
    mels = [tower.frontend(torch.from_numpy(w)) for w in waves]
    data = DistillData(mels, [torch.zeros(1)] * len(mels), [block_ranges(len(w)) for w in waves])
    with torch.no_grad():
        batch = tower.net.to_teacher(forward_blocks(tower.net.eval(), data, range(len(waves))))
    alone = np.concatenate(tower.embed_blocks(waves))
    np.testing.assert_allclose(batch.numpy(), alone, rtol=1e-4, atol=1e-5)


def _plain_fp32_blocks(path: Path, waves: list[np.ndarray]) -> list[np.ndarray]:
    """The reference: the saved network as trained (BatchNorm unfolded, fp32), each clip
    alone at its own length, no buckets."""
    net, frontend = load_student(path).net.eval(), StudentTower(path).frontend
    out = []
    with torch.no_grad():
        for w in waves:
            steps = net.steps(frontend(torch.from_numpy(w))[None])[0]
            z = net.block_head(pool_steps(steps, block_ranges(len(w))))
            out.append(net.to_teacher(z).numpy())
    return out


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize(("fused", "precision"), [(True, "fp32"), (False, "bf16"), (True, "bf16")])
def test_fast_paths_stay_faithful_to_the_plain_fp32_network(tmp_path, fused, precision):
    """BN folding, bucket passes and bf16 against the network as trained: every block's
    cosine >= 0.999 (the issue's bar); fp32 folding is exact algebra, so also to 1e-4."""
    path = _student(tmp_path)
    waves = _waves(2)
    fast = np.concatenate(StudentTower(path, fused=fused, precision=precision).embed_blocks(waves))
    plain = np.concatenate(_plain_fp32_blocks(path, waves))
    assert fast.shape == plain.shape
    assert _cosines(fast, plain).min() >= 0.999
    if precision == "fp32":
        np.testing.assert_allclose(fast, plain, rtol=1e-4, atol=1e-5)
    else:  # bf16 really is another computation (else the test would not test it)
        assert not np.allclose(fast, plain, rtol=1e-5, atol=1e-6)


def test_fold_batchnorm_removes_every_batchnorm_and_keeps_the_function():
    net = _net()
    folded = fold_batchnorm(net)
    assert not any(
        isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d) for m in folded.modules()
    )
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())  # original untouched
    x, frames = torch.randn(3, 117, 64), torch.tensor([117, 60, 5])
    with torch.no_grad():
        torch.testing.assert_close(
            folded.steps(x, frames), net.eval().steps(x, frames), rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize(
    ("frames", "bucket"),
    [(1, 32), (32, 32), (33, 48), (49, 64), (128, 128), (129, 192), (256, 256), (257, None)],
)
def test_bucket_of_is_the_smallest_that_holds_the_clip(frames, bucket):
    assert bucket_of(frames) == bucket


def test_checkpoint_round_trip_and_tamper(tmp_path):
    path = _student(tmp_path)
    saved = load_student(path)
    original = _net().state_dict()
    assert saved.cfg == TINY and saved.meta["teacher"] == "fake"
    assert saved.net.state_dict().keys() == original.keys()
    assert all(torch.equal(v, original[k]) for k, v in saved.net.state_dict().items())
    tower = StudentTower(path)
    assert tower.tower_id == f"student-{saved.sha256[:12]}-bf16-fused"
    plain = StudentTower(path, fused=False, precision="fp32")
    assert plain.tower_id == f"student-{saved.sha256[:12]}-fp32"
    first = tower.embed_blocks(_waves())
    again = StudentTower(path).embed_blocks(_waves())
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    weights = path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load_student(path)


def test_loss_matches_a_plain_reference():
    gen = torch.Generator().manual_seed(0)
    z, y = torch.randn(6, 5, generator=gen), torch.randn(6, 5, generator=gen)
    cfg = DistillConfig(tau=0.2, nce_weight=0.3)
    got = distill_loss(z, y, cfg)
    zn, yn = z.numpy() / np.linalg.norm(z, axis=1, keepdims=True), y.numpy()
    yn = yn / np.linalg.norm(yn, axis=1, keepdims=True)
    s = zn @ yn.T / 0.2

    def ce(m: np.ndarray) -> float:
        return float(np.mean([math.log(np.exp(row).sum()) - row[i] for i, row in enumerate(m)]))

    nce = 0.5 * (ce(s) + ce(s.T))
    mse = float(((z - y) ** 2).mean())
    assert float(got["nce"]) == pytest.approx(nce, rel=1e-5)
    assert float(got["mse"]) == pytest.approx(mse, rel=1e-6)
    assert float(got["loss"]) == pytest.approx(mse + 0.3 * nce, rel=1e-5)


class _FakeTeacher:
    """A 44.1 kHz "tower" whose blocks are the mean log-mel of 16 of aisfx's bands: a
    deterministic target a student can learn."""

    name = "fake"
    tower_id = "fake-teacher-v1"
    sample_rate = 44100
    dim = 16

    def embed_blocks(self, waves):
        frontend = SfxLogMel()
        out = []
        for w in waves:
            blocks = blocks_of(frontend(torch.from_numpy(w)[None])[0])
            out.append(blocks[:, :, ::6].mean(1).numpy().astype(np.float32))
        return out


def _tone_folder(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"c{i:02d}.wav"
        if i % 3 == 2:
            write_noise(path, seconds=0.5 + 0.4 * (i % 5), sr=44100, seed=i)
        else:
            write_sine(path, freq=150.0 * (1 + i % 7), seconds=0.6 + 0.5 * (i % 4), sr=44100)
        paths.append(str(path))
    return paths


def test_tiny_distillation_reduces_the_loss(tmp_path):
    paths = _tone_folder(tmp_path / "audio", 24)
    teacher = _FakeTeacher()
    train = distill_data(paths[:18], teacher)
    val = distill_data(paths[18:], teacher)
    assert len(train) == 18 and train.skipped == 0
    cfg = DistillConfig(epochs=12, batch_files=6, lr=1e-2, warmup_epochs=0.3)
    torch.manual_seed(cfg.seed)
    untrained = StudentNet(TINY)
    standardise(untrained, train)  # as `distill` starts: the same initial weights
    before = evaluate_student(untrained, val, cfg)
    out = tmp_path / "student"
    result = distill(train, val, out, cfg, student=TINY, teacher_id=teacher.tower_id)
    first, best = result.history[0]["train"]["mse"], result.history[-1]["train"]["mse"]
    assert best < 0.5 * first
    assert result.history[result.best_epoch - 1]["val"]["mse"] < before["mse"]
    saved = load_student(out)
    assert saved.meta["teacher"] == "fake-teacher-v1" and saved.meta["params"] == result.params
    # the saved student predicts the teacher's blocks in the teacher's own units
    tower = StudentTower(out)
    got = np.concatenate(tower.embed_blocks(_decoded(paths[:18])))
    want = torch.cat(train.targets).numpy()
    assert np.abs(got - want).mean() < np.abs(want - want.mean(0)).mean()


def _decoded(paths: list[str]) -> list[np.ndarray]:
    from audiotext_cli.audio.io import load_audio

    return [load_audio(p, SAMPLE_RATE) for p in paths]


def test_a_student_plugs_in_as_an_audio_tower(tmp_path):
    from audiotext_cli.models.config import ModelConfig
    from audiotext_cli.models.inference import TrainedEmbedder
    from audiotext_cli.models.model import AudioTextModel

    path = _student(tmp_path)
    name = f"student:{path}"
    assert tower_spec(name).dim == 16 and tower_spec(name).sample_rate == 16000
    with pytest.raises(ConfigUsageError, match="sample_rate"):
        ModelConfig(audio_tower=name, sample_rate=44100)
    with pytest.raises(ConfigUsageError, match="no student checkpoint"):
        ModelConfig(audio_tower=f"student:{tmp_path / 'missing'}")
    model = AudioTextModel(ModelConfig(audio_tower=name, sample_rate=16000, embed_dim=8))
    embedder = TrainedEmbedder(model, "m", "s", tower=load_tower(name))
    emb = embedder.embed_waveforms(_waves()[:4])
    assert emb.mean.shape == (4, 8) and emb.tower.shape == (4, 16)
    one = embedder.embed_waveforms(_waves()[2:3])
    np.testing.assert_array_equal(one.mean[0], emb.mean[2])


def test_head_passes_give_each_clip_its_row_alone_bit_for_bit(tmp_path):
    """More clips of one block count than a head pass holds, several counts, a clip long
    enough for a pass of fewer rows, and the log-variances of a probabilistic head."""
    from audiotext_cli.models.config import ModelConfig
    from audiotext_cli.models.inference import HEAD_ROWS, TrainedEmbedder, head_rows
    from audiotext_cli.models.model import AudioTextModel

    name = f"student:{_student(tmp_path)}"
    torch.manual_seed(0)
    cfg = ModelConfig(audio_tower=name, sample_rate=16000, embed_dim=8, probabilistic=True)
    embedder = TrainedEmbedder(AudioTextModel(cfg), "m", "s", tower=load_tower(name))
    rng = np.random.default_rng(1)
    lengths = [int(n) for n in rng.integers(4000, 40000, 2 * HEAD_ROWS + 3)] + [160000 * 20]
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]
    blocks = embedder.tower_blocks(waves)
    counts = [len(b) for b in blocks]
    assert max(counts.count(k) for k in set(counts)) > HEAD_ROWS and len(set(counts)) >= 3
    assert head_rows(counts[-1]) < HEAD_ROWS
    together = embedder.embed_blocks(blocks)
    for i in (0, 1, HEAD_ROWS + 1, len(waves) - 1):
        alone = embedder.embed_blocks([blocks[i]])
        np.testing.assert_array_equal(alone.mean[0], together.mean[i])
        np.testing.assert_array_equal(alone.logvar[0], together.logvar[i])
        np.testing.assert_array_equal(alone.tower[0], together.tower[i])


runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["distill", "--out", "o", "--teacher", "bogus"],
        ["distill", "--out", "o", "--data", "d", "--folder", "f"],
        ["distill", "--out", "o", "--epochs", "0"],
        ["train", "--out", "o", "--audio-tower", "bogus"],
        ["train", "--out", "o", "--audio-tower", "student:/no/such/student"],
    ],
    ids=" ".join,
)
def test_usage_mistakes_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_bad_input_exits_1_with_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["distill", "--out", "o", "--folder", str(tmp_path / "empty")])
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "found 0 audio files" in lines[0]


_PEAK_SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from audiotext_cli.train import distill

def peak_kb():  # this program's own peak: ru_maxrss would start at the spawning pytest's
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])

class Teacher:
    name, tower_id, sample_rate, dim = "zeros", "zeros-v1", 44100, 4
    def embed_blocks(self, waves):
        return [np.zeros((len(distill.block_ranges(round(len(w) * 16000 / 44100))), 4),
                         np.float32) for w in waves]

paths = sys.argv[2:]
if sys.argv[1] == "no-trim":
    distill.release_free_heap = lambda: None
distill.distill_data(paths[:8], Teacher())  # warm: imports, resamplers, first buffers
before = peak_kb()
data = distill.distill_data(paths, Teacher())
assert data.skipped == 0, data.skipped
print((peak_kb() - before) / 1024)
"""


def test_distill_data_memory_stays_near_what_it_keeps(tmp_path):
    """Decoding a corpus must not pin freed heap: before the trims, RSS grew ~2 MB per
    clip on the large corpus (18 GB, OOM-killed) while the kept log-mel is ~0.04 MB."""
    import os
    import subprocess
    import sys

    paths = []
    for i in range(300):
        path = tmp_path / f"c{i:03d}.wav"
        write_noise(path, seconds=2.0 + (i % 5) * 0.5, sr=44100, seed=i)
        paths.append(str(path))

    # glibc's mmap threshold starts at 128 KB and rises to the largest chunk freed, so
    # whether temporaries land in the heap depends on what the process did before; pinned
    # at 32 MB (and no automatic top trim) the heap case is certain, run to run
    env = os.environ | {
        "MALLOC_MMAP_THRESHOLD_": "33554432",
        "MALLOC_TRIM_THRESHOLD_": "4294967295",
    }

    def growth_mb(mode: str) -> float:
        run = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, mode, *paths],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return float(run.stdout.split()[-1])

    trimmed = growth_mb("trim")
    assert trimmed < 100  # kept: 300 x ~40 KB = 12 MB (measured 25 MB in all)
    assert growth_mb("no-trim") > 3 * trimmed  # the failure mode shows: 171-521 MB here


def test_embed_folder_with_a_student_skips_the_feature_cache(tmp_path):
    """A cache write costs about what the student's blocks do, so `embed folder` writes
    none for it (`Tower.caches_jobs`; the aisfx tower's jobs do fill it); the rows are the
    embedder's own."""
    from audiotext_cli.index.folder import embed_folder
    from audiotext_cli.index.store import EmbeddingStore
    from audiotext_cli.models.config import ModelConfig
    from audiotext_cli.models.inference import TrainedEmbedder
    from audiotext_cli.models.model import AudioTextModel
    from audiotext_cli.towers.cache import FeatureCache

    name = f"student:{_student(tmp_path)}"
    model = AudioTextModel(ModelConfig(audio_tower=name, sample_rate=16000, embed_dim=8))
    embedder = TrainedEmbedder(model, "m", "s", tower=load_tower(name))
    embedder.features = FeatureCache(embedder.tower, root=tmp_path / "features")
    paths = _tone_folder(tmp_path / "audio", 6)
    report = embed_folder(embedder, tmp_path / "audio", tmp_path / "lib.emb", workers=0)
    assert report.embedded == 6 and not embedder.caches_content
    assert not any((tmp_path / "features").rglob("*.safetensors"))
    _, emb, rows = EmbeddingStore.open(tmp_path / "lib.emb").load()
    by_name = {Path(p).name: p for p in paths}
    want = embedder.embed_waveforms(_decoded([by_name[Path(r["path"]).name] for r in rows]))
    np.testing.assert_array_equal(emb.mean, want.mean)
