"""Tux Paint stamp sounds: real sound effects with a written description and a folder taxonomy.

Sound effects (`STEM.ogg` next to `STEM.txt`, line 1 = the English description):
  animals/<group>/.../STEM   -> ["animal", group ("mammal", "bird"...; marsupials are
                                mammals, lizards reptiles), STEM as words]
  hobbies/music/<kind>/STEM  -> ["music", "<kind> instrument", STEM as words]
  anything else              -> [ontology category and class, STEM as words]: from the
                                table below, else from the name's words
                                (`ontology.place`: "washing_machine" -> machine /
                                household appliance); stamps whose sound the name does
                                not say (a gift, a flag, a road sign) are left out
Spoken English descriptions (`STEM_desc.ogg`) -> ["speech", "spoken description", top folder],
level 4 = the description that is spoken. symbols/ (spoken letters and digits) is left out.
"""

from __future__ import annotations

from pathlib import Path

from audiotext_cli.data.captions import sentence, words
from audiotext_cli.data.ontology import ONTOLOGY, place
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec, take

NAME = "tuxpaint"
LICENSE = "GPL-2.0"
STAMPS = "usr/share/tuxpaint/stamps"
LIMITS = {"small": 40, "default": None, "large": None}
_SINGULAR = {
    "amphibians": "amphibian",
    "birds": "bird",
    "insects": "insect",
    "lizards": "reptile",
    "mammals": "mammal",
    "marsupials": "mammal",
}
_EFFECTS = {  # stamp name -> (category, class) where the name's words do not place it
    "scissors small closed": ("object", "household object"),
    "scissors small open": ("object", "household object"),
    "bathyscape": ("vehicle", "watercraft"),
    "blackcat": ("animal", "mammal"),
    "bat left": ("animal", "mammal"),
    "kettle": ("machine", "household appliance"),
    "rubberduck": ("object", "toy"),
    "lightningbolt": ("weather", "thunder"),
    "apollo lander": ("vehicle", "spacecraft"),
    "firetruck": ("vehicle", "car"),
    "dreydl gimmel": ("object", "toy"),
    "dreydl hay": ("object", "toy"),
    "dreydl nun": ("object", "toy"),
    "dreydl shin": ("object", "toy"),
}
_UNPLACED = {"gift", "hard candy", "santahat", "checkeredflag", "apple red", "final roll call"}


def _description(txt: Path) -> str:
    return txt.read_text(encoding="utf-8", errors="replace").splitlines()[0].strip()


def _labels(parts: tuple[str, ...], stem: str) -> tuple[str, str, str] | None:
    name = words(stem)
    if parts[0] == "animals":
        group = _SINGULAR.get(parts[1], words(parts[1]))
        return ("animal", group, name) if group in ONTOLOGY["animal"].classes else None
    if parts[:2] == ("hobbies", "music"):
        return "music", f"{words(parts[2])} instrument", name
    placed = None if name in _UNPLACED else _EFFECTS.get(name) or place(name)
    return (*placed, name) if placed else None


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / STAMPS
    out = []
    for txt in sorted(base.rglob("*.txt")):
        rel = txt.relative_to(base).with_suffix("")
        parts = rel.parts[:-1]
        if not parts or parts[0] == "symbols":
            continue
        desc = _description(txt)
        sound = next(
            (txt.with_suffix(e) for e in (".ogg", ".wav") if txt.with_suffix(e).is_file()), None
        )
        labels = _labels(parts, rel.name) if sound is not None else None
        if labels is not None:
            d = desc.rstrip(".")
            d = d[:1].lower() + d[1:] if d[1:2].islower() else d
            texts = [sentence(f"the sound of {d}"), sentence(desc), sentence(f"{d}, recorded")]
            out.append(
                spec(
                    NAME,
                    rel.as_posix(),
                    labels,
                    texts,
                    LICENSE,
                    FileAudio(str(sound)),
                )
            )
        spoken = txt.with_name(f"{rel.name}_desc.ogg")
        if spoken.is_file():
            texts = [f'A voice says: "{desc}"', f'Someone reads out "{desc}"', desc]
            labels = ("speech", "spoken description", words(parts[0]))
            out.append(
                spec(
                    NAME,
                    f"{rel.as_posix()}_desc",
                    labels,
                    texts,
                    LICENSE,
                    FileAudio(str(spoken)),
                    l3=("{x}", "speech about {x}", "a spoken description: {x}"),
                )
            )
    return take(out, LIMITS[size], seed)


SOURCE = Source(
    NAME,
    (Package("deb", "tuxpaint-stamps-default", "2022.06.04-1"),),
    LICENSE,
    ("usr/share/doc/tuxpaint-stamps-default/copyright",),
    clips,
)
