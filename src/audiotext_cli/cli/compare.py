"""`audiotext compare-spaces`: NNGS, CKA family, mutual kNN and CKNNA between two spaces."""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    FormatOpt,
    JsonOpt,
    ManifestOpt,
    ModelOpt,
    checked,
    output_format,
)
from audiotext_cli.errors import ConfigError
from audiotext_cli.paths import home

_ALL = "nngs,cka,cka_debiased,rbf_cka,mutual_knn,cknna"
_COLUMNS = ("metric", "k", "value", "chance H(k)", "chance exact", "normalised")


class KnnMetric(StrEnum):
    cosine = "cosine"
    euclidean = "euclidean"


def _metrics(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in _ALL.split(",")]
    if unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; choose from {_ALL}")
    return names


def register(app: typer.Typer) -> None:
    """Add `compare-spaces` to the top-level app."""
    app.command("compare-spaces")(compare_spaces)


def compare_spaces(
    a: Path | None = typer.Argument(
        None, help="Space A: .npy, .safetensors or an embedding-store folder."
    ),
    b: Path | None = typer.Argument(None, help="Space B, row-aligned with A or matched by id."),
    model: ModelOpt = None,
    manifest: ManifestOpt = None,
    k: list[str] = typer.Option(
        ["10"], "-k", "--k", help="Neighbours: an int count or a fraction of n (repeatable)."
    ),
    metric: KnnMetric = typer.Option(
        KnnMetric.cosine, "--metric", help="Neighbour metric for NNGS and mutual kNN."
    ),
    metrics: str = typer.Option(
        _ALL,
        "--metrics",
        help=f"Comma-separated metrics to compute [default: {_ALL.replace(',', ', ')}].",
        show_default=False,
        callback=checked(_metrics),
    ),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    per_item: Path | None = typer.Option(
        None, "--per-item", help="Write per-item NNGS (one column per k) to this CSV."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write a PNG: NNGS vs k with chance, and per-item histograms."
    ),
) -> None:
    """Compare two embedding spaces of the same items (e.g. audio vs text).

    Rows are matched by id (`<stem>.ids.txt` sidecars, store ids), else by position.
    --model embeds the clips and level-4 captions of --manifest as A (audio) and B (text).

    NNGS: mean Jaccard overlap of each item's k-NN sets in the two spaces,
    shown with its chance level H(k) = k/(2(n-1)-k), the exact expectation,
    and the normalised score (NNGS - H)/(1 - H).

    CKA: linear (biased, debiased) and RBF (median bandwidth).
    Mutual kNN and CKNNA follow platonic-rep.
    """
    from audiotext_cli.metrics import compare_spaces as run
    from audiotext_cli.metrics.spaces import align, load_space, spaces_from_model

    fmt = output_format(fmt, json_out)
    names = _metrics(metrics)
    ks = [_parse_k(spec) for spec in k]
    if model is not None or manifest is not None:
        if model is None or a is not None or b is not None:
            raise typer.BadParameter("use either A B, or --model CKPT [--manifest M] (not both)")
        ids, A, B = spaces_from_model(model, manifest or home() / "corpus" / "eval.jsonl")
        ids, A, B = align(ids, A, ids, B, names=("audio", "text"))
    elif a is None or b is None:
        raise typer.BadParameter("give two spaces A B, or --model CKPT --manifest M")
    else:
        ids_a, A = load_space(a)
        ids_b, B = load_space(b)
        ids, A, B = align(ids_a, A, ids_b, B, names=(str(a), str(b)))

    result = run(A, B, ks, metric.value, names, curve_points=24 if plot else 0, log=_output.info)
    items = result.pop("per_item", {})
    if per_item is not None:
        _write_per_item(per_item, ids, items)
    if plot is not None:
        _plot(plot, result, items)
    _output.emit(fmt, result, _output.Table(_COLUMNS, list(_rows(result)), _title(result)))


def _parse_k(spec: str) -> int | float:
    try:
        return int(spec)
    except ValueError:
        pass
    try:
        return float(spec)
    except ValueError:
        raise typer.BadParameter(f"k must be an int or a fraction, got {spec!r}") from None


def _title(result: dict) -> str:
    return (
        f"n={result['n']}, d={result['dim_a']} vs {result['dim_b']}, neighbours: {result['metric']}"
    )


def _rows(result: dict):
    for row in result["per_k"]:
        if "nngs" in row:
            yield (
                "nngs",
                row["k"],
                row["nngs"],
                row["chance"],
                row["chance_exact"],
                row["nngs_normalised"],
            )
        for name in ("mutual_knn", "cknna"):
            if name in row:
                yield name, row["k"], row[name], None, None, None
    for name, value in result["global"].items():
        yield name, None, value, None, None, None


def _write_per_item(path: Path, ids: list[str], items: dict) -> None:
    from audiotext_cli.atomic import write_text_atomic

    ks = sorted(items)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", *(f"nngs@{k}" for k in ks)])
    for row, item in enumerate(ids):
        writer.writerow([item, *(f"{items[k][row]:.6g}" for k in ks)])
    write_text_atomic(path, buf.getvalue())
    _output.info(f"per-item NNGS for k={', '.join(map(str, ks))} -> {path}")


def _plot(path: Path, result: dict, items: dict) -> None:
    """NNGS vs k (log k) with both chance curves, and per-item NNGS histograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiotext_cli.atomic import write_atomic

    curve = result.get("curve", [])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    ks = [c["k"] for c in curve]
    left.plot(ks, [c["nngs"] for c in curve], marker="o", ms=3, label="NNGS")
    left.plot(ks, [c["chance"] for c in curve], ls="--", label="chance H(k)")
    left.plot(ks, [c["chance_exact"] for c in curve], ls=":", label="chance (exact)")
    left.set(xscale="log", xlabel="k", ylabel="NNGS", ylim=(0, 1), title=_title(result))
    left.legend()
    for k, values in sorted(items.items()):
        right.hist(values, bins=min(50, k + 1), range=(0, 1), alpha=0.5, label=f"k={k}")
    right.set(xlabel="per-item NNGS (Jaccard)", ylabel="items", title="per-item NNGS")
    if items:
        right.legend()
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
    _output.info(f"plot -> {path}")
