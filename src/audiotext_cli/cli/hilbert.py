"""HILBERT document commands: `data build-docs`, `embed docs` and `eval-docs`."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._groups import data_app, embed_app

AUDIO_HELP = "Audio segment encoders, comma-separated: oww (openWakeWord), prosody."


def build_docs(
    out: Path = typer.Option(None, "--out", help="Corpus folder [default: <home>/corpora/...]."),
    size: str = typer.Option("default", "--size", help="small (24 docs) | default (480 docs)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every per-document draw."),
    workers: int = typer.Option(2, "--workers", min=1, help="Rendering processes."),
) -> None:
    """Render the "fortune interviews" corpus: espeak-ng monologues of Debian fortunes."""
    import time

    from audiotext_cli import paths
    from audiotext_cli.errors import ConfigError
    from audiotext_cli.hilbert.docs_corpus import SIZES, build_docs

    if size not in SIZES:
        raise ConfigError(f"--size must be one of {', '.join(SIZES)}")
    n_docs, seg_range = SIZES[size]
    out = out or paths.home() / "corpora" / f"fortune-interviews-{size}-s{seed}"
    start = time.perf_counter()
    with _output.progress() as bar:
        task = bar.add_task("rendering documents", total=n_docs)
        build_docs(out, n_docs, seg_range, seed, workers, on_done=lambda _: bar.advance(task))
    _output.info(f"{out}: {n_docs} documents in {time.perf_counter() - start:.1f} s")
    typer.echo(str(out))


def eval_docs(
    source: Path = typer.Argument(..., help="Corpus folder, recordings folder or features .npz."),
    folds: int = typer.Option(5, "--folds", min=2, help="Stratified folds (the paper uses 25)."),
    shuffles: int = typer.Option(3, "--shuffles", min=1, help="Repeats with other fold splits."),
    label: str = typer.Option(
        "binary", "--label", help="binary | multiclass | a labels.csv column."
    ),
    ablation: list[str] = typer.Option(
        ["full"], "--ablation", help="Variant(s) to score; 'all' = the ablation table."
    ),
    epochs: int = typer.Option(10, "--epochs", min=1, help="Training epochs per fold."),
    audio: str = typer.Option("oww,prosody", "--audio", help=AUDIO_HELP),
    audio_checkpoint: Path = typer.Option(
        None, "--audio-checkpoint", help="Add our trained audio encoder as a segment encoder."
    ),
    vad: str = typer.Option("silero", "--vad", help="silero | energy, for untranscribed audio."),
    save_features: Path = typer.Option(None, "--save-features", help="Also write features .npz."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
) -> None:
    """Cross-validated AUC (mean +- sd over shuffles) of HILBERT and its ablations."""
    from audiotext_cli.hilbert.crossval import ABLATION, cross_validate
    from audiotext_cli.hilbert.features import features_for
    from audiotext_cli.hilbert.train import FitConfig, pick_label

    with _output.progress() as bar:
        task = bar.add_task("segment features (cached)", total=None)
        feats = features_for(
            source, tuple(audio.split(",")), audio_checkpoint, vad, lambda _: bar.advance(task)
        )
    if save_features:
        feats.save(save_features)
    y = pick_label(feats, label)
    variants = list(ABLATION) if "all" in ablation else ablation
    results = []
    with _output.progress() as bar:
        task = bar.add_task("folds", total=len(variants) * folds * shuffles)
        for variant in variants:
            results.append(
                cross_validate(
                    feats,
                    y,
                    variant,
                    folds,
                    shuffles,
                    seed,
                    FitConfig(epochs=epochs),
                    on_fold=lambda: bar.advance(task),
                )
            )
    if as_json:
        _output.print_json({"source": source, "label": label, "results": results})
        return
    _output.print_table(
        ("variant", "AUC mean", "AUC sd", "folds x shuffles", "seconds"),
        [
            (r["variant"], r["auc_mean"], r["auc_sd"], f"{folds}x{shuffles}", r["seconds"])
            for r in results
        ],
        title=f"{source} ({label}, {results[0]['documents']} documents)",
    )


def embed_docs(
    source: Path = typer.Argument(..., help="Corpus folder, recordings folder or features .npz."),
    model: Path = typer.Option(..., "--model", help="HILBERT checkpoint folder."),
    out: Path = typer.Option(..., "--out", help="Output folder: joint/, audio/, text/ stores."),
    device: str = typer.Option("cpu", "--device"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write document embeddings (z_joint, z_audio, z_text) as embedding stores."""
    from audiotext_cli.hilbert.embed import embed_documents

    info = embed_documents(source, model, out, device)
    if as_json:
        _output.print_json(info)
        return
    _output.print_table(
        ("space", "store"),
        info["stores"].items(),
        title=f"{info['documents']} documents, dim {info['dim']}",
    )


def register(app: typer.Typer) -> None:
    """`data build-docs`, `embed docs` and the top-level `eval-docs`."""
    data_app.command("build-docs")(build_docs)
    embed_app.command("docs")(embed_docs)
    app.command("eval-docs")(eval_docs)
