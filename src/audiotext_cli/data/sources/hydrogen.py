"""Hydrogen's drum kits: every sample named by the kit's own `drumkit.xml` instrument.

Each kit folder holds samples and a `drumkit.xml` that lists its instruments
(`<instrument><name>Pearl Snare</name>... <filename>PearlSnare-Hard.wav</filename>`, one
file per velocity layer). The instrument's name gives the labels:
  ["music", "drum kit", kit piece] for kick, snare, hi-hat, toms, cymbals, rimshot;
  ["music", "percussion instrument", name] for hand percussion (clap, cowbell, shaker...)
with the piece read from the name by the table below ("Pearl Tom Floor" -> "tom drum").
Instruments the table cannot place ("Noise", "FX 3", "Trimo C3") are left out. Level 4
quotes the instrument and kit names. Licences per kit (GPL-2(+), CC-BY(-SA)-3.0, CC0): see
LICENSES/hydrogen.txt.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from audiotext_cli.data.captions import article
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec
from audiotext_cli.errors import DataBuildError

NAME = "hydrogen"
LICENSE = "per kit: GPL-2.0(-or-later), CC-BY-3.0, CC-BY-SA-3.0, CC0 (see LICENSES)"
KITS = "usr/share/hydrogen/data/drumkits"
PACKAGE = Package("deb", "hydrogen-drumkits", "2017.09.19~dfsg-1")
# instrument-name words -> (level 2, kit piece); first match wins
PIECES: tuple[tuple[str, str, str], ...] = (
    (r"hand ?clap|clap", "percussion instrument", "hand clap"),
    (r"cow ?bell", "percussion instrument", "cowbell"),
    (r"shaker|shake|maraca", "percussion instrument", "shaker"),
    (r"tambourine|tamb", "percussion instrument", "tambourine"),
    (r"conga", "percussion instrument", "conga"),
    (r"bongo", "percussion instrument", "bongo"),
    (r"clave", "percussion instrument", "claves"),
    (r"djembe", "percussion instrument", "djembe"),
    (r"triangle", "percussion instrument", "triangle"),
    (r"agogo", "percussion instrument", "agogo bell"),
    (r"cajon", "percussion instrument", "cajon"),
    (r"wood ?block", "percussion instrument", "woodblock"),
    (r"finger snap", "percussion instrument", "finger snap"),
    (r"dununba|kenkeni|sangban", "percussion instrument", "dunun drum"),
    (r"side ?stick|rim ?shot|\brim\b|\bstick\b", "drum kit", "rimshot"),
    (r"kick|bass ?drum|\bbd\b|\bkik\b", "drum kit", "kick drum"),
    (r"snare|\bsn\b|\bsd\b", "drum kit", "snare drum"),
    (r"hi ?-?hat|hihat|\bhh\b|\bhat\b|\bchh\b|\bohh\b", "drum kit", "hi-hat"),
    (r"\btom\b|\btoms\b|tom ?\d|floor ?tom|tom[lhm]", "drum kit", "tom drum"),
    (r"crash", "drum kit", "crash cymbal"),
    (r"ride", "drum kit", "ride cymbal"),
    (r"splash", "drum kit", "splash cymbal"),
    (r"china", "drum kit", "china cymbal"),
    (r"cymbal|\bcym\b", "drum kit", "cymbal"),
    (r"water ?glass", "percussion instrument", "water glass"),
    (r"\bbell\b", "percussion instrument", "bell"),
    (r"whistle", "percussion instrument", "whistle"),
    (r"\bdrum\b", "percussion instrument", "drum"),
)


def piece(instrument: str) -> tuple[str, str] | None:
    """(level 2, kit piece) for an instrument name, or None."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|[_\-.]+", " ", instrument).lower()
    for pattern, l2, name in PIECES:
        if re.search(pattern, text):
            return l2, name
    return None


def _instruments(xml: Path) -> list[tuple[str, list[str]]]:
    """(instrument name, sample file names) from a drumkit.xml (namespaced or not)."""
    root = ET.parse(xml).getroot()
    out = []
    for inst in root.iter():
        if not inst.tag.endswith("instrument"):
            continue
        # the tag itself, not `filename`, which comes first in the older kits' format
        name = next((c.text for c in inst if c.tag.rpartition("}")[2] == "name"), None)
        files = [e.text for e in inst.iter() if e.tag.endswith("filename") and e.text]
        if name and files:
            out.append((name.strip(), files))
    return out


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    base = roots[0] / KITS
    out = []
    for xml in sorted(base.glob("*/drumkit.xml")):
        kit = xml.parent
        seen: set[str] = set()
        for instrument, files in _instruments(xml):
            placed = piece(instrument)
            if placed is None:
                continue
            l2, name = placed
            for file in files:
                path = kit / file
                if not path.is_file() or file in seen:
                    continue
                seen.add(file)
                texts = [
                    f"{article(name).capitalize()} hit.",
                    f'{article(name).capitalize()} sample: "{instrument}", from the drum kit '
                    f"{kit.name}.",
                    f"A drum machine sample of {article(name)}.",
                ]
                clip = f"{re.sub(r'[^A-Za-z0-9]+', '_', kit.name)}/{Path(file).stem}"
                out.append(
                    spec(NAME, clip, ("music", l2, name), texts, LICENSE, FileAudio(str(path)))
                )
    if not out:
        raise DataBuildError("no drum kit instruments found", base)
    return out


SOURCE = Source(NAME, (PACKAGE,), LICENSE, ("usr/share/doc/hydrogen-drumkits/copyright",), clips)
