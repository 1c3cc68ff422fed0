"""qABCs alphabet noises: 241 short sounds of animals, instruments, toys and things.

Each language's `abc*.properties` pairs a picture with a noise (`abcs/all/noises/NAME.ogg`)
under a category (animals, instrument, toys, misc); the noise's file name is English.
  animals    -> ["animal", group from the table below ("mammal" unless listed), name]
  instrument -> ["music", "<string/wind/percussion/keyboard> instrument", name]
  toys, misc -> [ontology category and class from the table below (toy -> object / toy,
                train -> vehicle / train, clock -> machine / clock...), name]
A noise takes the category most languages give it. Left out: cartoon and fairy-tale
characters, flags and abstract words (the name does not say what is heard) and
instruments we cannot place in a family. The animal and instrument noises are the main
point: they teach the words ("dog", "violin", "drums") that sound libraries are searched by.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from audiotext_cli.data.captions import article, sentence, words
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec
from audiotext_cli.errors import DataBuildError

NAME = "qabcs"
LICENSE = "GPL-3.0-or-later"
ABCS = "usr/share/qabcs/abcs"


def _invert(table: dict[str, str]) -> dict[str, str]:
    return {name: group for group, names in table.items() for name in names.split()}


_ANIMAL_GROUP = _invert(
    {
        "bird": "albatross bird booby crow duck eagle-owl emu flamingo goose guinea_fowl heron "
        "iora owl pelican pheasant quail quetzal rooster sparrow stork vulture wood_grouse",
        "insect": "blister_beetle grasshopper ladybug moth weevil",
        "reptile": "aesculapian_snake iguana python turtle",
        "amphibian": "frog newt",
        "fish": "fish",
        "mollusc": "snail",
    }
)
_NOT_ANIMALS = {"urchin"}  # "urchin" is a hedgehog in some alphabets, a sea urchin in others
_INSTRUMENT_FAMILY = _invert(
    {
        "string": "cello electric_guitar erhu gamba guitar harp lute rabel topshuur ukulele "
        "violin yangqin youhikko yueqin zither",
        "wind": "bagpipes clarinet dulzaina flute harmonica kazoo ney oboe pipe "
        "pishik quena recorder rozhok saxophone washint western_concert_flute whistle "
        "xun zhaleyka zozulka zurna",
        "brass": "natural_horn trumpet",
        "percussion": "bass_drum changu cuica cymbals drums hang ipu maracas ratchet slit_drum "
        "spoons timpani xylophone",
        "keyboard": "accordion aeoline grand_piano hand_organ organ piano squeezebox",
    }
)
_THINGS = {
    # toys and things whose name says what is heard: (category, class) -> names
    ("object", "toy"): "balloons dice jump_rope kite robot rocking_horse rubber_ball seesaw "
    "top walkie-talkie whirligig yoyo",
    ("vehicle", "aircraft"): "airplane helicopter paper_airplane quadrocopter",
    ("vehicle", "two-wheeler"): "bicycle skateboard unicycle",
    ("vehicle", "tracked vehicle"): "excavator tractor",
    ("vehicle", "spacecraft"): "rocket",
    ("vehicle", "train"): "train wagon",
    ("object", "sports equipment"): "football hockey ice_skate volleyball",
    ("machine", "clock"): "clock watch",
    ("machine", "household appliance"): "camera_lens security_camera",
    ("fire", "fire"): "fire",
    ("object", "household object"): "boot button chalkboard jar keyboard lunchbox magnet "
    "necklace anklet newspaper pen umbrella vase zipper",
}
_THING_GROUP = {name: kind for kind, names in _THINGS.items() for name in names.split()}
_PROPERTY = re.compile(r"^(\w+):[^=]*=(.*)$")


def noise_categories(abcs: Path) -> dict[str, str]:
    """Noise name -> the category most alphabets file it under.

    A properties line reads `category:letter=word==picture=noise` (the word in the
    alphabet's language, the picture's name, the noise's name: `animals:p=pes==dog=dog`);
    the noise field is empty or missing when the picture has no noise."""
    votes: dict[str, Counter] = defaultdict(Counter)
    for props in sorted(abcs.glob("*/abc*.properties")):
        for line in props.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _PROPERTY.match(line.strip())
            fields = match.group(2).split("=") if match else []
            if len(fields) >= 4 and fields[3]:
                votes[fields[3]][match.group(1)] += 1
    return {noise: count.most_common(1)[0][0] for noise, count in votes.items()}


def _labels(noise: str, category: str) -> tuple[str, str, str] | None:
    name = words(noise)
    if category == "animals" and noise not in _NOT_ANIMALS:
        return "animal", _ANIMAL_GROUP.get(noise, "mammal"), name
    if category == "instrument" and noise in _INSTRUMENT_FAMILY:
        return "music", f"{_INSTRUMENT_FAMILY[noise]} instrument", name
    if category in ("toys", "misc") and noise in _THING_GROUP:
        return (*_THING_GROUP[noise], name)
    return None


def _texts(labels: tuple[str, str, str]) -> list[str]:
    kind, group, name = labels
    if kind == "music":
        return [
            sentence(f"{article(name)} playing"),
            sentence(f"the sound of {article(name)}, a {group}"),
            sentence(f"a short sound of {article(name)}"),
        ]
    return [
        sentence(f"the sound of {article(name)}"),
        sentence(f"a short sound of {article(name)} ({group})"),
        sentence(f"{article(name)}, recorded"),
    ]


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    abcs = roots[0] / ABCS
    categories = noise_categories(abcs)
    if not categories:  # a package whose layout changed must not silently give an empty source
        raise DataBuildError("no noises found in the qABCs alphabets", abcs)
    out = []
    for ogg in sorted((abcs / "all" / "noises").glob("*.ogg")):
        labels = _labels(ogg.stem, categories.get(ogg.stem, ""))
        if labels is not None:
            out.append(
                spec(
                    NAME, f"noises/{ogg.stem}", labels, _texts(labels), LICENSE, FileAudio(str(ogg))
                )
            )
    return out


SOURCE = Source(
    NAME,
    (Package("deb", "qabcs-data", "1.0.2-6"),),
    LICENSE,
    ("usr/share/doc/qabcs-data/copyright",),
    clips,
)
