"""A small sound library the tests write: WAVs with bext/INFO/iXML chunks, tagged
MP3/OGG/FLAC, UCS-named files, planted duplicates and two distinct dog-bark-like clips."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from fake_embedder import FakeEmbedder


def bark(sr: int, f0: float, seed: int, seconds: float = 0.8) -> np.ndarray:
    """A bark-like clip: three decaying harmonic bursts with noise, pitch f0."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    out = np.zeros_like(t)
    for start in (0.05, 0.3, 0.55):
        local = np.clip(t - start, 0, None)
        env = np.where(t >= start, np.exp(-local * 18), 0.0)
        tone = sum(np.sin(2 * np.pi * f0 * h * local * (1 - 0.3 * local)) / h for h in (1, 2, 3))
        out += env * (tone + 0.3 * rng.standard_normal(len(t)))
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def _chunk(cid: bytes, data: bytes) -> bytes:
    return struct.pack("<4sI", cid, len(data)) + data + (b"\0" if len(data) % 2 else b"")


def bext(description: str, originator: str, date: str) -> bytes:
    fields = description.encode().ljust(256, b"\0") + originator.encode().ljust(32, b"\0")
    fields += b"\0" * 32 + date.encode().ljust(10, b"\0") + b"12:00:00"
    return _chunk(b"bext", fields + b"\0" * (602 - len(fields)))


def info(**tags: str) -> bytes:
    body = b"".join(_chunk(k.encode(), v.encode() + b"\0") for k, v in tags.items())
    return _chunk(b"LIST", b"INFO" + body)


def ixml(xml: str) -> bytes:
    return _chunk(b"iXML", xml.encode())


def write_wav_with_chunks(path: Path, wave: np.ndarray, sr: int, *chunks: bytes) -> Path:
    """A PCM_16 WAV with extra chunks inserted before `data` (RIFF size fixed up)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave, sr, subtype="PCM_16")
    raw = path.read_bytes()
    at = raw.index(b"data")
    body = raw[12:at] + b"".join(chunks) + raw[at:]
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    return path


def write_tagged(path: Path, wave: np.ndarray, sr: int, **tags: str) -> Path:
    """MP3 (ID3) / OGG / FLAC (Vorbis comments) with mutagen tags."""
    import mutagen
    from mutagen.id3 import COMM, ID3, TCON, TIT2

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave, sr)
    if path.suffix == ".mp3":
        id3 = ID3()
        id3.add(TIT2(encoding=3, text=tags.get("title", "")))
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.get("comment", "")))
        id3.add(TCON(encoding=3, text=tags.get("genre", "")))
        id3.save(path)
    else:
        audio = mutagen.File(path)
        for key, value in tags.items():
            audio[key] = value
        audio.save()
    return path


def write_library(root: Path) -> dict[str, Path]:
    """The test library; returns name -> path of the files the tests look at."""
    sr = 48000
    dog = bark(sr, 420, seed=1)
    other_dog = bark(sr, 260, seed=2, seconds=1.0)
    lib = root / "library"
    files = {
        "bwf": write_wav_with_chunks(
            lib / "field" / "dog_yard.wav",
            dog,
            sr,
            bext("Dog barking in a yard", "Jane Recordist", "2021-05-01"),
            info(INAM="Yard dog", ICMT="windy, far", IGNR="Animals"),
            ixml(
                "<BWFXML><NOTE>two barks</NOTE><SCENE>12A</SCENE><TAKE>3</TAKE>"
                "<USER><CATEGORY>ANIMALS</CATEGORY></USER></BWFXML>"
            ),
        ),
        "broken": write_wav_with_chunks(
            lib / "field" / "broken_ixml.wav",
            bark(sr, 700, seed=5),
            sr,
            ixml("<BWFXML><NOTE>never closed"),
            bext("Short one", "X", "2020-01-01"),
        ),
        "mp3": write_tagged(
            lib / "tagged" / "rain.mp3", bark(sr, 900, seed=3), sr, title="Rain", genre="Weather"
        ),
        "ogg": write_tagged(
            lib / "tagged" / "door.ogg", bark(sr, 150, seed=4), 44100, title="Door slam"
        ),
        "flac_tag": write_tagged(
            lib / "tagged" / "wind.flac", bark(sr, 1200, seed=6), sr, comment="wind, gusts"
        ),
        "ucs": _write(lib / "ucs" / "DOORWood_Slam Heavy_JD_MyLib.wav", bark(sr, 180, 7), sr),
        "other_dog": _write(lib / "dogs" / "ANMLDog_Growl Bark_AB_Kennel.wav", other_dog, sr),
    }
    files |= plant_duplicates(lib / "dups", dog, sr)
    exact = lib / "dups" / "copy" / "dog_yard.wav"
    exact.parent.mkdir(parents=True, exist_ok=True)
    files["dup_exact"] = Path(shutil.copy(files["bwf"], exact))
    return files


def _write(path: Path, wave: np.ndarray, sr: int, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave, sr, **kw)
    return path


def plant_duplicates(folder: Path, wave: np.ndarray, sr: int) -> dict[str, Path]:
    """The same clip re-encoded, resampled, gain-changed and padded (one group with `bwf`)."""
    pad = np.concatenate([wave, np.zeros(int(0.1 * sr), np.float32)])
    return {
        "dup_flac": _write(folder / "dog.flac", wave, sr),
        "dup_mp3": _write(folder / "dog.mp3", wave, sr),
        "dup_44k": _write(folder / "dog_44k.wav", soxr.resample(wave, sr, 44100), 44100),
        "dup_quiet": _write(folder / "dog_quiet.wav", wave * 0.5, sr),
        "dup_pad": _write(folder / "dog_pad.wav", pad, sr),
    }


# ids of the planted group (the bwf original, its byte copy and its five variants)
PLANTED = {"field/dog_yard.wav", "dups/copy/dog_yard.wav", "dups/dog.flac", "dups/dog.mp3",
           "dups/dog_44k.wav", "dups/dog_quiet.wav", "dups/dog_pad.wav"}  # fmt: skip


BANDS = np.geomspace(60, 7900, 33)


class SpectralEmbedder(FakeEmbedder):
    """Gain-, padding- and codec-tolerant stand-in: the square root of each band's share of
    the power spectrum (unit norm; cosine = Bhattacharyya coefficient of the spectra)."""

    dim = 32

    def embed_waveforms(self, waves):
        feats = []
        for wave in waves:
            power = np.abs(np.fft.rfft(np.asarray(wave, np.float64))) ** 2
            freqs = np.fft.rfftfreq(len(wave), 1 / self.sample_rate)
            bands = np.array(
                [
                    power[(freqs >= lo) & (freqs < hi)].sum()
                    for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True)
                ]
            )
            feats.append(np.sqrt(bands / bands.sum()))
        return self._finish(np.stack(feats))
