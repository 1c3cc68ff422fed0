"""The `audiotext` command: wiring only. One module per command group, each with a
`register(app)`, listed once in `COMMANDS` (adding a group is one line there).

Commands parse, call the library and print; errors from the library (`AudiotextError`)
reach the user as one line and exit 1 through `_ErrorFunnel`, never as a traceback
(set AUDIOTEXT_DEBUG=1 to see one).
"""

from __future__ import annotations

import importlib
import os

import click
import typer
from typer.core import TyperGroup

from audiotext_cli import __version__
from audiotext_cli.cli import _output
from audiotext_cli.cli._options import SETTINGS
from audiotext_cli.errors import AudiotextError


class _ErrorFunnel(TyperGroup):
    """Top-level group that turns domain and OS errors into one line and exit code 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (AudiotextError, OSError) as exc:
            if os.environ.get("AUDIOTEXT_DEBUG"):
                raise
            _output.error(_one_line(exc))
            raise typer.Exit(1) from None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, AudiotextError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return " ".join(str(exc).split())


app = typer.Typer(
    name="audiotext",
    cls=_ErrorFunnel,
    help="Audio-text embedding, retrieval and embedding-space analysis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"audiotext {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Audio-text embedding, retrieval and embedding-space analysis."""


# Modules of `audiotext_cli.cli`, in the order `--help` lists them; each has `register(app)`.
COMMANDS = (
    "info",
    "data",
    "embed",
    "index",
    "train",
    "eval",
    "search",
    "serve",
    "prolap",
    "compare",
    "zeroshot",
    "docs",
)


def _register() -> None:
    for name in COMMANDS:
        importlib.import_module(f"audiotext_cli.cli.{name}").register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
