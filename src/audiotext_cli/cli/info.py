"""`audiotext info`: one row per file, saying what it is or why it cannot be used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import FormatOpt, JsonOpt, output_format
from audiotext_cli.errors import AudioError

_COLUMNS = ("path", "duration_s", "rate", "channels", "format", "status")
_FIELDS = ("duration", "sample_rate", "channels", "frames", "format", "subtype", "size_bytes")


def register(app: typer.Typer) -> None:
    """Add `info` to the top-level app."""
    app.command("info")(info)


def info(
    paths: list[Path] = typer.Argument(
        None, help="Audio files or folders (a folder lists every regular file in it)."
    ),
    model: Path = typer.Option(
        None,
        "--model",
        help="Describe this checkpoint instead: towers, sizes, weights hash, licences.",
    ),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if any file is unusable."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    header_only: bool = typer.Option(
        False,
        "--header-only",
        help="Read headers only: fast, but misses NaN, silence and truncated FLAC/MP3.",
    ),
) -> None:
    """Describe audio files (duration, rate, channels, format) and flag broken ones.

    Each file is decoded once, catching truncation, NaN/inf samples and silence.
    Bad files are rows, not failures; --strict makes them fail the command.
    """
    from audiotext_cli.audio.io import probe, verify

    fmt = output_format(fmt, json_out)
    if model is not None:
        card = model_card(model)
        _output.emit(fmt, card, _output.Table(("field", "value"), list(card.items())))
        return
    if not paths:
        raise typer.BadParameter("give audio files or folders, or --model CKPT", param_hint="PATHS")
    check = probe if header_only else verify
    files = _expand(paths, recursive)
    rows = []
    with _output.progress(transient=True) as bar:
        task = bar.add_task("checking", total=len(files))
        for path in files:
            rows.append(_row(path, check))
            bar.advance(task)
    bad = sum(not r["ok"] for r in rows)
    _output.emit(fmt, rows, _output.Table(_COLUMNS, [_table_row(r) for r in rows]), records=rows)
    if bad:
        _output.info(f"{bad} of {len(rows)} files unusable")
    if strict and bad:
        raise typer.Exit(1)


def model_card(path: Path) -> dict[str, Any]:
    """What a checkpoint is made of, and whose work it builds on (licences, attribution)."""
    from audiotext_cli.models.checkpoint import model_config_of, read_config
    from audiotext_cli.models.inference import model_id_of
    from audiotext_cli.text.minilm import ATTRIBUTION as TEXT_ATTRIBUTION

    root, meta = read_config(path)
    cfg = model_config_of(meta)
    card: dict[str, Any] = {
        "checkpoint": str(root),
        "name": cfg.name,
        "model_id": model_id_of(cfg.name, meta),
        "weights_sha256": meta["weights_sha256"],
        "audio_tower": cfg.audio_tower,
        "sample_rate": cfg.sample_rate,
        "embed_dim": cfg.embed_dim,
        "probabilistic": cfg.probabilistic,
        "text_tower": TEXT_ATTRIBUTION,
    }
    if cfg.audio_tower == "aisfx":
        from audiotext_cli.models.sfx_weights import AISFX_SHA256, ATTRIBUTION

        card |= {"audio_tower_weights_sha256": AISFX_SHA256, "audio_tower_source": ATTRIBUTION}
        card["audio_tower_trainable"] = cfg.tower_trainable  # fine-tuned blocks: in this checkpoint
    else:
        card["audio_tower_source"] = "trained from scratch by audiotext (this checkpoint)"
    return card


def _expand(paths: list[Path], recursive: bool) -> list[Path]:
    """Folders become their entries (sorted): regular files, and anything that is neither a
    file nor a plain sub-folder (FIFOs, dangling links, symlink loops, folders named like
    audio), so those show up as error rows; missing paths stay too."""
    from audiotext_cli.index.folder import named_like_audio

    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        entries = sorted(path.rglob("*") if recursive else path.iterdir())
        files += [p for p in entries if not p.is_dir() or named_like_audio(p.name)]
        skipped = 0 if recursive else sum(p.is_dir() for p in entries)
        if skipped:
            _output.info(f"{path}: skipped {skipped} sub-folder(s); use -r to include them")
    return files


def _row(path: Path, check: Any) -> dict[str, Any]:
    try:
        meta = check(path)
    except AudioError as exc:
        return {"path": str(path), "ok": False, "error": exc.reason}
    return {"path": str(path), "ok": True, "error": None} | {k: getattr(meta, k) for k in _FIELDS}


def _table_row(row: dict[str, Any]) -> list[Any]:
    if not row["ok"]:
        return [row["path"], None, None, None, None, f"error: {row['error']}"]
    return [
        row["path"],
        round(row["duration"], 3),
        row["sample_rate"],
        row["channels"],
        f"{row['format']}/{row['subtype']}",
        "ok",
    ]
