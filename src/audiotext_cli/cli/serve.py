"""`audiotext serve`: the local web page and JSON API over one index (docs/serve.md)."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import typer

from audiotext_cli.cli import _output


def serve_cmd(
    index: Path = typer.Argument(..., help="Index folder (from `index build`)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port (0: any free one)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in a browser."),
    allow_remote: bool = typer.Option(
        False,
        "--allow-remote",
        help="Allow a non-loopback --host (then every request needs a token).",
    ),
    max_upload_mb: float = typer.Option(50.0, "--max-upload-mb", min=0.001),
    max_upload_seconds: float = typer.Option(120.0, "--max-upload-seconds", min=0.1),
) -> None:
    """Serve a search page for INDEX: by words, by example, with waveforms and playback.

    Read-only; serves only files that are rows of the index. Binds 127.0.0.1 unless
    --allow-remote, which prints a token that every request must carry.
    """
    import uvicorn

    from audiotext_cli.serve import Limits, create_app
    from audiotext_cli.serve.guard import LOOPBACK_NAMES, is_loopback, new_token

    loopback = is_loopback(host)
    if not loopback and not allow_remote:
        raise typer.BadParameter(
            f"{host} is not a loopback address; add --allow-remote to serve the network "
            "(a token is then required)",
            param_hint="--host",
        )
    token = None if loopback else new_token()
    limits = Limits(int(max_upload_mb * 1e6), max_upload_seconds)
    app = create_app(index, token=token, hosts=(*LOOPBACK_NAMES, host), limits=limits)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host

    def announce() -> None:  # once the socket is bound, so port 0 shows the real port
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1] if port == 0 else port
        url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
        _output.info(f"serving {len(app.state.catalog.index)} sounds from {index} at {url}")
        if token:
            _output.info(
                f"token (send as ?token=, Authorization: Bearer or X-Audiotext-Token): {token}"
            )
        _output.info("press Ctrl+C to stop")
        if open_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
