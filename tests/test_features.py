"""Log-mel front end against an independent float64 numpy implementation written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from audiotext_cli.audio.features import (
    FrontendConfig,
    LogMel,
    mel_filterbank,
    num_frames,
    valid_frames,
)

CFG = FrontendConfig()


def _ref_mel_matrix(n_freqs: int, f_min: float, f_max: float, n_mels: int, sr: int) -> np.ndarray:
    """HTK triangles, float64, written from the textbook definition (not the torch code)."""
    mel_lo, mel_hi = (2595.0 * np.log10(1.0 + f / 700.0) for f in (f_min, f_max))
    edges_hz = 700.0 * (10.0 ** (np.linspace(mel_lo, mel_hi, n_mels + 2) / 2595.0) - 1.0)
    freqs = np.linspace(0.0, sr / 2, n_freqs)
    fb = np.zeros((n_freqs, n_mels))
    for m in range(n_mels):
        lo, centre, hi = edges_hz[m : m + 3]
        rising = (freqs - lo) / (centre - lo)
        falling = (hi - freqs) / (hi - centre)
        fb[:, m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return fb


def _ref_logmel(wave: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """(n,) -> (n_mels, T): reflect-padded centred STFT via numpy FFT, float64 throughout."""
    x = np.pad(wave.astype(np.float64), cfg.n_fft // 2, mode="reflect")
    n = np.arange(cfg.win_length)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / cfg.win_length)  # periodic Hann
    left = (cfg.n_fft - cfg.win_length) // 2  # a shorter window sits centred in the frame
    window = np.zeros(cfg.n_fft)
    window[left : left + cfg.win_length] = hann
    frames = 1 + wave.size // cfg.hop_length
    idx = np.arange(frames)[:, None] * cfg.hop_length + np.arange(cfg.n_fft)[None, :]
    power = np.abs(np.fft.rfft(x[idx] * window, axis=1)) ** 2  # (T, n_freqs)
    fb = _ref_mel_matrix(cfg.n_fft // 2 + 1, cfg.f_min, cfg.f_max, cfg.n_mels, cfg.sample_rate)
    return np.log(power @ fb + cfg.log_offset).T


def test_filterbank_matches_htk_definition():
    fb = mel_filterbank(513, 0.0, 8000.0, 64, 16000)
    assert fb.shape == (513, 64) and fb.dtype == torch.float32
    # float32 mel arithmetic (mel ~ 2840) costs up to ~5e-6 per weight, as in torchaudio
    np.testing.assert_allclose(fb.numpy(), _ref_mel_matrix(513, 0.0, 8000.0, 64, 16000), atol=1e-5)
    # each triangle peaks near 1 (unnormalised) and no weight is negative
    assert fb.min() >= 0 and fb.max(dim=0).values.min() > 0.5


@pytest.mark.parametrize(
    "cfg",
    [CFG, FrontendConfig(n_fft=512, win_length=400, hop_length=160, n_mels=40, f_min=50.0)],
)
def test_logmel_matches_numpy_reference(cfg: FrontendConfig):
    rng = np.random.default_rng(0)
    wave = (0.3 * rng.standard_normal(16000 + 123)).astype(np.float32)
    got = LogMel(cfg)(torch.from_numpy(wave)[None])[0].numpy()
    want = _ref_logmel(wave, cfg)
    assert got.shape == want.shape == (cfg.n_mels, num_frames(wave.size, cfg))
    # measured ~1e-5 (float32 vs float64); a symmetric instead of periodic Hann gives 8e-3
    np.testing.assert_allclose(got, want, atol=5e-5, rtol=0)


def test_sine_lands_in_expected_mel_bin():
    # 1 kHz: mel = 2595 log10(1 + 1000/700) = 1000.0; band centres are k * mel(8000)/65
    # = k * 43.69, so the nearest centre is k = 23, i.e. mel bin 22 (0-based).
    t = np.arange(64000) / 16000
    wave = torch.tensor(0.5 * np.sin(2 * np.pi * 1000.0 * t), dtype=torch.float32)
    mean_per_bin = LogMel()(wave[None])[0].mean(dim=1)
    assert int(mean_per_bin.argmax()) == 22
    assert round(2595 * math.log10(1 + 1000 / 700) / (2595 * math.log10(1 + 8000 / 700) / 65)) == 23


def test_silence_gives_log_offset_floor():
    out = LogMel()(torch.zeros(1, 16000))
    torch.testing.assert_close(out, torch.full_like(out, math.log(1e-6)))


def test_batch_equals_single():
    rng = np.random.default_rng(2)
    batch = torch.from_numpy(rng.uniform(-1, 1, (5, 64000)).astype(np.float32))
    logmel = LogMel()
    together = logmel(batch)
    alone = torch.cat([logmel(batch[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)


def test_shape_frames_and_rejections():
    logmel = LogMel()
    assert logmel(torch.zeros(2, 64000)).shape == (2, 64, 201)
    assert num_frames(64000) == 201 == 1 + 64000 // 320
    with pytest.raises(ValueError, match="batch, samples"):
        logmel(torch.zeros(64000))
    with pytest.raises(ValueError, match="too short"):
        logmel(torch.zeros(1, 512))
    with pytest.raises(ValueError, match="Nyquist"):
        LogMel(FrontendConfig(f_max=9000.0))


def test_buffers_follow_module_but_stay_out_of_state_dict():
    logmel = LogMel().to(torch.float64)
    assert logmel.fb.dtype == torch.float64 and logmel.window.dtype == torch.float64
    assert logmel.state_dict() == {}  # derived from the config, not weights


@pytest.mark.parametrize("valid", [1, 319, 320, 321, 800, 16000, 64000, 12345])
def test_valid_frames_counts_centres_inside(valid: int):
    hop = CFG.hop_length
    centres = np.arange(num_frames(64000)) * hop
    assert int(valid_frames(np.array([valid]))[0]) == int((centres < valid).sum())


def test_valid_frames_types_and_floor():
    as_np = valid_frames(np.array([0, 800, 64000]))
    as_t = valid_frames(torch.tensor([0, 800, 64000]))
    assert isinstance(as_np, np.ndarray) and isinstance(as_t, torch.Tensor)
    assert as_np.tolist() == as_t.tolist() == [1, 3, 200]  # 0.05 s blip -> centres 0, 320, 640


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    wave = torch.from_numpy(np.random.default_rng(3).uniform(-1, 1, (3, 64000)).astype(np.float32))
    cpu = LogMel()(wave)
    gpu = LogMel().to("cuda")(wave.to("cuda")).cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-3, rtol=0)
