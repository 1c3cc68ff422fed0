"""The qABCs, Scratch and game-effects sources, built from trees laid out like the packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio_fixtures import write_sine
from audiotext_cli.data.sources import CORPUS_SR, gamesfx, qabcs, scratch
from audiotext_cli.errors import DataBuildError

_EN = """language:English (US)
#d
misc:d=dolphin==dolphin=dolphin
animals:d=dog==dog=dog
instrument:d=drums==drums=drums
toys:d=doll==doll=doll
#o
food:o=orange==orange
instrument:o=oboe==oboe=ode
#t
misc:t=train==train=train
toys:t=topshur==topshur=topshuur
#u
animals:u=urchin==urchin=urchin
#c
toys:c=cheburashka==cheburashka=cheburashka
"""
_RU = """#p
animals:p=pes==dog=dog
instrument:t=topshur==topshur=topshuur
animals:d=delfin==dolphin=dolphin
toys:p=poezd==train=train
animals:f=filin==eagle_owl=eagle-owl
"""


@pytest.fixture
def qabcs_root(tmp_path) -> Path:
    abcs = tmp_path / qabcs.ABCS
    for lang, text in (("en", _EN), ("ru", _RU)):
        (abcs / lang).mkdir(parents=True)
        (abcs / lang / "abc1.properties").write_text(text, encoding="utf-8")
    names = ("dog", "dolphin", "drums", "doll", "ode", "train", "topshuur", "urchin")
    for i, name in enumerate((*names, "cheburashka", "eagle-owl")):
        write_sine(abcs / "all" / "noises" / f"{name}.ogg", 300 + 40 * i, 0.5, 22050)
    return tmp_path


def test_qabcs_category_is_the_majority_of_the_alphabets(qabcs_root):
    votes = qabcs.noise_categories(qabcs_root / qabcs.ABCS)
    # dolphin: misc in one alphabet, animals in the other -> first met wins the tie;
    # topshuur: toys once, instrument once; train: misc once, toys once
    assert votes["dog"] == "animals" and votes["drums"] == "instrument"
    assert votes["ode"] == "instrument" and votes["eagle-owl"] == "animals"
    assert votes["dolphin"] == "misc" and votes["topshuur"] == "toys"  # en before ru
    assert "orange" not in votes  # a picture with no noise


def test_qabcs_labels_and_what_is_left_out(qabcs_root):
    clips = {c.id: c for c in qabcs.clips([qabcs_root], "default", "train", 0)}
    assert clips["qabcs/noises/dog"].labels == ("animal", "mammal", "dog")
    assert clips["qabcs/noises/eagle-owl"].labels == ("animal", "bird", "eagle owl")
    assert clips["qabcs/noises/drums"].labels == ("music", "percussion instrument", "drums")
    # no family known for "ode", "urchin" is ambiguous, characters and dolls say nothing
    for gone in ("ode", "urchin", "cheburashka", "doll"):
        assert f"qabcs/noises/{gone}" not in clips
    specific = [t for level, t in clips["qabcs/noises/dog"].captions if level == 4]
    assert specific == [
        "The sound of a dog.",
        "A short sound of a dog (mammal).",
        "A dog, recorded.",
    ]
    assert "Drums playing." in [t for _, t in clips["qabcs/noises/drums"].captions]
    wave = clips["qabcs/noises/dog"].audio.make()
    assert wave.dtype.name == "float32" and len(wave) == CORPUS_SR // 2


def test_qabcs_without_alphabets_is_a_build_error(tmp_path):
    (tmp_path / qabcs.ABCS / "all" / "noises").mkdir(parents=True)
    with pytest.raises(DataBuildError, match="no noises"):
        qabcs.clips([tmp_path], "default", "train", 0)


@pytest.mark.parametrize(
    "stem,expected",
    [
        ("HorseGallop", "horse gallop"),
        ("Cough-female", "cough female"),
        ("Laser1", "laser"),
        ("xylo4", "xylo"),
        ("Come-and-play", "come and play"),
    ],
)
def test_scratch_name_words(stem, expected):
    assert scratch.name_words(stem) == expected


def test_scratch_folders_give_the_labels(tmp_path):
    sounds = tmp_path / scratch.SOUNDS
    for i, rel in enumerate(
        (
            "Animal/Dog1.wav",
            "Animal/Dog2.wav",
            "Animal/Unicorn.wav",  # not in the animal table: left out
            "Effects/DoorCreak.wav",
            "Music Loops/DrumSet1.wav",
            "Percussion/CymbalCrash.wav",
            "Sprites/Cat.wav",  # not a sound folder we know
        )
    ):
        write_sine(sounds / rel, 200 + 50 * i, 0.3, 11025)
    (sounds / "Animal" / "README.txt").write_text("not a sound")
    clips = {c.id: c for c in scratch.clips([tmp_path], "default", "eval", 0)}
    assert sorted(clips) == [
        "scratch/animal/Dog1",
        "scratch/animal/Dog2",
        "scratch/effects/DoorCreak",
        "scratch/music_loops/DrumSet1",
        "scratch/percussion/CymbalCrash",
    ]
    assert clips["scratch/animal/Dog2"].labels == ("animal", "mammal", "dog")
    assert clips["scratch/effects/DoorCreak"].labels == ("door", "door", "door creak")
    assert clips["scratch/music_loops/DrumSet1"].labels == ("music", "music loop", "drum set")
    dog = [t for level, t in clips["scratch/animal/Dog1"].captions if level == 4]
    assert dog == ["Dog, from the animal sounds.", "The sound of a dog.", "A dog sound."]


def test_scratch_without_sounds_is_a_build_error(tmp_path):
    (tmp_path / scratch.SOUNDS).mkdir(parents=True)
    with pytest.raises(DataBuildError, match="no sounds"):
        scratch.clips([tmp_path], "default", "eval", 0)


@pytest.fixture
def gamesfx_roots(tmp_path) -> list[Path]:
    """One tree per package holding every file the table names (tiny tones)."""
    roots = []
    for package, (folder, files) in zip(gamesfx.PACKAGES, gamesfx.TABLE, strict=True):
        root = tmp_path / package.key
        for i, name in enumerate(files):
            path = write_sine(root / folder / Path(name).with_suffix(".wav"), 200 + 7 * i, 0.2)
            path.rename(path.with_name(name))  # .au/.ogg names hold WAV bytes: libsndfile sniffs
        roots.append(root)
    return roots


def test_gamesfx_clips_follow_the_table(gamesfx_roots):
    clips = {c.id: c for c in gamesfx.clips(gamesfx_roots, "default", "train", 0)}
    assert len(clips) == sum(len(files) for _, files in gamesfx.TABLE)
    dogs = sorted(i for i, c in clips.items() if c.labels == ("animal", "mammal", "dog"))
    assert dogs == [
        "gamesfx/etw/dog",
        "gamesfx/mate/bark",
        "gamesfx/scorched3d/dog",
        "gamesfx/scorched3d/dog2",
        "gamesfx/scorched3d/dog3",
        "gamesfx/trophy/dog",
        "gamesfx/xemacs21/bark",
    ]
    horn = clips["gamesfx/scorched3d/carhorn4"]
    assert horn.labels == ("alarm", "horn", "car horn")
    assert [t for level, t in horn.captions if level == 4] == [
        "A car horn honking.",
        "The sound of a car horn honking.",
        "A car horn honking, recorded.",
    ]
    assert (
        len(clips["gamesfx/xemacs21/laugh"].audio.make()) == CORPUS_SR // 5
    )  # the .au entry (0.2 s) decodes


def test_gamesfx_missing_file_is_a_build_error(gamesfx_roots):
    (gamesfx_roots[4] / gamesfx.TABLE[4][0] / "Hawk.ogg").unlink()
    with pytest.raises(DataBuildError, match="lugaru-data has no .*Hawk.ogg"):
        gamesfx.clips(gamesfx_roots, "default", "train", 0)
