"""Asterisk's English voice prompts (one female voice, Allison) with their transcripts.

Labels ["speech", "telephone prompt", kind] where kind comes from the prompt's folder
(digits -> "spoken digit", letters -> "spoken letter", ...; top level -> "voice prompt").
Level 4 is the transcript from core-sounds-en.txt. Entries in [brackets] are tones, not
speech, and silence/ is silence: both are left out, as are prompts over MAX_SECONDS (the
transcript would no longer match a cut clip).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import MAX_SECONDS, ClipSpec, FileAudio, Source, spec, take

NAME = "asterisk"
LICENSE = "CC-BY-SA-3.0 (Digium, Inc.; voice: Allison Smith)"
TRANSCRIPTS = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison"
LIMITS = {"small": 60, "default": None, "large": None}
_KINDS = {
    "": "voice prompt",
    "digits": "spoken digit",
    "letters": "spoken letter",
    "phonetic": "phonetic alphabet word",
    "dictate": "dictation prompt",
    "followme": "follow-me prompt",
}


def _transcripts(path: Path) -> dict[str, str]:
    out = {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    for line in lines:
        key, sep, text = line.partition(":")
        if sep and not line.startswith(";") and text.strip():
            out[key.strip()] = " ".join(text.split())
    return out


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    import soundfile

    base = roots[1] / SOUNDS
    out = []
    for key, text in sorted(_transcripts(roots[0] / TRANSCRIPTS).items()):
        folder = key.rpartition("/")[0]
        wav = base / f"{key}.wav"
        if text.startswith("[") or folder not in _KINDS or not wav.is_file():
            continue
        if soundfile.info(str(wav)).duration > MAX_SECONDS:
            continue
        texts = [f'A woman says: "{text}"', f'A recorded telephone voice says "{text}"', text]
        labels = ("speech", "telephone prompt", _KINDS[folder])
        out.append(
            spec(
                NAME,
                key,
                labels,
                texts,
                LICENSE,
                FileAudio(str(wav)),
                l2=("{x}", "a {x}", "speech from a {x}"),
                l3=("{x}", "{ax}", "speech: {ax}"),
            )
        )
    return take(out, LIMITS[size], seed)


SOURCE = Source(
    NAME,
    (
        Package("deb", "asterisk-core-sounds-en", "1.6.1-1"),
        Package("deb", "asterisk-core-sounds-en-wav", "1.6.1-1"),
    ),
    LICENSE,
    ("usr/share/doc/asterisk-core-sounds-en-wav/copyright",),
    clips,
)
