"""`audiotext traverse`, `traverse-eval`, `uncertainty`, `inclusion-stats`: ProLAP analyses."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    DeviceOpt,
    FormatOpt,
    ItemKind,
    JsonOpt,
    ManifestOpt,
    RootMode,
    output_format,
)
from audiotext_cli.paths import home

_CKPT = typer.Argument(..., help="Checkpoint folder (e.g. RUN/best).")
_ROOT_HELP = (
    "Traversal end point: empty (embedding of the empty caption), inclusion (caption that "
    "best includes the input; probabilistic models) or inclusion+empty (their normalised sum)."
)


def _eval_manifest(manifest: Path | None) -> Path:
    return manifest or home() / "corpus" / "eval.jsonl"


def _gallery(path: Path | None) -> list[str]:
    """Caption strings: a .txt (one per line) or every caption of a manifest."""
    path = _eval_manifest(path)
    if path.suffix == ".txt":
        from audiotext_cli.errors import ConfigError

        texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        texts = list(dict.fromkeys(t for t in texts if t))
        if not texts:
            raise ConfigError("caption list is empty", path)
        return texts
    from audiotext_cli.data.manifest import read_manifest

    records = read_manifest(path, check_audio=False)
    return list(dict.fromkeys(c["text"] for r in records for c in r.captions))


def traverse_command(
    checkpoint: Path = _CKPT,
    audio: Path = typer.Option(None, "--audio", "-a", help="Start from this audio file."),
    text: str = typer.Option(None, "--text", "-t", help="Start from this caption."),
    gallery: Path = typer.Option(
        None,
        "--gallery",
        "-g",
        help="Captions to retrieve from: a manifest (all its captions, every level and "
        "paraphrase) or a .txt, one caption per line "
        "(default: corpus/eval.jsonl under $AUDIOTEXT_HOME).",
    ),
    steps: int = typer.Option(50, "--steps", min=1, help="Number of queries from start to root."),
    root: RootMode = typer.Option(RootMode.empty, "--root", help=_ROOT_HELP),
    png: Path = typer.Option(None, "--png", help="Also save a plot of the path here."),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """Walk from an audio clip (or a caption) towards the most general text, the empty
    caption, printing the caption retrieved at each step (consecutive repeats collapsed)."""
    if (audio is None) == (text is None):
        raise typer.BadParameter(
            "give exactly one of --audio and --text", param_hint="--audio/--text"
        )
    from audiotext_cli.models import load_embedder
    from audiotext_cli.prolap.traverse import (
        collapse,
        plot_traversal,
        traverse_from_audio,
        traverse_from_text,
    )

    fmt = output_format(fmt, json_out)
    root = root.value
    texts = _gallery(gallery)
    embedder = load_embedder(checkpoint, device)
    if audio is not None:
        from audiotext_cli.audio.io import load_audio

        wave = load_audio(audio, embedder.sample_rate)
        path = traverse_from_audio(embedder, wave, texts, steps, root)
    else:
        path = traverse_from_text(embedder, text, texts, steps, root)
    title = f"{embedder.model_id}: {audio.name if audio else repr(text)} -> root ({root})"
    if png is not None:
        _output.info(f"plot: {plot_traversal(path, png, title)}")
    doc = {
        "start": str(audio) if audio else text,
        "root": root,
        "gallery_size": len(texts),
        "steps": path,
    }
    rows = [(s.step, s.alpha, s.text, s.score, n) for s, n in collapse(path)]
    _output.emit(
        fmt, doc, _output.Table(["step", "alpha", "caption", "score", "steps"], rows, title)
    )


def traverse_eval_command(
    checkpoint: Path = _CKPT,
    manifest: ManifestOpt = None,
    steps: int = typer.Option(50, "--steps", min=1, help="Number of queries from start to root."),
    root: RootMode = typer.Option(RootMode.empty, "--root", help=_ROOT_HELP),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """Audio traversal benchmark: precision, recall and per-level recall of each clip's
    4-level caption chain along its path (x100; HierarCaps protocol)."""
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.evaluate.run import embed_records
    from audiotext_cli.models import load_embedder
    from audiotext_cli.prolap.traverse import evaluate_traversal

    fmt, root = output_format(fmt, json_out), root.value
    manifest = _eval_manifest(manifest)
    records = read_manifest(manifest)
    embedder = load_embedder(checkpoint, device)
    with _output.progress(transient=True) as bar:
        task = bar.add_task("embedding audio", total=len(records))
        audio = embed_records(embedder, records, progress=lambda k: bar.advance(task, k))
    result = evaluate_traversal(embedder, records, steps, root, audio=audio)
    result["checkpoint"], result["manifest"] = str(checkpoint), str(manifest)
    rows = [("precision", result["precision"]), ("recall", result["recall"])]
    rows += [(f"recall level {i + 1}", v) for i, v in enumerate(result["per_level_recall"])]
    rows += [
        ("any-recall", result["any_recall"]),
        ("distinct captions per path", result["mean_path_length"]),
    ]
    title = (
        f"{embedder.model_id} on {manifest.name} ({len(records)} clips, "
        f"{result['n_gallery']} captions, {steps} steps, root={root})"
    )
    _output.emit(fmt, result, _output.Table(["traversal metric (x100)", "value"], rows, title))


def uncertainty_command(
    checkpoint: Path = _CKPT,
    manifest: ManifestOpt = None,
    store: Path = typer.Option(
        None,
        "--store",
        help="Rank an embedding store made by this checkpoint instead "
        "(from embed folder / embed captions).",
    ),
    kind: ItemKind = typer.Option(ItemKind.both, "--kind", help="What to rank (manifest only)."),
    top: int = typer.Option(10, "--top", min=1, help="How many to list at each end."),
    png: Path = typer.Option(
        None, "--png", help="Also save a box plot of caption variance by level here (manifest)."
    ),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """The clips and captions a probabilistic model is most and least certain of (total
    variance = sum of the per-dimension variances)."""
    fmt = output_format(fmt, json_out)
    if manifest is not None and store is not None:
        raise typer.BadParameter(
            "give --manifest or --store, not both", param_hint="--manifest/--store"
        )
    if png is not None and (store is not None or kind is ItemKind.audio):
        raise typer.BadParameter(
            "--png plots captions by level: it needs a manifest and --kind text or both",
            param_hint="--png",
        )
    from audiotext_cli.models import load_embedder
    from audiotext_cli.prolap.uncertainty import (
        check_probabilistic,
        manifest_items,
        store_items,
        uncertainty_report,
    )

    embedder = load_embedder(checkpoint, device)
    check_probabilistic(embedder)
    items = {}
    if store is not None:
        store_kind, labels, emb = store_items(store, embedder)
        items[store_kind] = (labels, emb)
    else:
        from audiotext_cli.data.manifest import read_manifest

        records = read_manifest(_eval_manifest(manifest))
        for k in ("audio", "text") if kind is ItemKind.both else (kind.value,):
            items[k] = manifest_items(embedder, records, k)
    result = {"model_id": embedder.model_id}
    result |= {k: uncertainty_report(labels, emb.logvar, top) for k, (labels, emb) in items.items()}
    if png is not None:
        from audiotext_cli.prolap.uncertainty import plot_variance_by_level, variance_by_level

        texts, emb = items["text"]
        groups = variance_by_level(records, texts, emb.logvar)
        result["text"]["distinct_caption_variance_per_level"] = {
            str(lv): float(v.mean()) for lv, v in groups.items() if len(v)
        }
        title = f"{embedder.model_id}: caption variance by level"
        _output.info(f"plot: {plot_variance_by_level(groups, png, title)}")
    tables = []
    for k, (labels, _) in items.items():
        rep = result[k]
        rows = [("most certain", r["id"], r["total_variance"]) for r in rep["most_certain"]]
        rows += [("least certain", r["id"], r["total_variance"]) for r in rep["least_certain"]]
        title = f"{k}: {len(labels)} items, mean total variance {rep['mean_total_variance']:.4g}"
        tables.append(_output.Table(["end", "id", "total variance"], rows, title, key={"kind": k}))
    _output.emit(fmt, result, tables)


def inclusion_stats_command(
    checkpoint: Path = _CKPT,
    manifest: ManifestOpt = None,
    masks: int = typer.Option(
        1, "--masks", min=1, help="Random masks drawn per caption and per audio window."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the masks."),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """Whether a probabilistic model learned its inclusions: full ⊂ masked (text, audio),
    audio ⊂ caption per level, and uncertainty against caption length and level."""
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.models import load_embedder
    from audiotext_cli.prolap.inclusion_stats import inclusion_statistics

    fmt = output_format(fmt, json_out)
    records = read_manifest(_eval_manifest(manifest))
    embedder = load_embedder(checkpoint, device)
    result = inclusion_statistics(embedder, records, masks, seed)
    text, audio = result["text_in_masked"], result["audio_in_masked"]
    rows = [
        (f"% captions ⊂ word-masked caption ({text['pairs']} pairs)", text["full_in_masked_pct"]),
        ("  control: % ⊂ another caption's masked version", text["random_pair_pct"]),
        (
            f"% audio inputs ⊂ masked input ({audio['pairs']} pairs)",
            audio["full_in_masked_pct"],
        ),
        ("  control: % ⊂ another clip's masked input", audio["random_pair_pct"]),
    ]
    rows += [
        (f"% audio ⊂ its level-{lv} caption", v) for lv, v in result["audio_in_caption_pct"].items()
    ]
    rows += [
        ("Spearman(caption level, total variance)", result["spearman_level_vs_variance"]),
        ("Spearman(caption words, total variance)", result["spearman_length_vs_variance"]),
        ("Spearman(audio mask ratio, total variance)", audio["spearman_mask_ratio_vs_variance"]),
    ]
    rows += [
        (f"mean total variance, level-{lv} captions", v)
        for lv, v in result["mean_total_variance_per_level"].items()
    ]
    rows += [("mean total variance, audio clips", result["mean_total_variance_audio"])]
    title = f"{embedder.model_id}: {result['n_clips']} clips, {result['n_captions']} captions"
    _output.emit(fmt, result, _output.Table(["statistic", "value"], rows, title))


def register(app: typer.Typer) -> None:
    app.command("traverse")(traverse_command)
    app.command("traverse-eval")(traverse_eval_command)
    app.command("uncertainty")(uncertainty_command)
    app.command("inclusion-stats")(inclusion_stats_command)
