"""Does audio-text space similarity predict zero-shot accuracy? (issue 8, NNGS paper's case study)

    python experiments/case_study.py [--runs $AUDIOTEXT_HOME/results-runs] [--level 3] [--k 10]

For every run under RUNS (its best/ checkpoint: seeds, losses, lengths of training), on the
cross-source evaluation split: space A = audio embeddings, space B = the
embeddings of each clip's own specific (level-4) caption, paired row by row. We measure how
alike A and B are (NNGS at k, linear CKA, RBF CKA) and correlate that, across checkpoints,
with zero-shot accuracy (Pearson and Spearman), as the NNGS paper does for CLIP.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

from audiotext_cli.data.manifest import captions_at, read_manifest
from audiotext_cli.paths import home
from audiotext_cli.reporting import command_line, machine, markdown_table, write_section

DOC = Path(__file__).resolve().parent.parent / "docs" / "results.md"
HEADER = "# Results\n\nEach section is written by the script it names; never edited by hand.\n"


def measure(checkpoint: Path, records, level: int, k: int) -> dict:
    from audiotext_cli.evaluate.run import embed_records, evaluate
    from audiotext_cli.metrics import linear_cka, nngs, rbf_cka
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(checkpoint)
    audio = embed_records(embedder, records)
    text = embedder.embed_texts([captions_at(r, 4)[0] for r in records]).mean
    scores = evaluate(embedder, records, audio=audio)
    return {
        "checkpoint": str(checkpoint),
        "nngs": nngs(audio.mean, text, k, "cosine"),
        "linear_cka": linear_cka(audio.mean, text),
        "rbf_cka": rbf_cka(audio.mean, text),
        "zs_accuracy": scores["zeroshot"][str(level)]["accuracy"],
        "zs_balanced": scores["zeroshot"][str(level)]["balanced_accuracy"],
        "t2a_R@10": scores["text_to_audio"]["R@10"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=Path, default=home() / "results-runs")
    ap.add_argument("--manifest", type=Path, default=home() / "corpus" / "eval.jsonl")
    ap.add_argument("--level", type=int, default=3)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    records = read_manifest(args.manifest)
    checkpoints = sorted(p for p in args.runs.glob("*/best") if (p / "model.safetensors").is_file())
    cache = args.runs / f"case_study_L{args.level}_k{args.k}.json"
    done = json.loads(cache.read_text()) if cache.is_file() else {}
    for ckpt in checkpoints:
        if str(ckpt) not in done:
            print(f"measuring {ckpt}", flush=True)
            done[str(ckpt)] = measure(ckpt, records, args.level, args.k)
            cache.write_text(json.dumps(done, indent=2))
    rows = [done[str(c)] for c in checkpoints]
    acc = np.array([r["zs_accuracy"] for r in rows])
    table_rows = [
        [
            Path(r["checkpoint"]).parent.name + "/" + Path(r["checkpoint"]).name,
            f"{r['nngs']:.4f}",
            f"{r['linear_cka']:.3f}",
            f"{r['rbf_cka']:.3f}",
            f"{100 * r['zs_accuracy']:.1f}",
            f"{100 * r['t2a_R@10']:.1f}",
        ]
        for r in rows
    ]
    corr_rows = []
    for name in ("nngs", "linear_cka", "rbf_cka"):
        x = np.array([r[name] for r in rows])
        corr_rows.append([name, f"{pearsonr(x, acc)[0]:.3f}", f"{spearmanr(x, acc)[0]:.3f}"])
    body = (
        "## Case study: space similarity vs zero-shot accuracy (issue 8)\n\n"
        f"{len(rows)} checkpoints; audio vs own level-4 caption on {len(records)} held-out clips; "
        f"NNGS with cosine k={args.k}; zero-shot accuracy at label level {args.level}.\n\n"
        + markdown_table(
            ["checkpoint", "NNGS", "linear CKA", "RBF CKA", "ZS acc %", "t2a R@10 %"], table_rows
        )
        + "\n\nCorrelation with zero-shot accuracy across checkpoints:\n\n"
        + markdown_table(["similarity", "Pearson r", "Spearman rho"], corr_rows)
        + f"\n\nCommand: `{command_line()}`  \nMachine: {machine()}"
    )
    print(body)
    write_section(DOC, "case_study", body, HEADER)


if __name__ == "__main__":
    main()
