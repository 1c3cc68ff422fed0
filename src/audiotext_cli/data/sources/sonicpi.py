"""Sonic Pi's bundled samples, grouped by Sonic Pi's own group descriptions.

Labels [L1, group description ("bass drums", "sounds of a tabla drum"), sample name as words].
L1 is "music" for the instrument groups and "sound effect" for ambient, glitch, vinyl,
mehackit and miscellaneous sounds. Group descriptions are read from the `:desc`/`:prefix`
pairs in sonic-pi-server's synthinfo.rb.
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.captions import article, words
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec, take

NAME = "sonicpi"
LICENSE = "CC0-1.0 (most samples; some CC-BY-SA-4.0, MIT, Zlib: see LICENSES/sonicpi.txt)"
SAMPLES = "usr/share/sonic-pi/samples"
SYNTHINFO = "usr/lib/sonic-pi/app/server/ruby/lib/sonicpi/synths/synthinfo.rb"
LIMITS = {"small": 40, "default": None, "large": None}
_EFFECT_GROUPS = {"ambi", "glitch", "vinyl", "mehackit", "misc"}


def _groups(synthinfo: Path) -> dict[str, str]:
    """Prefix ("bd") -> description ("bass drums")."""
    pairs = re.findall(
        r':desc\s*=>\s*"([^"]+)",\s*:prefix\s*=>\s*"(\w+)_"', synthinfo.read_text(encoding="utf-8")
    )
    return {prefix: desc.lower() for desc, prefix in pairs}


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    groups = _groups(roots[1] / SYNTHINFO)
    out = []
    for flac in sorted((roots[0] / SAMPLES).glob("*.flac")):
        prefix = flac.stem.split("_", 1)[0]
        if prefix not in groups:
            continue
        group, name = groups[prefix], words(flac.stem)
        l1 = "sound effect" if prefix in _EFFECT_GROUPS else "music"
        texts = [
            f"A Sonic Pi sample: {name}, from the {group}.",
            f"{name.capitalize()} ({group}).",
            f"{article(name).capitalize()} sample from the group {group}.",
        ]
        out.append(
            spec(
                NAME,
                flac.stem,
                (l1, group, name),
                texts,
                LICENSE,
                FileAudio(str(flac)),
                l2=("{x}", "{x} samples", "a sample of {x}"),
                l3=("{x}", "the sample {x}", "{x} sample"),
            )
        )
    return take(out, LIMITS[size], seed)


SOURCE = Source(
    NAME,
    (
        Package("deb", "sonic-pi-samples", "3.2.2~repack-8"),
        Package("deb", "sonic-pi-server", "3.2.2~repack-8"),
    ),
    LICENSE,
    ("usr/share/doc/sonic-pi-samples/copyright",),
    clips,
)
