"""The `audiotext` command: wiring only. Each command module registers itself on `app`.

Commands parse, call the library and print; errors from the library (`AudiotextError`)
reach the user as one line and exit 1 through `_ErrorFunnel`, never as a traceback
(set AUDIOTEXT_DEBUG=1 to see one).
"""

from __future__ import annotations

import os

import click
import typer
from typer.core import TyperGroup

from audiotext_cli import __version__
from audiotext_cli.cli import _groups, _output
from audiotext_cli.errors import AudiotextError, UsageError


class _ErrorFunnel(TyperGroup):
    """Top-level group that turns domain and OS errors into one line: exit 2 for a
    `UsageError` (e.g. a bad `--set`), 1 for the rest."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (AudiotextError, OSError) as exc:
            if os.environ.get("AUDIOTEXT_DEBUG"):
                raise
            _output.error(_one_line(exc))
            raise typer.Exit(2 if isinstance(exc, UsageError) else 1) from None


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
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
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


def _register() -> None:
    from audiotext_cli.cli import (  # noqa: F401  (imported for their registrations)
        compare,
        data,
        evaluate,
        hilbert,
        info,
        prolap,
        search,
        train,
        zeroshot,
    )

    for module in (info, data, train, evaluate, search, prolap, compare, zeroshot, hilbert):
        module.register(app)
    _groups.attach(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
