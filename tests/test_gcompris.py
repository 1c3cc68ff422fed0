"""Qt resource files read without Qt, and the GCompris source built from them.

The rcc files here are written by `write_rcc`, an independent writer that follows Qt's
rcc.cpp layout (nodes listed breadth-first, children contiguous), so reading them back
checks the reader against the format, not against itself.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio_fixtures import sine
from audiotext_cli.audio.io import load_audio
from audiotext_cli.data.captions import L1_CLASSES
from audiotext_cli.data.rcc import read_rcc
from audiotext_cli.data.sources import CORPUS_SR, RccAudio, gcompris
from audiotext_cli.errors import DataBuildError


def write_rcc(path: Path, files: dict[str, bytes], version: int = 2, zipped: tuple = ()) -> Path:
    """A Qt resource file holding `files` ("dir/sub/name" -> bytes); names in `zipped` are
    stored qCompress-ed (u32 big-endian length + zlib)."""
    tree: dict = {}
    for name, blob in files.items():
        *dirs, leaf = name.split("/")
        node = tree
        for d in dirs:
            node = node.setdefault(d, {})
        node[leaf] = blob
    names, data, nodes = bytearray(), bytearray(), []
    name_at: dict[str, int] = {}

    def name_offset(name: str) -> int:
        if name not in name_at:
            name_at[name] = len(names)
            encoded = name.encode("utf-16-be")
            names.extend(struct.pack(">HI", len(name), 0) + encoded)
        return name_at[name]

    nodes.append(None)
    order = [(0, "", tree, "")]  # (node index, name, content, full path), breadth first
    while order:
        index, name, content, full = order.pop(0)
        offset = name_offset(name) if index else 0
        if isinstance(content, dict):
            first = len(nodes)
            nodes.extend([None] * len(content))
            for i, (child, sub) in enumerate(sorted(content.items())):
                order.append((first + i, child, sub, f"{full}/{child}".lstrip("/")))
            node = struct.pack(">IHII", offset, 2, len(content), first)
        else:
            flags = 1 if full in zipped else 0
            blob = struct.pack(">I", len(content)) + zlib.compress(content) if flags else content
            node = struct.pack(">IHHHI", offset, flags, 0, 0, len(data))
            data.extend(struct.pack(">I", len(blob)) + blob)
        nodes[index] = node + (b"\0" * 8 if version >= 2 else b"")
    header = 20 + (4 if version >= 3 else 0)
    tree_bytes = b"".join(nodes)
    tree_at, data_at = header, header + len(tree_bytes)
    names_at = data_at + len(data)
    head = b"qres" + struct.pack(">IIII", version, tree_at, data_at, names_at)
    head += struct.pack(">I", 0) if version >= 3 else b""
    path.write_bytes(head + tree_bytes + bytes(data) + bytes(names))
    return path


@pytest.mark.parametrize("version", [1, 2, 3])
def test_rcc_round_trip_nested_and_compressed(tmp_path, version):
    files = {
        "a/b/c.txt": b"hello",
        "a/b/d.bin": bytes(range(256)) * 40,
        "a/e.qml": "title: \u00e9t\u00e9".encode(),
        "top.wav": b"RIFF....",
    }
    rcc = write_rcc(tmp_path / "x.rcc", files, version, zipped=("a/b/d.bin",))
    assert dict(read_rcc(rcc)) == files


def test_rcc_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.rcc"
    bad.write_bytes(b"RIFF" + b"\0" * 40)
    with pytest.raises(DataBuildError, match="not a Qt resource file"):
        list(read_rcc(bad))
    good = write_rcc(tmp_path / "good.rcc", {"a/b.txt": b"x" * 1000})
    cut = tmp_path / "cut.rcc"
    cut.write_bytes(good.read_bytes()[:40])
    with pytest.raises(DataBuildError, match="corrupt|past the end"):
        list(read_rcc(cut))


@pytest.mark.parametrize(
    ("stem", "key"),
    [
        ("LRBark_1_LA_cut", "Bark"),
        ("LRStartAndStopCarEngine1LACut", "StartAndStopCarEngine"),
        ("LRFrogsInPondDuringStormLACut", "FrogsInPondDuringStorm"),
        ("LRBuddhist_gong_05_LA", "Buddhist_gong"),
        ("guitar_son3", "guitar_son"),
        ("guitar_melody", "guitar_melody"),
    ],
)
def test_memory_sound_keys(stem, key):
    assert gcompris.memory_sound_key(stem) == key


def _ogg(seconds: float, freq: float, sr: int = 44100) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, sine(freq, seconds, sr), sr, format="OGG", subtype="VORBIS")
    return buf.getvalue()


@pytest.fixture()
def package(tmp_path) -> Path:
    """An unpacked gcompris-qt-data tree with two activities, as the real one lays them out."""
    base = tmp_path / "pkg" / gcompris.RCC
    base.mkdir(parents=True)
    act = gcompris.ACTIVITIES
    board = (
        '{\n "image": "qrc:/x/dog.svg",\n'
        ' "title": qsTr("Dog"),\n'
        ' "text": qsTr("The dog goes \'woof\'. Dogs descend from the wolf."),\n'
        ' "audio": GCompris.ApplicationInfo.getAudioFilePath("qrc:/'
        f'{act}/explore_farm_animals/resource/animals/dog.$CA"),\n'
        "}\n"
    )
    write_rcc(
        base / "explore_farm_animals.rcc",
        {
            f"{act}/explore_farm_animals/resource/board/board1.qml": board.encode(),
            f"{act}/explore_farm_animals/resource/animals/dog.ogg": _ogg(1.0, 500),
        },
        zipped=(f"{act}/explore_farm_animals/resource/board/board1.qml",),
    )
    write_rcc(
        base / "memory-sound.rcc",
        {
            f"{act}/memory-sound/resource/LRBark_1_LA_cut.ogg": _ogg(0.5, 700),
            f"{act}/memory-sound/resource/LRWeird_1_LA.ogg": _ogg(0.5, 900),
            f"{act}/memory-sound/resource/Licence.txt": b"Free Art License",
        },
    )
    return tmp_path / "pkg"


def test_gcompris_clips_from_rcc(package, tmp_path):
    specs = {s.id: s for s in gcompris.clips([package], "default", "train", 0)}
    # the weird sound and the licence text are not clips; missing activities are no error
    assert set(specs) == {"gcompris/farm_animals/dog", "gcompris/memory_sound/LRBark_1_LA_cut"}
    dog = specs["gcompris/farm_animals/dog"]
    assert dog.labels == ("animal", "mammal", "dog") and dog.labels[0] in L1_CLASSES
    level4 = [t for lv, t in dog.captions if lv == 4]
    assert level4[:2] == ["A dog barking.", "The dog goes 'woof'."]
    bark = specs["gcompris/memory_sound/LRBark_1_LA_cut"]
    assert bark.labels == ("animal", "mammal", "dog")
    assert "A dog barking." in [t for lv, t in bark.captions if lv == 4]

    # the recipe decodes exactly what the same file decodes to on disk
    wave = dog.audio.make()
    assert wave.ndim == 1 and abs(len(wave) - CORPUS_SR) < 0.01 * CORPUS_SR
    ref = dict(read_rcc(package / gcompris.RCC / "explore_farm_animals.rcc"))
    raw = tmp_path / "raw.ogg"
    raw.write_bytes(ref[f"{gcompris.ACTIVITIES}/explore_farm_animals/resource/animals/dog.ogg"])
    np.testing.assert_array_equal(wave, load_audio(raw, CORPUS_SR))


def test_a_package_without_described_sounds_is_a_build_error(tmp_path):
    (tmp_path / gcompris.RCC).mkdir(parents=True)
    with pytest.raises(DataBuildError, match="no described sounds"):
        gcompris.clips([tmp_path], "default", "train", 0)


def test_missing_entry_is_a_build_error(package):
    rcc = package / gcompris.RCC / "memory-sound.rcc"
    with pytest.raises(DataBuildError, match="no entry"):
        RccAudio(str(rcc), "nope.ogg").make()
