"""Table-driven sound libraries: a package, a folder (or a zip inside it), and a table of
file-name patterns -> labels, shared by every game and desktop source.

A table row is `pattern: (L1, L2, L3, what)`: `pattern` is a regular expression matched
(whole, case-insensitive) against the file's path under the folder without its suffix
("weapons/shotgun/sshotf1b", "Droplet2"); the labels are an ontology path
(`audiotext_cli.data.ontology`); `what` is the plain phrase of what the name says, which
becomes the level-4 sentences ("a shotgun firing" -> "A shotgun firing.", ...). The first
matching row wins; a file no row matches is left out (its name does not say what is
heard, or it is music). A row that matches no file is a build error, so a package whose
layout changed says so instead of silently shrinking the corpus.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from audiotext_cli.data.captions import heard
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import (
    ClipSpec,
    FileAudio,
    Source,
    WavPackAudio,
    ZipAudio,
    spec,
)
from audiotext_cli.errors import DataBuildError

SPEECH_L2 = ("{x}", "a {x}", "speech: a {x}")
"""Level-2 templates for speech classes ("voice line" -> "a voice line", "speech: a voice line")."""
QUOTED_L3 = ("{x}", 'the words "{x}"', 'someone saying "{x}"')
"""Level-3 templates for a label that is the words spoken ("take cover")."""
AUDIO_SUFFIXES = (".wav", ".ogg", ".oga", ".flac", ".mp3", ".aiff", ".aif", ".au", ".wv")
"""`.wv` (WavPack, Teeworlds) is decoded by `WavPackAudio`; the rest by libsndfile."""
Row = tuple[str, str, str, str]
Table = dict[str, Row]


@dataclass(frozen=True)
class Part:
    """One folder of one package: `package` indexes the source's packages; `folder` is a
    path inside it, or `path/archive.zip!prefix/` for members of a zip archive."""

    package: int
    folder: str
    table: Table
    prefix: str = ""  # clip ids: <source>/<prefix>/<path under the folder>
    recursive: bool = False


@dataclass(frozen=True)
class Found:
    """An audio file a part lists: its path under the folder (no suffix) and its recipe."""

    rel: str
    audio: FileAudio | ZipAudio | WavPackAudio


def voice_line(
    source: str,
    clip: str,
    line: str,
    texts: list[str],
    license: str,
    audio: FileAudio | ZipAudio | WavPackAudio,
    l3: tuple[str, ...] = QUOTED_L3,
) -> ClipSpec:
    """A ["speech", "voice line", line] clip with the speech caption templates."""
    labels = ("speech", "voice line", line)
    return spec(source, clip, labels, texts, license, audio, l2=SPEECH_L2, l3=l3)


def list_audio(root: Path, folder: str, recursive: bool = False) -> list[Found]:
    """Every audio file under `folder` (a directory, or `archive!prefix/` in a zip), sorted."""
    if "!" in folder:
        archive, prefix = folder.split("!", 1)
        path = root / archive
        if not path.is_file():
            return []
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if n.startswith(prefix))
        out = []
        for name in names:
            rel = name[len(prefix) :]
            if Path(rel).suffix.lower() in AUDIO_SUFFIXES and (recursive or "/" not in rel):
                out.append(Found(str(Path(rel).with_suffix("")), ZipAudio(str(path), name)))
        return out
    base = root / folder
    files = base.rglob("*") if recursive else base.glob("*")
    paths = [p for p in sorted(files) if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES]
    stems = Counter(p.relative_to(base).with_suffix("").as_posix() for p in paths)
    out = []
    for p in paths:
        rel = p.relative_to(base).with_suffix("").as_posix()
        if stems[rel] > 1:  # splash.ogg beside splash.wav: both kept, told apart
            rel += "_" + p.suffix.lstrip(".").lower()
        recipe = WavPackAudio(str(p)) if p.suffix.lower() == ".wv" else FileAudio(str(p))
        out.append(Found(rel, recipe))
    return out


def match(table: Table, rel: str) -> tuple[str, Row] | None:
    """(pattern, row) of the first row whose pattern matches `rel` whole
    (case-insensitive), else None."""
    for pattern, row in table.items():
        if re.fullmatch(pattern, rel, re.IGNORECASE):
            return pattern, row
    return None


def table_clips(name: str, license: str, parts: tuple[Part, ...], roots: list[Path]):
    """Clip specs for every file a row of its part's table names (see the module doc)."""
    out: list[ClipSpec] = []
    for part in parts:
        found = list_audio(roots[part.package], part.folder, part.recursive)
        used: set[str] = set()
        for f in found:
            hit = match(part.table, f.rel)
            if hit is None:
                continue
            pattern, (l1, l2, l3, what) = hit
            used.add(pattern)
            clip = "/".join(x for x in (part.prefix, f.rel) if x)
            out.append(spec(name, clip, (l1, l2, l3), heard(what), license, f.audio))
        missing = [p for p in part.table if p not in used]
        if missing:
            raise DataBuildError(
                f"{name}: no file in {part.folder} matches {', '.join(missing[:5])}",
                roots[part.package],
            )
    return out


@dataclass(frozen=True)
class Music:
    """A game's music folder (`package` indexes the source's packages; `folder` as in
    Part): every track is ["music", "game music", "<game> music"], its first MAX_SECONDS.
    The folder says it is music and the file name is the track's title; neither says what
    it sounds like, so the title goes into level 4 only, quoted."""

    package: int
    folder: str
    game: str
    recursive: bool = True
    pattern: str = ".*"  # the tracks' paths under the folder (a folder shared with effects)


MUSIC_L2 = ("{x}", "{x} from a soundtrack", "a piece of {x}")
MUSIC_L3 = ("{x}", "{x}, a game soundtrack", "a piece of {x}")


def music_clips(name: str, license: str, parts: tuple[Music, ...], roots: list[Path]):
    """Clip specs for every track of every music folder; an empty folder is a build error."""
    out: list[ClipSpec] = []
    for part in parts:
        found = list_audio(roots[part.package], part.folder, part.recursive)
        found = [f for f in found if re.fullmatch(part.pattern, f.rel, re.IGNORECASE)]
        if not found:
            raise DataBuildError(f"{name}: no music in {part.folder}", roots[part.package])
        labels = ("music", "game music", f"{part.game} music")
        for f in found:
            title = " ".join(re.split(r"[\s_\-]+", f.rel.rsplit("/", 1)[-1])).strip()
            texts = [
                f'Music from the game {part.game}: the track "{title}".',
                f"A piece of the {part.game} soundtrack.",
                f"Game music from {part.game}.",
            ]
            clip = f"music/{f.rel}"
            out.append(spec(name, clip, labels, texts, license, f.audio, l2=MUSIC_L2, l3=MUSIC_L3))
    return out


@dataclass(frozen=True)
class Library:
    """A source made of tables (and optionally extra clip functions for data-file labels)."""

    name: str
    packages: tuple[Package, ...]
    license: str
    parts: tuple[Part, ...]
    extra: tuple[Callable[[list[Path]], list[ClipSpec]], ...] = field(default=())
    license_files: tuple[str, ...] = ()
    music: tuple[Music, ...] = ()

    def clips(self, roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
        out = table_clips(self.name, self.license, self.parts, roots)
        out += music_clips(self.name, self.license, self.music, roots)
        for fn in self.extra:
            out += fn(roots)
        if not out:
            raise DataBuildError(f"{self.name}: no labelled sounds found", roots[0])
        return out

    def source(self) -> Source:
        files = self.license_files or tuple(
            f"usr/share/doc/{p.name}/copyright" for p in self.packages
        )
        return Source(self.name, self.packages, self.license, files, self.clips)
