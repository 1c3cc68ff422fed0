"""Zero-shot leakage table (REFERENCE.md section 3) over several seeds, as markdown.

For each seed: train a baseline on CORPUS/train.jsonl with the preset, then run
`audiotext_cli.train.leakage.leakage_analysis` on it (retrain with the evaluation class
words stripped, random heads, audio-CNN probes, MiniLM alone) on CORPUS/eval.jsonl.
Reported per condition: mean ± sd across seeds, and a 95% t-interval of the mean
balanced accuracy. Runs resume from --work, so an interrupted run picks up where it was.

    HF_HUB_OFFLINE=1 .venv/bin/python experiments/leakage.py --corpus ~/.cache/audiotext/corpus \\
        --seeds 3 --epochs 12 --preset demo --work runs/leakage [--level 3] \\
        [--results docs/results.md]
"""

from __future__ import annotations

import argparse
import json

import _seeded
import numpy as np
from scipy import stats

from audiotext_cli.models import load_preset
from audiotext_cli.reporting import command_line, machine, markdown_table, write_section
from audiotext_cli.train.leakage import CONDITIONS, leakage_analysis, retrain


def t_interval(values: list[float]) -> str:
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return "n/a (1 seed)"
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return f"[{v.mean() - half:.3f}, {v.mean() + half:.3f}]"


def run_seed(args: argparse.Namespace, seed: int, data: dict) -> dict:
    """Train (or reuse) the seed's baseline, then the leakage analysis on it."""
    work = args.work / f"seed-{seed}"
    model_cfg, train_cfg = load_preset(args.preset)
    train_cfg.seed, train_cfg.epochs = seed, args.epochs
    baseline = retrain(
        data["train"], data["val"], work / "baseline", model_cfg, train_cfg, args.device
    )
    result = leakage_analysis(
        baseline,
        data["train"],
        data["val"],
        data["eval"],
        work / "leakage",
        levels=args.level,
        retrain_preset=args.preset,
        epochs=args.epochs,
        n_boot=args.bootstrap,
        device=args.device,
        log=print,
    )
    (work / "leakage.json").write_text(json.dumps(result, indent=2, default=float))
    return result


def table(results: list[dict], level: str) -> str:
    blocks = [r["levels"][level] for r in results]
    rows = []
    for key, label in CONDITIONS.items():
        conds = [b["conditions"][key] for b in blocks]
        bal = [c["balanced_accuracy"] for c in conds]
        rows.append(
            [
                label,
                _seeded.mean_sd([c["accuracy"] for c in conds]),
                _seeded.mean_sd(bal),
                t_interval(bal),
                _seeded.mean_sd([c["share"] for c in conds]),
            ]
        )
    b = blocks[0]
    rows.append(
        ["chance (majority / uniform)", f"{b['majority']:.3f}", f"{b['chance']:.3f}", "", "0"]
    )
    head = (
        f"Level {level}: {b['n_classes']} classes, {results[0]['n_eval']} evaluation clips, "
        f"{len(results)} seed(s); mean ± sd across seeds."
    )
    cols = ["condition", "accuracy", "balanced accuracy", "95% CI (seeds)", "share of trained"]
    return head + "\n\n" + markdown_table(cols, rows)


def main() -> None:
    parser = _seeded.parser(__doc__, "runs/leakage")
    parser.add_argument("--level", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--bootstrap", type=int, default=200)
    args = parser.parse_args()
    data, results = _seeded.run_seeds(args, run_seed)
    words = ", ".join(results[0]["stripped_words"])
    body = "\n\n".join(
        [
            f"## Zero-shot leakage ({args.preset}, {args.epochs} epochs)",
            f"Class words stripped from training captions: {words}.",
        ]
        + [table(results, lv) for lv in results[0]["levels"]]
        + [f"Command: `{command_line()}`  \nMachine: {machine()}"]
    )
    print(body)
    if args.results:
        name = "leakage" if args.preset == "demo" else f"leakage_{args.preset}"
        write_section(args.results, name, body, "# Results\n")


if __name__ == "__main__":
    main()
