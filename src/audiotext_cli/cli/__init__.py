"""The `audiotext` command: wiring only. One module per command group, each with a
`register(app)`, listed once in `COMMANDS` (adding a group is one line there).

Commands parse, call the library and print; errors from the library (`AudiotextError`)
reach the user as one line through `_ErrorFunnel`, never as a traceback (set
AUDIOTEXT_DEBUG=1 to see one): exit 2 for usage mistakes, 1 for runtime failures.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from typer._click import exceptions as click_errors  # typer vendors click; not re-exported
from typer._click.core import Context
from typer.core import TyperGroup

from audiotext_cli import __version__
from audiotext_cli.cli import _output
from audiotext_cli.cli._options import SETTINGS
from audiotext_cli.errors import AudiotextError, UsageError


class _ErrorFunnel(TyperGroup):
    """Top-level group: every failure is one line on stderr, never a traceback.

    Usage mistakes (click's and `errors.UsageError`) exit 2; domain and OS errors exit 1.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()
            rv = exc.exit_code
        except click_errors.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            rv = _fail(_one_line(exc.format_message()) + hint, 2)
        except click_errors.ClickException as exc:
            rv = _fail(_one_line(exc.format_message()), exc.exit_code)
        except typer.Abort:
            rv = _fail("aborted", 1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `audiotext ... | head` closed stdout: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except (AudiotextError, OSError) as exc:
            if os.environ.get("AUDIOTEXT_DEBUG"):
                raise
            raise typer.Exit(
                _fail(_one_line(exc), 2 if isinstance(exc, UsageError) else 1)
            ) from None


def _fail(message: str, code: int) -> int:
    _output.error(message)
    return code


def _one_line(exc: BaseException | str) -> str:
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
    rich_markup_mode="markdown",
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
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8: print, escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


# Modules of `audiotext_cli.cli`, in the order `--help` lists them; each has `register(app)`.
COMMANDS = (
    "info",
    "data",
    "embed",
    "index",
    "train",
    "distill",
    "eval",
    "search",
    "serve",
    "prolap",
    "compare",
    "zeroshot",
    "docs",
    "library",
)


def _register() -> None:
    for name in COMMANDS:
        importlib.import_module(f"audiotext_cli.cli.{name}").register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
