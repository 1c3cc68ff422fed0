"""Document embeddings from a trained HILBERT checkpoint, written as EmbeddingStores.

`out/joint` holds z_joint, `out/audio` z_audio and `out/text` z_text (L2-normalised), one
store each because a store holds one model's space; index, search and compare-spaces read
them like any other store (joint/audio stores are kind "audio", the text store kind "text").
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import CheckpointError
from audiotext_cli.hilbert.features import features_for
from audiotext_cli.hilbert.train import infer, load_checkpoint

SPACES = {"joint": ("z_j", "audio"), "audio": ("z_a", "audio"), "text": ("z_t", "text")}


def embed_documents(source: Path, checkpoint: Path, out: Path, device: str = "cpu") -> dict:
    """Embed every document of `source` (corpus folder or features .npz) into `out`."""
    from audiotext_cli.index.store import EmbeddingStore

    fitted, config = load_checkpoint(checkpoint, device)
    trained_on = config["features"]
    audio = tuple(config.get("audio", ("oww", "prosody")))
    feats = features_for(Path(source), audio)
    for key in ("audio_encoders", "text_encoder"):
        if feats.info.get(key) != trained_on.get(key):
            raise CheckpointError(
                f"features use {key}={feats.info.get(key)}, the model was trained on "
                f"{trained_on.get(key)}",
                checkpoint,
            )
    vectors = infer(fitted, feats, np.arange(len(feats)))
    folder = Path(checkpoint).parent if Path(checkpoint).is_file() else Path(checkpoint)
    digest = hashlib.sha1((folder / "model.safetensors").read_bytes()).hexdigest()[:12]
    written = {}
    for space, (key, kind) in SPACES.items():
        mean = vectors[key] / np.linalg.norm(vectors[key], axis=1, keepdims=True).clip(1e-12)
        meta = {
            "model_id": f"hilbert-{digest}-{space}",
            "model_source": str(folder),
            "dim": mean.shape[1],
            "probabilistic": False,
            "sample_rate": 16000,
            "kind": kind,
        }
        store = EmbeddingStore.create(Path(out) / space, meta)
        rows = [{"id": doc_id, "model_id": meta["model_id"]} for doc_id in feats.ids]
        store.append(rows, Embeddings(mean.astype(np.float32)))
        written[space] = str(Path(out) / space)
    return {"documents": len(feats), "stores": written, "dim": int(vectors["z_j"].shape[1])}
