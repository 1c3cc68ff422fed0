"""LMMS's bundled samples: music-production one-shots and loops sorted into folders.

Labels ["music", the ontology class of the folder (drums/ -> drum kit, basses/ -> bass,
bassloops/ and beats/ -> music loop, stringsnpads/ -> synthesizer; instruments/ and
latin/ by the instrument's family), file name as words]; effects/ and misc/ are placed by
the name's words (`ontology.place`: "applause" -> human sound / crowd) or the table below.
Level 4 keeps LMMS's folder name ("A drum sample: snare hiphop."). The single-cycle
waveforms (shapes/, waveforms/), drumsynth presets and files with no describable name or
no place in the ontology ("dong", "start") are left out.
"""

from __future__ import annotations

from pathlib import Path

from audiotext_cli.data.captions import article, words
from audiotext_cli.data.ontology import place
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec, take

NAME = "lmms"
LICENSE = "GPL-2.0-or-later"
SAMPLES = "usr/share/lmms/samples"
LIMITS = {"small": 30, "default": None, "large": None}
_FOLDERS = {
    "basses": "bass",
    "bassloops": "bass loop",
    "beats": "beat",
    "drums": "drum",
    "effects": "effect",
    "instruments": "instrument",
    "latin": "latin music",
    "misc": "miscellaneous",
    "stringsnpads": "strings and pads",
}
_UNNAMED = {"undefined", "hit", "bass", "buzz"}
_MUSIC = {  # folder -> music class (instruments/, latin/: by the name's family below)
    "basses": "bass",
    "bassloops": "music loop",
    "beats": "music loop",
    "drums": "drum kit",
    "stringsnpads": "synthesizer",
}
_FAMILY = {  # instrument words -> music class
    "bassslap": "bass",
    "cello": "string instrument",
    "violin": "string instrument",
    "guitar": "string instrument",
    "organ": "keyboard instrument",
    "piano": "keyboard instrument",
    "flute": "wind instrument",
    "trumpet": "brass instrument",
    "brass": "brass instrument",
}
_EFFECTS = {  # effects/ and misc/ names the words do not place
    "chroma sound effect": ("electronic sound", "sci-fi sound"),
    "filter sweep": ("electronic sound", "sci-fi sound"),
    "electric ping": ("electronic sound", "beep"),
    "metronome": ("machine", "clock"),
}
_UNPLACED = {"start", "stop", "dong", "metalish dong", "snaph"}


def _labels(folder: str, name: str) -> tuple[str, str, str] | None:
    if folder in ("effects", "misc"):
        placed = None if name in _UNPLACED else _EFFECTS.get(name) or place(name)
        return (*placed, name) if placed else None
    if folder in _MUSIC:
        return "music", _MUSIC[folder], name
    family = next((c for w, c in _FAMILY.items() if w in name.split()), None)
    return ("music", family, name) if family else None


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / SAMPLES
    out = []
    for folder, group in _FOLDERS.items():
        for path in sorted((base / folder).glob("*.ogg")):
            name = words(path.stem)
            labels = None if name in _UNNAMED else _labels(folder, name)
            if labels is None:
                continue
            texts = [
                f"{article(name).capitalize()} sample ({group}).",
                f"A {group} sample: {name}.",
                f"{name.capitalize()}, from the {group} samples.",
            ]
            out.append(
                spec(
                    NAME,
                    f"{folder}/{path.stem}",
                    labels,
                    texts,
                    LICENSE,
                    FileAudio(str(path)),
                    l2=("{x}", "{x} samples", "a sample of {x}"),
                    l3=("{x}", "the sample {x}", "{x} sample"),
                )
            )
    return take(out, LIMITS[size], seed)


SOURCE = Source(
    NAME,
    (Package("deb", "lmms-common", "1.2.2+dfsg1-6"),),
    LICENSE,
    ("usr/share/doc/lmms-common/copyright",),
    clips,
)
