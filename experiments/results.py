"""Regenerate the training tables of docs/results.md (issues 5 and 6): `make results`.

    python experiments/results.py [--seeds 0 1 2] [--epochs 10] [--ft-epochs 4]
                                  [--only baseline|ablation|all]
    python experiments/results.py --only student --student STUDENT [STUDENT ...]

Every run trains on the training sources, selects its epoch on the validation split carved
from them, and is scored once on the cross-source evaluation split. Runs are resumable: a
finished run (and its eval.json) is reused, a killed one continues from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.data.sources import soundfont
from audiotext_cli.embedder import Embeddings
from audiotext_cli.models.config import apply_overrides, load_preset
from audiotext_cli.paths import home
from audiotext_cli.reporting import command_line, machine, markdown_table, write_section
from audiotext_cli.train.loop import train

DOC = Path(__file__).resolve().parent.parent / "docs" / "results.md"
INCLUSION_STRIDE = 4
SOUNDFONTS = {source.name for source in soundfont.SOURCES}  # rendered notes, not recordings
HEADER = "# Results\n\nEach section is written by the script it names; never edited by hand.\n"


@dataclass
class Variant:
    name: str
    label: str
    preset: str
    overrides: list[str] = field(default_factory=list)
    init: str | None = None  # the variant whose run (same seed) this one starts from
    epochs: int | None = None  # fixed by the recipe, else --epochs / --ft-epochs


BASELINE = Variant("clap", "CLAP baseline (InfoNCE)", "demo")
BALANCED = Variant(
    "clap-demo",
    "CLAP as make demo trains it (sources by n^0.5, 30 epochs)",
    "demo",
    ["train.source_alpha=0.5"],
    epochs=30,
)
# Heads on the frozen pretrained aisfx tower (issue 16): `make demo`'s default recipe.
TOWER = Variant(
    "clap-aisfx", "CLAP heads on the frozen aisfx tower (InfoNCE)", "clap-aisfx", epochs=60
)
# ProLAP on the same features (issue 18), started from the InfoNCE heads as ProLAP starts
# from CLAP, and fine-tuned as long as an InfoNCE control. Sigmoid losses get the bias near
# -log(512) and the scale at 10 (REFERENCE section 8), positives by what the captions
# describe (docs/losses.md) and ProLIP's variance-head init (-10).
TOWER_FT = ["train.lr=5e-4", "train.warmup_epochs=0.5"]  # for --ft-epochs
SIGMOID = [
    "model.init_logit_bias=-6.2",
    "model.init_logit_scale=2.3026",
    "train.positives=described",
]
PROLAP_TOWER = [*TOWER_FT, *SIGMOID, "model.logvar_bias_init=-10"]
NO_INCLUSION = ["train.loss.inclusion.hier_weight=0", "train.loss.inclusion.cross_weight=0"]
TOWER_ABLATION = [
    TOWER,
    Variant(
        "clap-aisfx-ft", "InfoNCE, fine-tuned again (control)", "clap-aisfx", TOWER_FT, "clap-aisfx"
    ),
    Variant(
        "siglip-aisfx-ft",
        "SigLIP from the InfoNCE heads",
        "clap-aisfx",
        ["train.loss=siglip", *TOWER_FT, *SIGMOID],
        "clap-aisfx",
    ),
    Variant(
        "prolap-aisfx-ft",
        "ProLAP full from the InfoNCE heads",
        "prolap-aisfx",
        PROLAP_TOWER,
        "clap-aisfx",
    ),
    Variant(
        "prolap-aisfx-noinc",
        "ProLAP without inclusion",
        "prolap-aisfx",
        [*PROLAP_TOWER, *NO_INCLUSION],
        "clap-aisfx",
    ),
    Variant(
        "prolap-aisfx-norep",
        "ProLAP without mask repulsive",
        "prolap-aisfx",
        [*PROLAP_TOWER, "train.loss.repulsive.weight=0"],
        "clap-aisfx",
    ),
    Variant(
        "prolap-aisfx-repinc",
        "ProLAP, mask repulsive as negative inclusion",
        "prolap-aisfx",
        [*PROLAP_TOWER, "train.loss.repulsive.form=inclusion"],
        "clap-aisfx",
    ),
    Variant(
        "prolap-aisfx-novib",
        "ProLAP without VIB",
        "prolap-aisfx",
        [*PROLAP_TOWER, "train.loss.vib.weight=0"],
        "clap-aisfx",
    ),
]
FINETUNE = ["train.lr=5e-4", "train.warmup_epochs=0.5"]
ABLATION = [
    BASELINE,
    Variant("clap-ft", "CLAP + same extra epochs (control)", "demo", FINETUNE, "clap"),
    Variant(
        "prolap-noinc",
        "ProLAP without inclusion",
        "prolap-demo",
        [*FINETUNE, "train.loss.inclusion.hier_weight=0", "train.loss.inclusion.cross_weight=0"],
        "clap",
    ),
    Variant(
        "prolap-norep",
        "ProLAP without repulsive",
        "prolap-demo",
        [*FINETUNE, "train.loss.repulsive.weight=0"],
        "clap",
    ),
    Variant("prolap", "ProLAP full", "prolap-demo", FINETUNE, "clap"),
]


def run_variant(v: Variant, seed: int, args, data) -> dict | None:
    """The run's evaluation, training and scoring it first unless --report-only."""
    out = args.runs / f"{v.name}-s{seed}"
    scores = out / "eval.json"
    if scores.is_file():
        result = json.loads(scores.read_text())
        missing = {"recorded", "per_category"} - set(result)
        if missing and not args.report_only:  # runs scored before these existed
            from audiotext_cli.evaluate.run import embed_records, per_category_recall
            from audiotext_cli.models import load_embedder

            embedder = load_embedder(out / "best")
            audio = embed_records(embedder, data["eval"])
            result["recorded"] = score_recorded(embedder, data["eval"], audio)
            result["per_category"] = per_category_recall(embedder, data["eval"], audio)
            scores.write_text(json.dumps(result, indent=2))
        return result
    if args.report_only or v.name in args.skip:
        return None
    model_cfg, train_cfg = load_preset(v.preset)
    model_cfg, train_cfg = apply_overrides(model_cfg, train_cfg, v.overrides)
    train_cfg.seed = seed
    train_cfg.epochs = v.epochs or (args.ft_epochs if v.init else args.epochs)
    init = args.runs / f"{v.init}-s{seed}" / "best" if v.init else None
    print(f"== {v.name} seed {seed}: {train_cfg.epochs} epochs", flush=True)
    train(
        data["train"],
        data["val"],
        out,
        model_cfg,
        train_cfg,
        resume=True,
        init_from=init,
        on_step=_printer(v.name, seed),
    )
    result = score(out / "best", data["eval"], model_cfg.probabilistic)
    scores.write_text(json.dumps(result, indent=2))
    return result


def _printer(name: str, seed: int):
    def on_step(info: dict) -> None:
        if info["step"] % 50 == 0 or info["step"] == info["total"]:
            print(
                f"  {name} s{seed} step {info['step']}/{info['total']} loss {info['loss']:.4f} "
                f"{info['clips_per_s']:.0f} clips/s",
                flush=True,
            )

    return on_step


def score_recorded(embedder, records, audio: Embeddings | None = None) -> dict:
    """Retrieval and zero-shot on the recorded evaluation libraries alone (no rendered notes);
    `audio`, the embeddings of all `records` if already computed, is reused, not recomputed."""
    from audiotext_cli.evaluate.run import evaluate

    keep = [i for i, r in enumerate(records) if r.source not in SOUNDFONTS]
    if audio is not None:
        logvar = None if audio.logvar is None else audio.logvar[keep]
        audio = Embeddings(audio.mean[keep], logvar)
    return evaluate(embedder, [records[i] for i in keep], audio)


def score(checkpoint: Path, records, probabilistic: bool) -> dict:
    from audiotext_cli.evaluate.run import embed_records, evaluate, per_category_recall
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(checkpoint)
    audio = embed_records(embedder, records)
    result = evaluate(embedder, records, audio)
    result["recorded"] = score_recorded(embedder, records, audio)
    result["per_category"] = per_category_recall(embedder, records, audio)
    try:
        from audiotext_cli.prolap.traverse import evaluate_traversal

        result["traversal"] = evaluate_traversal(embedder, records, audio=audio)
    except ImportError:
        pass
    if probabilistic:
        result["means_only"] = evaluate(embedder, records, audio, use_variance=False)
        # the paper's Table 2 root: the caption that best includes the audio, plus mu("")
        result["traversal_inclusion_root"] = evaluate_traversal(
            embedder, records, root="inclusion+empty", audio=audio
        )
        try:
            from audiotext_cli.prolap.inclusion_stats import inclusion_statistics

            # every 4th clip: masking and encoding every caption of 2,402 clips costs minutes
            result["inclusion"] = inclusion_statistics(embedder, records[::INCLUSION_STRIDE])
        except ImportError:
            pass
    return result


COLUMNS = [
    ("t2a R@1", ("text_to_audio", "R@1")),
    ("t2a R@5", ("text_to_audio", "R@5")),
    ("t2a R@10", ("text_to_audio", "R@10")),
    ("a2t R@1", ("audio_to_text", "R@1")),
    ("a2t R@5", ("audio_to_text", "R@5")),
    ("a2t R@10", ("audio_to_text", "R@10")),
    ("t2a mAP@10", ("text_to_audio", "mAP@10")),
    ("ZS L1 bal.", ("zeroshot", "1", "balanced_accuracy")),
    ("ZS L2", ("zeroshot", "2", "accuracy")),
    ("ZS L3", ("zeroshot", "3", "accuracy")),
]
EXTRA = [
    ("trav. P", ("traversal", "precision")),
    ("trav. R", ("traversal", "recall")),
    ("incl. %", ("inclusion", "text_in_masked", "full_in_masked_pct")),
]
# The hierarchy checks of issue 18 (Spearman x100; inclusion rates of masked-in-unmasked
# pairs against random pairs, which they must beat for the statistic to mean anything).
HIERARCHY = [
    ("trav. P incl. root", ("traversal_inclusion_root", "precision")),
    ("ρ level~var", ("inclusion", "spearman_level_vs_variance")),
    ("ρ mask~var", ("inclusion", "audio_in_masked", "spearman_mask_ratio_vs_variance")),
    ("text random %", ("inclusion", "text_in_masked", "random_pair_pct")),
    ("audio incl. %", ("inclusion", "audio_in_masked", "full_in_masked_pct")),
    ("audio random %", ("inclusion", "audio_in_masked", "random_pair_pct")),
]


def _get(result: dict, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return None if result is None else float(result)


def _cell(values: list[float | None], scale: float = 100.0) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "–"
    arr = np.array(vals) * scale
    if len(arr) == 1:
        return f"{arr[0]:.1f}"
    return f"{arr.mean():.1f} ± {arr.std(ddof=1):.1f}"


def _scale(path: tuple[str, ...]) -> float:
    """Rates already in percent stay; fractions and correlations are shown x100."""
    rates = ("traversal", "traversal_inclusion_root", "inclusion")
    if path[0] in rates and not path[-1].startswith("spearman"):
        return 1.0
    return 100.0


def table(
    variants: list[Variant],
    results: dict[str, list[dict]],
    extra: bool,
    seeds: dict[str, list[int]],
    requested: list[int],
    hierarchy: bool = False,
) -> str:
    cols = COLUMNS + (EXTRA if extra else []) + (HIERARCHY if hierarchy else [])
    rows = []
    for v in variants:
        rs = results[v.name]
        if not rs:
            continue
        rows.append(
            [v.label + ("" if seeds[v.name] == requested else f" (seeds {seeds[v.name]})")]
            + [_cell([_get(r, p) for r in rs], _scale(p)) for _, p in cols]
        )
    first = next(results[v.name][0] for v in variants if results[v.name])
    chance = ["chance"]
    for _, p in cols:
        if p[0] in ("text_to_audio", "audio_to_text") and p[1].startswith("R@"):
            chance.append(f"{100 * first[p[0]]['chance'][p[1]]:.1f}")
        elif p[0] == "zeroshot" and p[1] in first["zeroshot"]:
            chance.append(f"{100 * first['zeroshot'][p[1]]['chance']:.1f}")
        else:
            chance.append("")
    majority = ["majority class"] + [
        f"{100 * first['zeroshot'][p[1]]['majority']:.1f}"
        if p[0] == "zeroshot" and p[2] == "accuracy" and p[1] in first["zeroshot"]
        else ""
        for _, p in cols
    ]
    return markdown_table(["model"] + [c for c, _ in cols], rows + [chance, majority])


def category_table(variants: list[Variant], results: dict[str, list[dict]]) -> str:
    """Per-category t2a R@10 (x100, mean ± sd over seeds) of each variant, with chance."""
    scored = {
        v.name: [r["per_category"] for r in results[v.name] if "per_category" in r]
        for v in variants
    }
    first = next(rs[0] for rs in scored.values() if rs)
    rows = []
    for cat, info in first.items():
        cells = [_cell([r[cat]["R@10"] for r in scored[v.name] if cat in r]) for v in variants]
        rows.append(
            [
                cat,
                str(info["n_clips"]),
                str(info["n_queries"]),
                *cells,
                f"{100 * info['chance']['R@10']:.1f}",
            ]
        )
    head = ["category", "eval clips", "queries", *[v.label for v in variants], "chance"]
    return markdown_table(head, rows)


def run_all(variants: list[Variant], args, data) -> tuple[dict, dict]:
    """Every variant at every seed: {name: [results]} and {name: [seeds that have one]}."""
    runs = {v.name: [run_variant(v, s, args, data) for s in args.seeds] for v in variants}
    seeds = {
        name: [s for s, r in zip(args.seeds, rs, strict=True) if r is not None]
        for name, rs in runs.items()
    }
    return {name: [r for r in rs if r is not None] for name, rs in runs.items()}, seeds


def tower_tables(args, data) -> None:
    """ProLAP against deterministic heads on the same frozen-tower features (issue 18)."""
    results, seeds = run_all(TOWER_ABLATION, args, data)
    means = Variant("prolap-aisfx-ft:means", "ProLAP full, ranked by means only", "prolap-aisfx")
    results[means.name] = [r["means_only"] for r in results["prolap-aisfx-ft"] if "means_only" in r]
    seeds[means.name] = seeds["prolap-aisfx-ft"]
    variants = [*TOWER_ABLATION, means]
    first = results[TOWER.name][0]
    write_section(
        DOC,
        "tower_ablation",
        "## ProLAP on the pretrained tower (issue 18)\n\n"
        + table(variants, results, True, seeds, args.seeds, hierarchy=True)
        + "\n\nEvery row: the same cached aisfx block features and frozen MiniLM, the same "
        + "head sizes, batch 512, sources drawn by n^0.5, epoch chosen on the validation "
        + "split of the training sources. The first row trains 60 epochs at lr 2e-3; every "
        + f"other row starts from it (same seed) and trains {args.ft_epochs} more epochs at "
        + "lr 5e-4. "
        + "SigLIP and ProLAP start the logit bias at -6.2 (about -log 512) and the scale "
        + "at 10, with positives by what the captions describe (`train.positives=described`)"
        + "; ProLAP's variance heads start at log-variance -10. Traversal P/R (x100), incl. % "
        + "as in the ProLAP ablation above (root: the empty caption); trav. P incl. root: "
        + "the paper's Table 2 root, the caption that best includes the audio plus the "
        + "empty caption; ρ level~var: Spearman (x100) of caption level "
        + "(1 general .. 4 specific) against total variance (ProLAP wants it negative); "
        + "ρ mask~var: of the share of audio blocks masked against variance (wants it "
        + "positive); text random % / audio random %: how often a random pair passes the "
        + "inclusion test, the control for incl. % and audio incl. %."
        + f"\n\nMean ± sd over seeds {args.seeds} "
        + f"(×100). Evaluation: {first['n_audio']} clips from sources never used in training. "
        + f"Command: `{command_line()}`  \nMachine: {machine()}",
        HEADER,
    )


def student_variant(folder: Path) -> Variant:
    """The aisfx heads recipe on a distilled student tower (`audiotext distill`)."""
    return Variant(
        f"clap-student-{folder.name}",
        f"CLAP heads on the student {folder.name}",
        "clap-aisfx",
        [f"model.audio_tower=student:{folder.resolve()}", "model.sample_rate=16000"],
        epochs=TOWER.epochs,
    )


def student_tables(args, data) -> None:
    """Distilled students against their teacher, with the same heads recipe (issue 19)."""
    students = [student_variant(folder) for folder in args.student]
    variants = [TOWER, *students]
    results, seeds = run_all(variants, args, data)

    def t2a(name: str) -> float:
        return float(np.mean([r["text_to_audio"]["R@10"] for r in results[name]]))

    ratios = "; ".join(
        f"{v.label}: {100 * t2a(v.name) / t2a(TOWER.name):.0f} % of the teacher's t2a R@10"
        for v in students
        if results[v.name] and results[TOWER.name]
    )
    first = results[TOWER.name][0]
    write_section(
        DOC,
        "student",
        "## Distilled student tower against its teacher (issue 19)\n\n"
        + table(variants, results, False, seeds, args.seeds)
        + f"\n\n{ratios}. Every row: the clap-aisfx heads recipe (60 epochs, batch 512, "
        + "sources by n^0.5, epoch chosen on validation) on the tower's cached block "
        + "features; the students are `audiotext distill` checkpoints (docs/models.md says "
        + "what audio each was distilled on).\n\nText->audio R@10 by level-1 category:\n\n"
        + category_table(variants, results)
        + f"\n\nMean ± sd over seeds {args.seeds} (×100). Evaluation: {first['n_audio']} "
        + f"clips from sources never used in training. Command: `{command_line()}`  \n"
        + f"Machine: {machine()}",
        HEADER,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=home() / "corpus")
    ap.add_argument("--runs", type=Path, default=home() / "results-runs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--ft-epochs", type=int, default=4)
    ap.add_argument(
        "--only", choices=["baseline", "ablation", "tower", "student", "all"], default="all"
    )
    ap.add_argument("--student", type=Path, nargs="+", default=[], help="for --only student")
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="write the tables from finished runs only (each row names its seeds)",
    )
    ap.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="variants reported from finished runs only (not trained), e.g. clap-demo",
    )
    args = ap.parse_args()
    data = {s: read_manifest(args.corpus / f"{s}.jsonl") for s in ("train", "val", "eval")}
    if args.only == "tower":
        tower_tables(args, data)
        return
    if args.only == "student":
        student_tables(args, data)
        return
    baselines = [BASELINE, BALANCED, TOWER]
    variants = baselines if args.only == "baseline" else [*ABLATION, BALANCED, TOWER]
    results, seeds = run_all(variants, args, data)
    done = [v for v in baselines if results[v.name]]
    first = results[done[0].name][0]
    recorded = {
        v.name: [r["recorded"] for r in results[v.name] if "recorded" in r] for v in baselines
    }
    rendered = sum(r.source in SOUNDFONTS for r in data["train"])
    libraries = sorted({r.source for r in data["eval"]} - SOUNDFONTS)
    footer = (
        f"\n\nMean ± sd over seeds {args.seeds} (×100). Evaluation: {first['n_audio']} clips and "
        f"{first['n_captions']} distinct captions from sources never used in training "
        f"(docs/data.md). Command: `{command_line()}`  \nMachine: {machine()}"
    )
    write_section(
        DOC,
        "baseline",
        "## Baseline: CLAP-style contrastive model (issue 5)\n\n"
        + table(baselines, results, False, seeds, args.seeds)
        + "\n\n"
        + (
            f"The row with n^0.5 is `make demo`'s former recipe: each training source drawn "
            "with probability proportional to n_source^0.5 instead of n_source "
            f"(`train.source_alpha`), so the {rendered:,} rendered notes stop drowning the "
            f"{len(data['train']) - rendered:,} recordings (speech, effects, samples), and "
            f"{BALANCED.epochs} epochs instead of {args.epochs}. "
            if results[BALANCED.name]
            else f"(`make demo`'s former CNN recipe, {BALANCED.epochs} epochs with sources "
            "drawn by n^0.5, was not re-run on this build: on the 16 kHz build it reached "
            "t2a R@10 6.5 ± 0.3 and 19.0 ± 1.0 on the recorded libraries; git history of "
            "this file.) "
        )
        + (
            ""
            if results[BASELINE.name]
            else "(The from-scratch CNN row was not re-run on this build: on the previous "
            "default build, 5,286 / 604 / 3,933 clips, it reached t2a R@10 5.8 ± 0.5, "
            "6.4 ± 0.3 on the recorded libraries; git history of this file.) "
        )
        + "The aisfx row is the default model since issue 16: the same heads on the frozen "
        + "pretrained aisfx sound-effects CNN (44.1 kHz, 4.7 M parameters, trained by its "
        + "authors on nine commercial sound-effects libraries), trained on its cached block "
        + "features, 60 epochs of batch 512 (docs/models.md).\n\n"
        + f"The same models on the recorded evaluation libraries alone ({', '.join(libraries)}: "
        + f"{first['recorded']['n_audio']} clips, no rendered notes):\n\n"
        + table(baselines, recorded, False, seeds, args.seeds)
        + "\n\nText->audio R@10 by level-1 category (each level-4 caption a query against "
        + "all evaluation clips, filed under the category of the clips it describes):\n\n"
        + category_table([v for v in (BASELINE, TOWER) if results[v.name]], results)
        + footer,
        HEADER,
    )
    if args.only != "baseline":
        write_section(
            DOC,
            "prolap_ablation",
            "## ProLAP ablation (issue 6)\n\n"
            + table(ABLATION, results, True, seeds, args.seeds)
            + "\n\nFine-tuned runs start from the same seed's CLAP baseline and train "
            + f"{args.ft_epochs} more epochs at lr 5e-4. Traversal precision/recall (×100) follow "
            + "the HierarCaps protocol (docs/prolap.md); incl. % = share of captions included in "
            + f"their word-masked version, on every {INCLUSION_STRIDE}th evaluation clip."
            + footer,
            HEADER,
        )


if __name__ == "__main__":
    main()
