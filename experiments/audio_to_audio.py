"""Audio -> audio ("more like this"): the joint embedding against the tower's own (issue 16).

On the cross-source evaluation split, each clip queries all the others; relevant = the same
level-3 label ("same kind of sound"), queries without another clip of their kind are left
out. Scores both vectors a tower model can store: the joint (text-aligned) embedding and
the tower's clip embedding (mean of its block embeddings, L2-normalised), on all eval
sources and on the recorded libraries alone (no General MIDI renders).

    python experiments/audio_to_audio.py RUN/best [RUN2/best ...]
"""

from __future__ import annotations

import json
import sys

import numpy as np

from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.evaluate.retrieval import chance_metrics, rank_metrics
from audiotext_cli.models import load_embedder
from audiotext_cli.paths import home

RENDERED = {"timgm6mb", "merlin"}


def scores(vectors: np.ndarray, labels: list[str]) -> dict[str, float]:
    lab = np.array(labels)
    relevant = lab[:, None] == lab[None, :]
    np.fill_diagonal(relevant, False)
    keep = relevant.any(1)
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -np.inf)
    out = rank_metrics(sim[keep], relevant[keep])
    chance = chance_metrics(relevant[keep][:, ~np.eye(len(lab), dtype=bool)[0]])
    return {
        "queries": int(keep.sum()),
        **{k: round(100 * out[k], 1) for k in ("R@1", "R@10", "mAP@10")},
        "chance R@10": round(100 * chance["R@10"], 1),
    }


def main(checkpoints: list[str]) -> None:
    records = read_manifest(home() / "corpus" / "eval.jsonl")
    for ckpt in checkpoints:
        emb = load_embedder(ckpt)
        both = emb.embed_files([r.audio for r in records])
        joint, tower = both.mean, both.tower
        for subset, rows in (
            ("all eval sources", range(len(records))),
            ("recorded libraries", [i for i, r in enumerate(records) if r.source not in RENDERED]),
        ):
            rows = list(rows)
            labels = [records[i].labels[2] for i in rows]
            for name, vectors in (("joint", joint), ("tower", tower)):
                row = {"model": ckpt, "subset": subset, "vector": name}
                print(json.dumps(row | scores(vectors[rows], labels)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
