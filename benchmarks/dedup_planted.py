"""Dedup precision/recall on the planted library (tests/library_fixtures.py), per threshold.

    .venv/bin/python benchmarks/dedup_planted.py [--model CKPT]

Writes the test library (one dog-bark clip as WAV with chunks, a byte copy, FLAC, MP3,
resampled to 44.1 kHz, -6 dB, +100 ms silence; plus a different bark and five other
clips), embeds it (with the checkpoint, or the tests' spectral stand-in model), and scores
the groups `find_duplicates` returns against the planted group, pair by pair.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from audiotext_cli.index.folder import embed_folder  # noqa: E402
from audiotext_cli.index.store import EmbeddingStore  # noqa: E402
from audiotext_cli.library.dedup import find_duplicates, pair_scores  # noqa: E402
from library_fixtures import PLANTED, SpectralEmbedder, write_library  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint (default: the spectral stand-in)")
    args = parser.parse_args()
    if args.model:
        from audiotext_cli.models import load_embedder

        embedder, name = load_embedder(args.model), args.model
    else:
        embedder, name = SpectralEmbedder(), "spectral stand-in (tests)"
    with tempfile.TemporaryDirectory() as tmp:
        write_library(Path(tmp))
        embed_folder(embedder, Path(tmp) / "library", Path(tmp) / "emb", workers=0)
        ids, emb, _ = EmbeddingStore.open(Path(tmp) / "emb").load()
        sims = emb.mean @ emb.mean.T
        inside = [i for i, x in enumerate(ids) if x in PLANTED]
        outside = [i for i, x in enumerate(ids) if x not in PLANTED]
        print(f"model: {name}; {len(ids)} clips, planted group of {len(inside)}")
        print(f"lowest cosine inside the group: {sims[np.ix_(inside, inside)].min():.4f}")
        print(f"highest cosine group vs others: {sims[np.ix_(inside, outside)].max():.4f}")
        print("| threshold | pairs found | precision | recall |")
        print("|---|---|---|---|")
        for threshold in (0.9, 0.95, 0.97, 0.99):
            s = pair_scores(find_duplicates(Path(tmp) / "emb", threshold), [PLANTED])
            print(
                f"| {threshold} | {s['pairs_found']} | {s['precision']:.2f} | {s['recall']:.2f} |"
            )


if __name__ == "__main__":
    main()
