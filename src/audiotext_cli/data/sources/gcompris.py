"""GCompris activity sounds: farm animals, instruments, world music and everyday sounds.

The sounds sit inside Qt resource files (`rcc/<activity>.rcc`, read with
`audiotext_cli.data.rcc`), next to the QML/JS that describes them:
  explore_farm_animals: board QML `title` + `text` ("The dog goes 'woof'. ...")
      -> ["animal", mammal/bird, dog]; the onomatopoeia gives the verb ("A dog barking.")
  explore_world_music:  board QML `title` + `text` -> ["music", "world music", region]
  instruments:          "Find the cello" beside the audio -> ["music", "string instrument", cello]
  memory-sound:         only file names (`LRBark_1_LA_cut`), so a table below names what
      each recording is; the names that say nothing about the sound ("Weird", "Ring",
      "LaPause") are left out.
Its farm animals and memory sounds hold three of the corpus's dog barks (qabcs and gamesfx
hold the rest).
Licences differ per file (GPL-3+, CC-BY(-SA), Free Art, CC0); LICENSES/gcompris.txt
carries Debian's per-file copyright list.
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.captions import article, heard, sentence
from audiotext_cli.data.packages import Package
from audiotext_cli.data.rcc import read_rcc
from audiotext_cli.data.sources import ClipSpec, RccAudio, Source, spec
from audiotext_cli.errors import DataBuildError

NAME = "gcompris"
LICENSE = "per file: GPL-3.0-or-later, CC-BY-3.0, CC-BY-SA, Free Art License 1.2, CC0"
RCC = "usr/share/gcompris-qt/rcc"
ACTIVITIES = "gcompris/src/activities"

_ANIMAL_GROUP = {"chicken": "bird", "duck": "bird", "owl": "bird"}  # the rest are mammals
_REGION = {  # board titles that are not place names as they would read in "music from X"
    "European Classical Music": "Europe",
    "Middle East": "the Middle East",
    "United States of America": "the United States",
}
_VERB = {
    "woof": "barking",
    "meow": "meowing",
    "neigh": "neighing",
    "moo": "mooing",
    "oink": "oinking",
    "quack": "quacking",
    "hoot": "hooting",
    "baa": "bleating",
    "cluck": "clucking",
}
_FAMILY = {
    "string": ("banjo", "cello", "electric guitar", "guitar", "harp", "violin"),
    "wind": ("clarinet", "harmonica", "saxophone", "transverse flute"),
    "brass": ("horn", "trombone", "trumpet", "tuba"),
    "percussion": (
        "bongo",
        "castanets",
        "cymbal",
        "drum kit",
        "maracas",
        "snare drum",
        "tambourine",
        "timpani",
        "triangle",
    ),
    "keyboard": ("accordion", "organ", "piano"),
}
_INSTRUMENT_FAMILY = {name: family for family, names in _FAMILY.items() for name in names}
_MEMORY_SOUNDS = {
    # file-name stem without LR/_LA/_cut/numbers -> (labels, what the recording is)
    "guitar_melody": (("music", "string instrument", "guitar"), "a melody played on a guitar"),
    "guitar_son": (("music", "string instrument", "guitar"), "a guitar note"),
    "Applauses": (("human sound", "crowd", "applause"), "an audience applauding"),
    "Bark": (("animal", "mammal", "dog"), "a dog barking"),
    "Buddhist_gong": (("music", "percussion instrument", "gong"), "a Buddhist gong ringing"),
    "Door_Open": (("door", "door", "door opening"), "a door opening"),
    "Factory_noise": (("machine", "factory", "factory noise"), "noise in a factory"),
    "Fireballs": (("fire", "fire", "fireballs"), "fireballs"),
    "FrogsInPondDuringStorm": (
        ("animal", "amphibian", "frog"),
        "frogs croaking in a pond during a storm",
    ),
    "Heart_beat": (("human sound", "body", "heartbeat"), "a heart beating"),
    "Hits": (("impact", "hit", "hits"), "a series of hits"),
    "Object_falling": (("impact", "crash", "object falling"), "an object falling"),
    "Rain_in_garden": (("weather", "rain", "rain"), "rain falling in a garden"),
    "StartAndStopCarEngine": (
        ("vehicle", "car", "car engine"),
        "a car engine starting and stopping",
    ),
    "Train_slowing_down": (("vehicle", "train", "train"), "a train slowing down"),
}
_BOARD = re.compile(
    r'"title":\s*qsTr\("([^"]+)"\),\s*"text":\s*qsTr\("([^"]+)"\),\s*'
    r'"audio":[^\n]*?"qrc:/([^"]+)\.\$CA"'
)
_BOARD_FILE = "resource/board/board1.qml"
_FIND = re.compile(r'"text":\s*qsTr\("Find the ([^"]+)"\),\s*"audio":[^\n]*?"qrc:/([^"]+)\.\$CA"')


def memory_sound_key(stem: str) -> str:
    """'LRBark_1_LA_cut' -> 'Bark', 'LRStartAndStopCarEngine1LACut' -> 'StartAndStopCarEngine',
    'guitar_son3' -> 'guitar_son'."""
    key = re.sub(r"^LR", "", stem)
    key = re.sub(r"(_?LA)?(_?[Cc]ut)?$", "", key)
    return re.sub(r"_?\d+$", "", key)


def _entries(rcc: Path) -> dict[str, bytes]:
    return dict(read_rcc(rcc)) if rcc.is_file() else {}


def _audio(rcc: Path, files: dict[str, bytes], stem: str) -> RccAudio | None:
    """The recording for a `qrc:/...$CA` reference (`$CA` is the platform's audio format)."""
    for ext in (".ogg", ".wav", ".mp3"):
        if stem + ext in files:
            return RccAudio(str(rcc), stem + ext)
    return None


def _described(base: Path, activity: str, table: re.Pattern, file: str) -> list[tuple]:
    """(match groups..., recording) for every entry of the activity's description file that
    `table` matches and whose recording is in the archive."""
    rcc = base / f"{activity}.rcc"
    files = _entries(rcc)
    text = files.get(f"{ACTIVITIES}/{activity}/{file}", b"").decode("utf-8")
    found = [(*m[:-1], _audio(rcc, files, m[-1])) for m in table.findall(text)]
    return [f for f in found if f[-1] is not None]


def _farm_animals(base: Path) -> list[ClipSpec]:
    out = []
    for title, text, audio in _described(base, "explore_farm_animals", _BOARD, _BOARD_FILE):
        animal = title.lower()
        first = text.split(". ")[0].rstrip(".") + "."
        sound = re.search(r"goes '(\w+)'", first)
        verb = _VERB.get(sound.group(1)) if sound else None
        what = f"{article(animal)} {verb}" if verb else f"{article(animal)} calling"
        labels = ("animal", _ANIMAL_GROUP.get(animal, "mammal"), animal)
        texts = [sentence(what), first, sentence(f"the sound of {article(animal)}, a farm animal")]
        out.append(spec(NAME, f"farm_animals/{animal}", labels, texts, LICENSE, audio))
    return out


def _world_music(base: Path) -> list[ClipSpec]:
    out = []
    for title, text, audio in _described(base, "explore_world_music", _BOARD, _BOARD_FILE):
        region = _REGION.get(title, title)
        out.append(
            spec(
                NAME,
                f"world_music/{Path(audio.entry).stem}",
                ("music", "world music", region),
                [sentence(f"music from {region}"), text],
                LICENSE,
                audio,
                l3=("{x}", "music from {x}", "a piece of music from {x}"),
            )
        )
    return out


def _instruments(base: Path) -> list[ClipSpec]:
    out = []
    for name, audio in dict(_described(base, "instruments", _FIND, "instruments.js")).items():
        if name not in _INSTRUMENT_FAMILY:
            continue
        labels = ("music", f"{_INSTRUMENT_FAMILY[name]} instrument", name)
        texts = heard(f"{article(name)} playing")
        out.append(
            spec(NAME, f"instruments/{Path(audio.entry).stem}", labels, texts, LICENSE, audio)
        )
    return out


def _memory_sounds(base: Path) -> list[ClipSpec]:
    rcc = base / "memory-sound.rcc"
    files = _entries(rcc)
    out = []
    for entry in sorted(files):
        path = Path(entry)
        known = _MEMORY_SOUNDS.get(memory_sound_key(path.stem))
        if path.suffix not in (".ogg", ".wav") or known is None:
            continue
        labels, what = known
        out.append(
            spec(
                NAME,
                f"memory_sound/{path.stem}",
                labels,
                heard(what),
                LICENSE,
                RccAudio(str(rcc), entry),
            )
        )
    return out


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / RCC
    found = [*_farm_animals(base), *_instruments(base), *_world_music(base), *_memory_sounds(base)]
    if not found:  # a package whose layout changed must not silently give an empty source
        raise DataBuildError("no described sounds found in the GCompris resource files", base)
    return found


SOURCE = Source(
    NAME,
    (Package("deb", "gcompris-qt-data", "3.1-2"),),
    LICENSE,
    ("usr/share/doc/gcompris-qt-data/copyright",),
    clips,
)
