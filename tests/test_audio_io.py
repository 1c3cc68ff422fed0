"""Decoding, resampling, block reads, windowing and every way a file can be unusable."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
import soxr

from audio_fixtures import (
    noise,
    sine,
    wav_bytes,
    write_absurd_header,
    write_audio,
    write_nan_wav,
    write_noise,
    write_silent,
    write_sine,
    write_text_as_audio,
    write_truncated,
    write_zero_byte,
)
from audiotext_cli.audio.io import (
    RESAMPLE_QUALITY,
    TARGET_SR,
    WINDOW_SECONDS,
    AudioInfo,
    _resample_clip,
    frame_windows,
    iter_blocks,
    iter_file_windows,
    load_audio,
    load_audio_info,
    probe,
    resample,
    verify,
)
from audiotext_cli.errors import AudioError

W = round(TARGET_SR * WINDOW_SECONDS)


def _peak_hz(wave: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(wave.size)))
    return float(np.fft.rfftfreq(wave.size, 1 / sr)[spectrum.argmax()])


# --- windowing rule ---------------------------------------------------------------------


def test_blip_gives_one_padded_window():
    blip = np.ones(800, dtype=np.float32)  # 0.05 s
    windows, valid = frame_windows(blip)
    assert windows.shape == (1, W) and windows.dtype == np.float32
    assert valid.tolist() == [800] and valid.dtype == np.int64
    assert windows[0, :800].sum() == 800 and not windows[0, 800:].any()


@pytest.mark.parametrize("k", [1, 2, 3])
def test_exact_multiples_need_no_padding(k: int):
    wave = np.arange(k * W, dtype=np.float32)
    windows, valid = frame_windows(wave)
    assert windows.shape == (k, W) and valid.tolist() == [W] * k
    np.testing.assert_array_equal(windows.reshape(-1), wave)


def test_nine_seconds_gives_three_windows():
    wave = np.random.default_rng(0).uniform(-1, 1, 9 * TARGET_SR).astype(np.float32)
    windows, valid = frame_windows(wave)
    assert valid.tolist() == [64000, 64000, 16000]
    np.testing.assert_array_equal(windows[2, :16000], wave[128000:])
    assert not windows[2, 16000:].any()


def test_window_rule_rejects_empty_and_multichannel():
    with pytest.raises(AudioError, match="empty"):
        frame_windows(np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match="mono"):
        frame_windows(np.zeros((100, 2), dtype=np.float32))


# --- decoding and resampling --------------------------------------------------------------


@pytest.fixture(scope="module")
def long_stereo(tmp_path_factory) -> str:
    """21.3 s of 44.1 kHz stereo noise: 6 windows, the last one partial."""
    path = tmp_path_factory.mktemp("long") / "long.flac"
    return str(write_noise(path, seconds=21.3, sr=44100, channels=2, seed=5))


def test_block_reads_equal_whole_reads(long_stereo: str):
    whole = load_audio(long_stereo)
    assert whole.dtype == np.float32 and whole.shape == (round(21.3 * 44100 * 16000 / 44100),)
    small = list(iter_blocks(long_stereo, block_seconds=0.37))
    assert len(small) > 50
    np.testing.assert_array_equal(np.concatenate(small), whole)
    # and the in-memory resampler gives the same samples from the same mono input
    native = sf.read(long_stereo, dtype="float32")[0].mean(axis=1, dtype=np.float32)
    np.testing.assert_array_equal(resample(native, 44100, TARGET_SR), whole)


@pytest.mark.parametrize("per_chunk,block_seconds", [(1, 0.37), (2, 1.3), (4, 30.0), (64, 0.5)])
def test_streamed_windows_equal_windowed_load(
    long_stereo: str, per_chunk: int, block_seconds: float
):
    want_w, want_v = frame_windows(load_audio(long_stereo))
    chunks = list(
        iter_file_windows(long_stereo, max_windows_per_chunk=per_chunk, block_seconds=block_seconds)
    )
    assert all(c[0].shape[0] <= per_chunk for c in chunks)
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks]), want_w)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), want_v)
    assert want_v.tolist() == [W] * 5 + [round(21.3 * TARGET_SR) - 5 * W]


@pytest.mark.parametrize("seconds", [0.0005, 0.013, 0.6, 1.5, 2.4])
@pytest.mark.parametrize("sr", [44100, 48000, 22050, 8000])
def test_a_one_block_file_resamples_as_a_stream_would(tmp_path, seconds: float, sr: int):
    path = write_noise(tmp_path / "clip.wav", seconds=seconds, sr=sr, channels=1, seed=7)
    streamed = list(iter_blocks(path, block_seconds=0.0001))  # blocks of a few frames: a stream
    np.testing.assert_array_equal(load_audio(path), np.concatenate(streamed))
    # the clip resampler is reused: a clip after others at the same rates, or after a
    # failed call, is what a fresh one-shot resampler gives
    native = sf.read(path, dtype="float32")[0]
    want = soxr.resample(native, sr, TARGET_SR, quality=RESAMPLE_QUALITY)
    for other in (0.3, 2.0):
        load_audio(write_noise(tmp_path / f"o{other}.wav", seconds=other, sr=sr, seed=8))
    with pytest.raises(ValueError):
        _resample_clip(np.zeros((3, 3), np.float32), sr, TARGET_SR)
    np.testing.assert_array_equal(load_audio(path), want)
    np.testing.assert_array_equal(_resample_clip(native, sr, TARGET_SR), want)


def test_load_audio_info_probes_once_and_gives_load_audios_samples(long_stereo: str, monkeypatch):
    import audiotext_cli.audio.io as audio_io

    calls = []
    probe_open = audio_io._probe_open
    monkeypatch.setattr(audio_io, "_probe_open", lambda p: calls.append(p) or probe_open(p))
    wave, info = load_audio_info(long_stereo)
    assert len(calls) == 1 and info == probe(long_stereo)
    np.testing.assert_array_equal(wave, load_audio(long_stereo))


def test_deterministic(long_stereo: str):
    np.testing.assert_array_equal(load_audio(long_stereo), load_audio(long_stereo))


@pytest.mark.parametrize("sr", [44100, 22050, 8000, 16000])
@pytest.mark.parametrize("channels", [1, 2])
def test_rates_and_channels_keep_length_and_pitch(tmp_path, sr: int, channels: int):
    path = write_sine(tmp_path / "tone.wav", 1000.0, 1.7, sr, channels=channels)
    wave = load_audio(path)
    assert wave.ndim == 1 and wave.size == round(round(1.7 * sr) * TARGET_SR / sr)
    assert abs(_peak_hz(wave, TARGET_SR) - 1000.0) < 1.0  # FFT bin is 0.59 Hz
    assert 0.2 < np.abs(wave).max() < 0.55  # stays a 0.5-amplitude tone, no clipping or gain


def test_downmix_is_channel_mean(tmp_path):
    stereo = np.stack([sine(300, 0.5, 16000), sine(700, 0.5, 16000, amp=0.2)], axis=1)
    path = write_audio(tmp_path / "s.wav", stereo, 16000, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(path), stereo.mean(axis=1, dtype=np.float32))


def test_resampling_removes_content_above_new_nyquist(tmp_path):
    # 12 kHz is above 16 kHz's Nyquist (8 kHz): an anti-aliased resampler must drop it,
    # a naive decimator would fold it to 4 kHz. The abrupt start and end ring; skip 0.1 s.
    path = write_sine(tmp_path / "hi.wav", 12000.0, 1.0, 44100)
    assert np.abs(load_audio(path)[1600:-1600]).max() < 1e-3


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_every_format_decodes(tmp_path, ext: str):
    path = write_sine(tmp_path / f"tone.{ext}", 1000.0, 2.0, 22050)
    meta = probe(path)
    assert (meta.sample_rate, meta.channels, meta.frames) == (22050, 1, 44100)
    wave = load_audio(path)
    assert wave.size == 32000 and abs(_peak_hz(wave, TARGET_SR) - 1000.0) < 1.0


def test_probe_reports_header(tmp_path):
    path = write_sine(tmp_path / "a.flac", seconds=1.5, sr=22050, channels=2)
    assert probe(path) == AudioInfo(
        path=str(path),
        duration=1.5,
        sample_rate=22050,
        channels=2,
        frames=33075,
        format="FLAC",
        subtype="PCM_16",
        size_bytes=os.path.getsize(path),
    )


def test_resample_identity_and_rejects_bad_rates():
    wave = sine(440, 0.1, 16000)
    np.testing.assert_array_equal(resample(wave, 16000, 16000), wave)
    with pytest.raises(ValueError, match="positive integer"):
        resample(wave, 0, 16000)


# --- unusable files -----------------------------------------------------------------------


def _reason(path, reader=load_audio) -> str:
    with pytest.raises(AudioError) as info:
        reader(path)
    assert info.value.path == str(path) and "\n" not in str(info.value)
    return info.value.reason


def test_missing_directory_and_empty(tmp_path):
    assert _reason(tmp_path / "nope.wav", probe) == "no such file"
    assert "directory" in _reason(tmp_path, probe)
    assert _reason(write_zero_byte(tmp_path / "z.wav"), probe) == "empty file (0 bytes)"


def test_not_audio(tmp_path):
    assert "not audio" in _reason(write_text_as_audio(tmp_path / "t.wav"), probe)


@pytest.mark.parametrize(
    "ext,keep", [("wav", 0.5), ("wav", 0.99), ("flac", 0.5), ("flac", 0.9), ("mp3", 0.6)]
)
def test_truncated(tmp_path, ext: str, keep: float):
    assert "truncated" in _reason(write_truncated(tmp_path / f"cut.{ext}", keep=keep))


def test_truncated_wav_caught_by_header_alone(tmp_path):
    # libsndfile would happily read the 23989 frames left; the RIFF data size says 48000
    reason = _reason(write_truncated(tmp_path / "cut.wav", keep=0.5), probe)
    assert reason == "truncated: header declares 48000 frames, file holds 23989"


def test_nan_and_inf(tmp_path):
    path = write_nan_wav(tmp_path / "nan.wav")
    assert probe(path).subtype == "FLOAT"  # the header is fine; decoding finds it
    assert _reason(path) == "NaN or infinite sample at frame 100"


def test_silent_rejected_unless_allowed(tmp_path):
    path = write_silent(tmp_path / "s.flac", seconds=1.0, sr=8000)
    assert "silent" in _reason(path)
    assert "silent" in _reason(path, lambda p: list(iter_file_windows(p)))
    wave = load_audio(path, allow_silent=True)
    assert wave.shape == (16000,) and not wave.any()


@pytest.mark.parametrize(
    "channels,rate,n_bytes,phrase",
    [
        (100, 16000, 4000, "100 channels"),
        (1, 100, 4000, "sample rate 100 Hz"),
        (1, 2_000_000, 4000, "sample rate 2000000 Hz"),
        (1, 16000, 0, "no audio frames"),
    ],
)
def test_absurd_headers(tmp_path, channels: int, rate: int, n_bytes: int, phrase: str):
    path = write_absurd_header(tmp_path / "x.wav", channels, rate, n_bytes)
    assert phrase in _reason(path, probe)


def test_zero_channels_is_unreadable(tmp_path):
    path = tmp_path / "c0.wav"
    path.write_bytes(wav_bytes(0, 16000, b"\x00\x01" * 100))
    assert "Channel count is zero" in _reason(path, probe)


def test_verify_decodes_without_resampling(tmp_path):
    path = write_sine(tmp_path / "ok.ogg", seconds=1.0, sr=44100)
    assert verify(path) == probe(path)


def test_too_short_to_survive_resampling(tmp_path):
    # 1 frame at 48 kHz is 1/3 of a sample at 16 kHz: soxr returns nothing
    path = write_audio(tmp_path / "one.wav", np.array([0.5], dtype=np.float32), 48000)
    assert verify(path).frames == 1
    assert _reason(path).startswith("too short")
    assert _reason(path, lambda p: list(iter_file_windows(p))).startswith("too short")


def _bare_cbr_mp3(path, seconds: float = 1.0, sr: int = 16000) -> bytes:
    """A constant-bit-rate MPEG-2 layer III stream with its leading Info frame removed, as
    old encoders wrote them: the decoder can only estimate the length from the file size."""
    sf.write(
        str(path),
        noise(seconds, sr),
        sr,
        subtype="MPEG_LAYER_III",
        bitrate_mode="CONSTANT",
        compression_level=0.5,
    )
    data = path.read_bytes()
    assert data[:2] == b"\xff\xf3" and b"Info" in data[:64]  # MPEG-2 layer III, Info frame
    kbps = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)[data[2] >> 4]
    first = 72 * kbps * 1000 // sr + (data[2] >> 1 & 1)
    return data[first:]


def test_mp3_behind_an_id3_tag_is_whole_and_a_chopped_one_is_not(tmp_path):
    # with no Xing/Info frame libsndfile prices a leading tag as audio, so 8 KB of tag makes
    # a 1 s stream announce almost twice the frames it holds (Scratch's sounds are like this)
    tag = b"ID3\x03\x00\x00" + bytes((0, 0, 0x40, 0x00)) + bytes(8192)  # 8,192 bytes of padding
    bare = _bare_cbr_mp3(tmp_path / "encoded.mp3")
    plain, tagged = tmp_path / "plain.mp3", tmp_path / "tagged.mp3"
    plain.write_bytes(bare)
    tagged.write_bytes(tag + bare)
    assert probe(tagged).frames > 1.5 * probe(plain).frames  # the inflated estimate
    np.testing.assert_array_equal(load_audio(tagged), load_audio(plain))
    # a stream whose Xing frame states its length keeps the strict check behind a tag
    exact = write_noise(tmp_path / "exact.mp3").read_bytes()
    whole, chopped = tmp_path / "whole.mp3", tmp_path / "chopped.mp3"
    whole.write_bytes(tag + exact)
    chopped.write_bytes(tag + exact[: len(exact) * 6 // 10])
    assert len(load_audio(whole)) == probe(whole).frames == 16000
    assert "truncated" in _reason(chopped)
