"""Unsupervised curation + soft labels (REFERENCE.md section 4) over several seeds, as markdown.

Per seed, CORPUS/train.jsonl is split at random into a labelled part and an "unlabelled"
part (--unlabelled share): the unlabelled clips lose their pairing, their audio becomes the
audio pool and their level-4 captions the text pool. Then:
1. baseline: trained on the labelled part;
2. baseline + more epochs: fine-tuned on the labelled part only (the control for the
   extra training steps the curated runs get);
3. + curated, hard labels: the baseline curates pairs (as `audiotext curate`, domain-
   specific by default, the downstream labels being the class paths of CORPUS/eval.jsonl)
   and is fine-tuned on labelled + curated pairs with --loss clip;
4. + curated, soft labels: the same with --loss soft-clip and the baseline as teacher.
Zero-shot accuracy is measured on CORPUS/eval.jsonl (the cross-source split). Curation
precision = share of curated pairs whose caption came from a clip of the same level-3 class.

    HF_HUB_OFFLINE=1 .venv/bin/python experiments/curation.py --corpus ~/.cache/audiotext/corpus \\
        --seeds 3 --epochs 12 --finetune-epochs 4 --preset demo --work runs/curation
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter
from pathlib import Path

import _seeded
import numpy as np

from audiotext_cli.curate import curate
from audiotext_cli.data.manifest import captions_at
from audiotext_cli.evaluate.perclass import zeroshot_report
from audiotext_cli.models import load_embedder, load_preset
from audiotext_cli.reporting import command_line, machine, markdown_table, write_section
from audiotext_cli.train.leakage import retrain

CONDITIONS = (
    "baseline",
    "baseline + more epochs",
    "+ curated, hard labels",
    "+ curated, soft labels",
)


def run_seed(args: argparse.Namespace, seed: int, data: dict) -> dict:
    work = args.work / f"seed-{seed}"
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data["train"]))
    n_unlab = int(round(args.unlabelled * len(order)))
    unlabelled = [data["train"][i] for i in order[:n_unlab]]
    labelled = [data["train"][i] for i in order[n_unlab:]]
    model_cfg, cfg = load_preset(args.preset)
    cfg.seed, cfg.epochs = seed, args.epochs
    baseline = retrain(labelled, data["val"], work / "baseline", model_cfg, cfg, args.device)

    texts = sorted({t for r in unlabelled for t in captions_at(r, 4)})
    source_class = {t: r.labels[2] for r in unlabelled for t in captions_at(r, 4)}
    labels = sorted({" / ".join(r.labels) for r in data["eval"]})
    teacher = load_embedder(baseline, args.device)
    cur = curate(
        teacher, [r.audio for r in unlabelled], texts, mode=args.mode, keep=args.keep, labels=labels
    )
    truth = {r.audio: r.labels[2] for r in unlabelled}
    precision = float(
        np.mean([source_class[r.captions[-1]["text"]] == truth[r.audio] for r in cur.records])
    )

    fine = dataclasses.replace(cfg, epochs=args.finetune_epochs, warmup_epochs=0.0)
    runs = {
        "baseline": baseline,
        "baseline + more epochs": _finetune(
            labelled, data, work / "more", model_cfg, fine, baseline, args
        ),
        "+ curated, hard labels": _finetune(
            labelled + cur.records,
            data,
            work / "hard",
            model_cfg,
            dataclasses.replace(fine, loss="clip"),
            baseline,
            args,
        ),
        "+ curated, soft labels": _finetune(
            labelled + cur.records,
            data,
            work / "soft",
            model_cfg,
            dataclasses.replace(fine, loss="soft-clip"),
            baseline,
            args,
            teacher=baseline,
        ),
    }
    scores = {}
    for name, ckpt in runs.items():
        report = zeroshot_report(load_embedder(ckpt, args.device), data["eval"], levels=args.level)
        scores[name] = {
            lv: (r["accuracy"], r["balanced_accuracy"]) for lv, r in report["levels"].items()
        }
        scores[name]["chance"] = {
            lv: (r["majority"], r["chance"]) for lv, r in report["levels"].items()
        }
    return {
        "scores": scores,
        "kept": len(cur.records),
        "pool": len(unlabelled),
        "precision": precision,
        "precision_chance": _precision_chance(unlabelled, source_class),
        "threshold": cur.threshold,
        "labelled": len(labelled),
    }


def _precision_chance(unlabelled, source_class: dict[str, str]) -> float:
    """Class precision of a random pairing: P(audio class = c) x P(caption class = c), summed."""
    audio = Counter(r.labels[2] for r in unlabelled)
    texts = Counter(source_class.values())
    n_audio, n_texts = sum(audio.values()), sum(texts.values())
    return sum(audio[c] / n_audio * texts[c] / n_texts for c in audio)


def _finetune(
    records, data, out: Path, model_cfg, cfg, init: Path, args, teacher: Path | None = None
) -> Path:
    from audiotext_cli.train.loop import train

    train(
        records,
        data["val"],
        out,
        model_cfg,
        cfg,
        resume=True,
        device=args.device,
        init_from=init,
        teacher=teacher,
    )
    return out / "best"


def main() -> None:
    parser = _seeded.parser(__doc__, "runs/curation")
    parser.add_argument("--finetune-epochs", type=int, default=4)
    parser.add_argument(
        "--unlabelled", type=float, default=0.5, help="share of train made unlabelled"
    )
    parser.add_argument("--mode", default="specific", choices=("specific", "unspecific"))
    parser.add_argument(
        "--keep", type=float, default=0.5, help="top fraction of audio kept (quantile rule)"
    )
    parser.add_argument("--level", type=int, nargs="+", default=[2, 3])
    args = parser.parse_args()
    data, results = _seeded.run_seeds(args, run_seed)
    parts = [
        f"## Curation and soft labels ({args.preset}, {args.epochs}+{args.finetune_epochs} epochs, "
        f"{args.mode} curation, keep {args.keep})"
    ]
    r0 = results[0]
    parts.append(
        f"{r0['labelled']} labelled clips, {r0['pool']} unlabelled; curated pairs kept "
        f"{np.mean([r['kept'] for r in results]):.0f}, "
        f"class precision {_seeded.mean_sd([r['precision'] for r in results])} (random pairing "
        f"{_seeded.mean_sd([r['precision_chance'] for r in results])}); {len(results)} seed(s), "
        f"zero-shot on {len(data['eval'])} evaluation clips, mean ± sd across seeds."
    )
    for lv in r0["scores"]["baseline"]["chance"]:
        rows = [
            [
                name,
                _seeded.mean_sd([r["scores"][name][lv][0] for r in results]),
                _seeded.mean_sd([r["scores"][name][lv][1] for r in results]),
            ]
            for name in CONDITIONS
        ]
        majority, uniform = r0["scores"]["baseline"]["chance"][lv]
        rows.append(["chance (majority / uniform)", f"{majority:.3f}", f"{uniform:.3f}"])
        parts.append(
            f"Level {lv}:\n\n" + markdown_table(["model", "accuracy", "balanced accuracy"], rows)
        )
    parts.append(f"Command: `{command_line()}`  \nMachine: {machine()}")
    body = "\n\n".join(parts)
    print(body)
    if args.results:
        name = "curation" if args.mode == "specific" else f"curation_{args.mode}"
        if args.preset != "demo":  # the CNN's sections stay beside the tower's
            name = f"{name}_{args.preset}"
        write_section(args.results, name, body, "# Results\n")


if __name__ == "__main__":
    main()
