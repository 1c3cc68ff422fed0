"""Scratch 1.4's sound library: 114 short sounds filed by kind (Media/Sounds/<Folder>/Name).

  Animal            -> ["animal", group, animal] from the table below ("Dog1" -> dog)
  Effects, Human    -> [ontology category, class, name as words] from the table below or
                       the name's words (`ontology.place`: "DoorCreak" -> door / door)
  Electronic        -> ["electronic sound", "sci-fi sound" ("beep" for ComputerBeeps), name]
  Instruments       -> ["music", "<family> instrument" from the table below, name as words]
  Percussion        -> ["music", "percussion instrument", name as words]
  Music Loops       -> ["music", "music loop", name as words]
  Vocals            -> ["music", "vocals", name as words]
Names the tables and the words cannot place ("Chord", "Suspense", "Plunge"?) are left out.
Level 4 says the name and the folder ("Horse gallop, from the animal sounds."). A library
kept apart from every training source, so an evaluation source: the third recorded one,
beside LMMS and OVOS.
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.captions import article, sentence, words
from audiotext_cli.data.ontology import place
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec
from audiotext_cli.errors import DataBuildError

NAME = "scratch"
LICENSE = "CC-BY-SA-3.0 (MIT Scratch media)"
SOUNDS = "usr/share/scratch/Media/Sounds"
_FOLDERS = {
    "Electronic": ("electronic sound", "sci-fi sound"),
    "Percussion": ("music", "percussion instrument"),
    "Music Loops": ("music", "music loop"),
    "Vocals": ("music", "vocals"),
}
_PLACED = {  # name as words -> (category, class) where the words alone do not say it
    "computer beeps": ("electronic sound", "beep"),
    "plunge": ("water", "splash"),
    "ripples": ("water", "splash"),
    "pop": ("impact", "bounce"),
    "typing": ("machine", "household appliance"),
    "finger snap": ("human sound", "body"),
    "party noise": ("human sound", "crowd"),
    "afro string": ("music", "string instrument"),
    "dijjeridoo": ("music", "wind instrument"),
    "guitar strum": ("music", "string instrument"),
    "spooky string": ("music", "string instrument"),
    "string accent": ("music", "string instrument"),
    "string pluck": ("music", "string instrument"),
    "tambura": ("music", "string instrument"),
    "trumpet": ("music", "brass instrument"),
}
_BY_NAME = {"Effects", "Human"}  # folders placed by the name's words
_LIBRARY = {  # folder as level 4 names it
    "Animal": "animal sounds",
    "Effects": "sound effects",
    "Electronic": "electronic sounds",
    "Human": "human sounds",
    "Instruments": "instrument sounds",
    "Percussion": "percussion sounds",
    "Music Loops": "music loops",
    "Vocals": "vocal sounds",
}
_ANIMALS = {  # file stem -> (group, animal)
    "Bird": ("bird", "bird"),
    "Cat": ("mammal", "cat"),
    "Cricket": ("insect", "cricket"),
    "Crickets": ("insect", "cricket"),
    "Dog1": ("mammal", "dog"),
    "Dog2": ("mammal", "dog"),
    "Duck": ("bird", "duck"),
    "Goose": ("bird", "goose"),
    "Horse": ("mammal", "horse"),
    "HorseGallop": ("mammal", "horse"),
    "Kitten": ("mammal", "cat"),
    "Meow": ("mammal", "cat"),
    "Owl": ("bird", "owl"),
    "Rooster": ("bird", "rooster"),
    "SeaLion": ("mammal", "sea lion"),
    "WolfHowl": ("mammal", "wolf"),
}


def name_words(stem: str) -> str:
    """'HorseGallop' -> 'horse gallop', 'Cough-female' -> 'cough female', 'Laser1' -> 'laser'."""
    return words(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem))


def _labels(folder: str, stem: str) -> tuple[str, str, str] | None:
    if folder == "Animal":
        group, animal = _ANIMALS.get(stem, (None, None))
        return ("animal", group, animal) if group else None
    name = name_words(stem)
    if name in _PLACED:
        return (*_PLACED[name], name)
    kind = place(name) if folder in _BY_NAME else _FOLDERS.get(folder)
    return (*kind, name) if kind else None


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / SOUNDS
    out = []
    for path in sorted(p for p in base.glob("*/*") if p.suffix.lower() in (".wav", ".mp3")):
        folder = path.parent.name
        labels = _labels(folder, path.stem)
        if labels is None:
            continue
        name = name_words(path.stem)
        what = article(labels[2]) if name == labels[2] else f"{article(labels[2])}: {name}"
        texts = [
            sentence(f"{name}, from the {_LIBRARY[folder]}"),
            sentence(f"the sound of {what}"),
            sentence(f"{article(name)} sound"),
        ]
        clip = f"{words(folder).replace(' ', '_')}/{path.stem}"
        out.append(spec(NAME, clip, labels, texts, LICENSE, FileAudio(str(path))))
    if not out:  # a package whose layout changed must not silently give an empty source
        raise DataBuildError("no sounds found in the Scratch media library", base)
    return out


SOURCE = Source(
    NAME,
    (Package("deb", "scratch", "1.4.0.6~dfsg1-6.1"),),
    LICENSE,
    ("usr/share/doc/scratch/copyright",),
    clips,
)
