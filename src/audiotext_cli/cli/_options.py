"""What command modules share in their signatures: the sub-group factory (and, later, the
option aliases), declared once so every command spells them the same way."""

from __future__ import annotations

import typer

SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


def group(help: str) -> typer.Typer:
    """A command group (`data`, `embed`, `index`) with the top-level app's settings."""
    return typer.Typer(help=help, no_args_is_help=True, context_settings=SETTINGS)
