"""The aisfx tower against its references: Essentia's own pipeline (test-only, AGPL) for the
front end, the wheel's own network code and classifier heads for the CNN, and the safety
rules for its weights."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import essentia.standard as es  # dev dependency: the reference
import numpy as np
import pytest
import torch

from audio_fixtures import noise, sine, write_audio
from audiotext_cli.audio.sfx_frontend import (
    BLOCK_FRAMES,
    SfxLogMel,
    block_starts,
    blocks_of,
    n_frames,
    sfx_filterbank,
)
from audiotext_cli.errors import CheckpointError
from audiotext_cli.models import sfx_weights
from audiotext_cli.models.sfx_cnn import SfxClassifiers, SfxCNN
from audiotext_cli.towers import pool_blocks
from audiotext_cli.towers.aisfx import AisfxTower
from audiotext_cli.towers.cache import FeatureCache


def _essentia_logmel(path: Path) -> np.ndarray:
    """The paper's front end, run by Essentia itself (streaming, as the aisfx authors did)."""
    import essentia.streaming as ess
    from essentia import Pool, run

    pool = Pool()
    loader = ess.EasyLoader(filename=str(path), sampleRate=44100)
    cutter = ess.FrameCutter(frameSize=2048, hopSize=1024)
    window = ess.Windowing(type="hann", normalized=False)
    spectrum = ess.Spectrum(size=2048)
    mels = ess.MelBands(
        inputSize=1025,
        numberBands=96,
        sampleRate=44100,
        lowFrequencyBound=0,
        highFrequencyBound=22050,
        warpingFormula="htkMel",
        weighting="warping",
        normalize="unit_sum",
        type="power",
        log=False,
    )
    shift = ess.UnaryOperator(type="identity", scale=1e4, shift=1)
    log10 = ess.UnaryOperator(type="log10")
    loader.audio >> cutter.signal
    cutter.frame >> window.frame >> spectrum.frame
    spectrum.spectrum >> mels.spectrum
    mels.bands >> shift.array >> log10.array >> (pool, "mel")
    run(loader)
    return pool["mel"] / 9.457798957824707


def _ours(path: Path) -> np.ndarray:
    from audiotext_cli.audio.io import load_audio

    wave = torch.from_numpy(load_audio(path, 44100))
    return SfxLogMel()(wave[None])[0].numpy()


@pytest.fixture(scope="module")
def sounds(tmp_path_factory) -> dict[str, Path]:
    """A 44.1 kHz effect-like clip, a stereo 48 kHz one, and real speech from espeak-ng."""
    root = tmp_path_factory.mktemp("sfx")
    sr = 44100
    burst = np.concatenate([noise(0.3, sr, 0.6, seed=1), np.zeros(2000, np.float32)])
    chirp = sine(300, 2.0, sr) * np.linspace(0, 1, 2 * sr, dtype=np.float32)
    out = {
        "effect": write_audio(root / "effect.wav", np.concatenate([burst, chirp, burst]), sr),
        "stereo48": write_audio(
            root / "stereo48.wav", np.stack([sine(880, 3.1, 48000), noise(3.1, 48000)], 1), 48000
        ),
    }
    espeak = shutil.which("espeak-ng")
    if espeak:  # installed by make setup; real speech, 22.05 kHz
        speech = root / "speech.wav"
        subprocess.run([espeak, "-w", str(speech), "a dog is barking at the door"], check=True)
        out["speech"] = speech
    return out


def test_filterbank_equals_essentia_melbands():
    mb = es.MelBands(
        inputSize=1025,
        numberBands=96,
        sampleRate=44100,
        lowFrequencyBound=0,
        highFrequencyBound=22050,
        warpingFormula="htkMel",
        weighting="warping",
        normalize="unit_sum",
        type="magnitude",
        log=False,
    )
    eye = np.eye(1025, dtype=np.float32)
    reference = np.stack([mb(row) for row in eye])  # column k = response to bin k
    np.testing.assert_allclose(sfx_filterbank().numpy(), reference, atol=2e-6)


def test_frame_count_follows_essentia_framecutter():
    for n in (1000, 2048, 10240, 10241, 44100):
        cutter = es.FrameCutter(frameSize=2048, hopSize=1024)
        signal = np.ones(n, np.float32)
        count = 0
        while len(cutter(signal)):
            count += 1
        assert n_frames(n) == count


def test_logmel_matches_essentia_at_native_rate(sounds):
    ref, ours = _essentia_logmel(sounds["effect"]), _ours(sounds["effect"])
    assert ref.shape == ours.shape
    np.testing.assert_allclose(ours, ref, atol=1e-5)


@pytest.mark.parametrize("name", ["stereo48", "speech"])
def test_logmel_close_to_essentia_when_resampled(sounds, name):
    """Other rates: Essentia resamples with its own resampler, we with soxr HQ. Below the
    top four bands (above ~20.5 kHz, the resamplers' anti-alias transition) the log-mels
    agree to 1e-3 of the [0, 1] range; over all bands to 5e-3."""
    if name not in sounds:
        pytest.fail("espeak-ng missing: make setup installs it")
    ref, ours = _essentia_logmel(sounds[name]), _ours(sounds[name])
    assert abs(len(ref) - len(ours)) <= 1
    n = min(len(ref), len(ours))
    diff = np.abs(ours[:n] - ref[:n])
    assert diff[:, :92].mean() < 1e-3
    assert diff.mean() < 5e-3


def _wheel_crossnet():
    """The wheel's own network code (aisfx/models/cnn2d.py), loaded without its package."""
    path = sfx_weights.wheel_checkpoint().parent / "cnn2d.py"
    spec = importlib.util.spec_from_file_location("aisfx_cnn2d_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state, ds = sfx_weights._read_wheel_checkpoint(sfx_weights.wheel_checkpoint())
    model = module.CrossNet(module.EmbeddingNet("max", 3, 1, 64), ds, "cpu")
    model.load_state_dict(state)
    return model.eval(), ds


def test_network_and_heads_reproduce_the_wheel():
    reference, datasets = _wheel_crossnet()
    net_state, head_state, ds = sfx_weights.load_aisfx()
    assert ds == datasets
    net = SfxCNN().eval()
    net.load_state_dict(net_state)
    heads = SfxClassifiers([n for _, n in sorted(ds.values())]).eval()
    heads.load_state_dict(head_state)
    x = torch.rand(3, BLOCK_FRAMES, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = net(x)
        torch.testing.assert_close(ours, reference.get_embedding(x), atol=1e-5, rtol=1e-5)
        for name, (idx, n_classes) in ds.items():
            _, logits = reference(x, name)
            assert logits.shape == (3, n_classes)
            torch.testing.assert_close(heads(ours, idx), logits, atol=1e-4, rtol=1e-4)
    assert sum(p.numel() for p in net.parameters()) == 4_686_144
    assert sum(t.numel() for t in net.state_dict().values()) == 4_689_992  # + BN statistics


def test_tampered_or_missing_weights_are_one_clear_error(tmp_path, monkeypatch):
    fake = tmp_path / "models" / "checkpoint.pth"
    fake.parent.mkdir()
    fake.write_bytes(sfx_weights.wheel_checkpoint().read_bytes()[:-64] + b"\0" * 64)
    with pytest.raises(CheckpointError, match="sha256"):
        sfx_weights._read_wheel_checkpoint(fake)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CheckpointError, match="make setup"):
        sfx_weights.wheel_checkpoint()


def test_block_rule_covers_every_frame_once_or_more():
    assert block_starts(40) == [0]
    assert block_starts(100) == [0]
    assert block_starts(150) == [0, 50]
    assert block_starts(151) == [0, 50, 51]
    for frames in range(1, 400, 7):
        covered = np.zeros(frames, bool)
        for s in block_starts(frames):
            covered[s : s + BLOCK_FRAMES] = True
        assert covered.all()
    assert blocks_of(torch.ones(40, 96)).shape == (1, BLOCK_FRAMES, 96)
    assert blocks_of(torch.ones(40, 96))[0, 40:].abs().sum() == 0  # padding is silence


@pytest.fixture(scope="module")
def tower() -> AisfxTower:
    return AisfxTower()


def test_tower_is_batch_invariant_and_bf16_is_faithful(tower):
    waves = [
        noise(s, 44100, seed=i) * sine(200 * (i + 1), s, 44100)
        for i, s in enumerate((0.4, 3.0, 7.3))
    ]
    together = tower.embed_blocks(waves)
    for wave, blocks in zip(waves, together, strict=True):
        alone = tower.embed_blocks([wave])[0]
        assert np.array_equal(alone, blocks)
    assert [len(b) for b in together] == [1, 2, 6]
    fp32 = AisfxTower("fp32").embed_blocks(waves)
    for a, b in zip(fp32, together, strict=True):
        cos = (
            (pool_blocks(a) @ pool_blocks(b))
            / np.linalg.norm(pool_blocks(a))
            / np.linalg.norm(pool_blocks(b))
        )
        assert cos > 0.999


def test_feature_cache_computes_each_file_once(tower, sounds, tmp_path):
    class Counting:
        tower_id, sample_rate, dim = tower.tower_id, tower.sample_rate, tower.dim
        calls = 0

        def embed_blocks(self, waves):
            Counting.calls += len(waves)
            return tower.embed_blocks(waves)

    cache = FeatureCache(Counting(), tmp_path)
    paths = [sounds["effect"], sounds["stereo48"]]
    first = cache.blocks_for(paths)
    copy = tmp_path / "renamed.wav"
    shutil.copy(sounds["effect"], copy)
    again = cache.blocks_for([*paths, copy])
    assert Counting.calls == 2  # the copy is a content hit
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=False))
    entry = next(tmp_path.rglob("*.safetensors"))
    entry.write_bytes(entry.read_bytes()[:100])  # a damaged entry is recomputed, not used
    cache.blocks_for(paths)
    assert Counting.calls == 3
