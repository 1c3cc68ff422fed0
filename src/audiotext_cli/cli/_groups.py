"""Command groups shared by several command modules (e.g. `embed folder` and `embed docs`)."""

from __future__ import annotations

import typer

_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}

data_app = typer.Typer(
    help="Build and check corpora.", no_args_is_help=True, context_settings=_SETTINGS
)
embed_app = typer.Typer(
    help="Embed audio folders, caption lists or documents.",
    no_args_is_help=True,
    context_settings=_SETTINGS,
)
index_app = typer.Typer(
    help="Build, extend, merge and describe FAISS indexes.",
    no_args_is_help=True,
    context_settings=_SETTINGS,
)


def attach(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
    app.add_typer(embed_app, name="embed")
    app.add_typer(index_app, name="index")
