"""LMMS's bundled samples: music-production one-shots and loops sorted into folders.

Labels [L1, folder ("drum", "bass loop", "strings and pads"), file name as words]; L1 is
"sound effect" for effects/ and misc/, "music" otherwise. The single-cycle waveforms
(shapes/, waveforms/), drumsynth presets and files with no describable name are left out.
"""

from __future__ import annotations

from pathlib import Path

from audiotext_cli.data.captions import article, words
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


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / SAMPLES
    out = []
    for folder, group in _FOLDERS.items():
        for path in sorted((base / folder).glob("*.ogg")):
            name = words(path.stem)
            if name in _UNNAMED:
                continue
            l1 = "sound effect" if folder in ("effects", "misc") else "music"
            texts = [
                f"{article(name).capitalize()} sample ({group}).",
                f"A {group} sample: {name}.",
                f"{name.capitalize()}, from the {group} samples.",
            ]
            out.append(
                spec(
                    NAME,
                    f"{folder}/{path.stem}",
                    (l1, group, name),
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
