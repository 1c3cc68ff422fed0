"""Sonic Pi's bundled samples, grouped by Sonic Pi's own group descriptions.

Labels [category, class, sample name as words] in the shared ontology: the instrument
groups are "music" with the class of the group (bass drums, snare drums and drum sounds
-> drum kit; tabla and percussive sounds -> percussion instrument; guitars -> string
instrument; bass sounds -> bass; electric sounds -> synthesizer; looping sounds -> music
loop). Ambient sounds are "ambience" / "synthetic ambience" (the swooshes "movement",
the piano and choir "music"), glitchy and vinyl sounds "electronic sound" / "glitch"; the
mehackit and miscellaneous sounds by name (phone -> ringtone, robot -> sci-fi sound, crow,
burp); "misc cineboom" is left out. Group descriptions ("bass drums", level 4) are read
from the `:desc`/`:prefix` pairs in sonic-pi-server's synthinfo.rb.
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
_GROUP_CLASS = {  # prefix -> (category, class)
    "bd": ("music", "drum kit"),
    "sn": ("music", "drum kit"),
    "drum": ("music", "drum kit"),
    "elec": ("music", "synthesizer"),
    "perc": ("music", "percussion instrument"),
    "tabla": ("music", "percussion instrument"),
    "guit": ("music", "string instrument"),
    "bass": ("music", "bass"),
    "loop": ("music", "music loop"),
    "ambi": ("ambience", "synthetic ambience"),
    "glitch": ("electronic sound", "glitch"),
    "vinyl": ("electronic sound", "glitch"),
}
_BY_NAME = {  # sample-name words -> (category, class), before the group's
    "ambi swoosh": ("movement", "whoosh"),
    "ambi dark woosh": ("movement", "whoosh"),
    "ambi piano": ("music", "keyboard instrument"),
    "ambi choir": ("music", "ensemble"),
    "mehackit phone": ("alarm", "ringtone"),
    "mehackit robot": ("electronic sound", "sci-fi sound"),
    "misc burp": ("human sound", "body"),
    "misc crow": ("animal", "bird"),
}


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
        placed = _BY_NAME.get(name) or _GROUP_CLASS.get(prefix)
        if placed is None:
            continue
        texts = [
            f"A Sonic Pi sample: {name}, from the {group}.",
            f"{name.capitalize()} ({group}).",
            f"{article(name).capitalize()} sample from the group {group}.",
        ]
        out.append(
            spec(
                NAME,
                flac.stem,
                (*placed, name),
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
