"""What command modules share in their signatures, declared once so every command spells
them the same way: the sub-group factory, the option aliases (`Annotated`), the choice
enums, and the checks that turn a bad option value into a usage error (exit 2).

Choices are enums here rather than imports of the library's tuples, so that `--help` needs
no torch or faiss; tests/test_cli_usage.py checks each enum against the library's list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from audiotext_cli.cli._output import Format
from audiotext_cli.errors import AudiotextError, ConfigError, UsageError

SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


def group(help: str) -> typer.Typer:
    """A command group (`data`, `embed`, `index`) with the top-level app's settings."""
    return typer.Typer(
        help=help, no_args_is_help=True, context_settings=SETTINGS, rich_markup_mode="markdown"
    )


def checked(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A typer callback that checks an option's value with a library parser, so that its
    `AudiotextError` is a bad-option usage error (exit 2) naming the option. The value is
    passed on unchanged (typer would coerce a parsed one back); the command parses it."""

    def callback(value: Any) -> Any:
        if value is None or value == []:
            return value
        try:
            parse(value)
        except AudiotextError as exc:
            raise typer.BadParameter(exc.reason) from None
        return value

    return callback


def _check_device(value: str) -> str:
    if not re.fullmatch(r"cpu|cuda(:\d+)?", value):
        raise typer.BadParameter(f"{value!r} is not cpu, cuda or cuda:N")
    return value


FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", help="table, json (the full report), jsonl or csv (one row per line)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="cpu, cuda or cuda:N.", callback=_check_device)
]
ManifestOpt = Annotated[
    Path,
    typer.Option(
        "--manifest",
        "-m",
        help="Manifest (JSONL) [default: corpus/eval.jsonl under $AUDIOTEXT_HOME].",
    ),
]
ModelOpt = Annotated[Path, typer.Option("--model", help="Model checkpoint folder (e.g. RUN/best).")]
TrainManifestOpt = Annotated[
    Path,
    typer.Option(
        "--train", help="Training manifest [default: corpus/train.jsonl under $AUDIOTEXT_HOME]."
    ),
]
ValManifestOpt = Annotated[
    Path,
    typer.Option(
        "--val",
        help="Validation manifest from the training sources "
        "[default: corpus/val.jsonl under $AUDIOTEXT_HOME].",
    ),
]


def output_format(fmt: Format, as_json: bool) -> Format:
    """`--json` is `--format json`; asking for both json and another format is a mistake."""
    if as_json and fmt not in (Format.table, Format.json):
        raise UsageError(f"--json contradicts --format {fmt.value}")
    return Format.json if as_json else fmt


@contextmanager
def usage_errors() -> Iterator[None]:
    """Inside: a `ConfigError` is the caller's mistake (a bad --set, --preset), so exit 2."""
    try:
        yield
    except ConfigError as exc:
        raise UsageError(exc.reason, exc.path) from None


class IndexKind(StrEnum):
    auto = "auto"
    flat = "flat"
    hnsw = "hnsw"
    ivf = "ivf"
    ivfpq = "ivfpq"


class CurateMode(StrEnum):
    unspecific = "unspecific"
    specific = "specific"


class RootMode(StrEnum):
    empty = "empty"
    inclusion = "inclusion"
    inclusion_empty = "inclusion+empty"


class ItemKind(StrEnum):
    audio = "audio"
    text = "text"
    both = "both"


class CorpusSize(StrEnum):
    small = "small"
    default = "default"
    large = "large"


class DocsSize(StrEnum):
    small = "small"
    default = "default"


class Vad(StrEnum):
    silero = "silero"
    energy = "energy"


class AudioTower(StrEnum):
    aisfx = "aisfx"
    cnn = "cnn"


class ModelKind(StrEnum):
    clap = "clap"
    prolap = "prolap"
    hilbert = "hilbert"
