"""Segment features of a document collection, cached by content hash.

The frozen encoders are slow next to training a small document model, so every row is cached
under `home()/hilbert-features/<encoder id>/<sha1(encoder id + segment content)>.npy`: a re-run,
a resumed run, or another corpus sharing the same turns skips the encoder. The result is a
`DocFeatures` bundle (ragged per-document segment matrices, flattened with offsets) that
can be saved as one .npz and passed to eval-docs / embed docs instead of the corpus.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiotext_cli import paths
from audiotext_cli.atomic import write_atomic
from audiotext_cli.errors import EmbeddingFileError
from audiotext_cli.hilbert.documents import Document, load_documents
from audiotext_cli.hilbert.encoders import SR, SegmentEncoder
from audiotext_cli.hilbert.segment import Segment, segment_recording


@dataclass
class DocFeatures:
    """Per-document segment features: rows offsets[i]:offsets[i+1] belong to document ids[i]."""

    ids: list[str]
    offsets: np.ndarray  # (n_docs + 1,) int64
    audio: np.ndarray  # (n_segments, D_a) float32
    text: np.ndarray  # (n_segments, D_t) float32
    labels: dict[str, np.ndarray]  # name -> (n_docs,) int64, -1 where unknown
    info: dict  # encoder ids, source

    def __len__(self) -> int:
        return len(self.ids)

    def doc(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return self.audio[lo:hi], self.text[lo:hi]

    def save(self, path: Path) -> Path:
        arrays = {f"label_{k}": v for k, v in self.labels.items()}
        info = json.dumps({**self.info, "ids": self.ids})

        def write(tmp: Path) -> None:
            with tmp.open("wb") as fh:  # a handle: np.savez would append ".npz" to the name
                np.savez(
                    fh,
                    offsets=self.offsets,
                    audio=self.audio,
                    text=self.text,
                    info=np.array(info),
                    **arrays,
                )

        return write_atomic(path, write)

    @classmethod
    def load(cls, path: Path) -> DocFeatures:
        try:
            with np.load(path, allow_pickle=False) as z:
                info = json.loads(str(z["info"]))
                labels = {k[6:]: z[k] for k in z.files if k.startswith("label_")}
                return cls(info.pop("ids"), z["offsets"], z["audio"], z["text"], labels, info)
        except (OSError, KeyError, ValueError) as exc:
            raise EmbeddingFileError(f"not a HILBERT features file: {exc}", path) from None


def content_key(encoder_id: str, item: np.ndarray | str) -> str:
    data = item.encode("utf-8") if isinstance(item, str) else np.ascontiguousarray(item).tobytes()
    return hashlib.sha1(encoder_id.encode() + b"\0" + data).hexdigest()


def _cache_path(encoder_id: str, key: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder_id)
    return paths.home() / "hilbert-features" / safe / key[:2] / f"{key}.npy"


def _save_npy(path: Path, row: np.ndarray) -> None:
    with path.open("wb") as fh:  # a handle: np.save would append ".npy" to the temp name
        np.save(fh, row)


def encode_cached(encoder: SegmentEncoder, items: Sequence) -> np.ndarray:
    """Encode only the items whose (encoder, content) row is not cached yet."""
    keys = [content_key(encoder.id, it) for it in items]
    rows: dict[int, np.ndarray] = {}
    for i, key in enumerate(keys):
        path = _cache_path(encoder.id, key)
        if path.exists():
            rows[i] = np.load(path)
    todo = [i for i in range(len(items)) if i not in rows]
    if todo:
        fresh = encoder.encode([items[i] for i in todo])
        for i, row in zip(todo, fresh, strict=True):
            rows[i] = row
            write_atomic(_cache_path(encoder.id, keys[i]), lambda p, r=row: _save_npy(p, r))
    return np.stack([rows[i] for i in range(len(items))]).astype(np.float32)


def document_segments(doc: Document, vad: str = "silero") -> tuple[np.ndarray, list[Segment]]:
    from audiotext_cli.audio.io import load_audio

    wave = load_audio(doc.audio, sr=SR)
    if doc.segments is not None:
        return wave, [Segment(s, e, t) for s, e, t in doc.segments]
    return wave, segment_recording(wave, SR, doc.transcript, vad)


def compute_features(
    root: Path,
    audio_encoders: Sequence[SegmentEncoder],
    text_encoder: SegmentEncoder,
    vad: str = "silero",
    on_doc: Callable[[str], None] | None = None,
) -> DocFeatures:
    """Segment every document of `root` and encode its turns with every encoder."""
    docs = load_documents(root)
    audio_rows, text_rows, offsets = [], [], [0]
    for doc in docs:
        wave, segments = document_segments(doc, vad)
        clips = [
            wave[int(s.start * SR) : max(int(s.end * SR), int(s.start * SR) + 1)] for s in segments
        ]
        audio_rows.append(np.hstack([encode_cached(enc, clips) for enc in audio_encoders]))
        text_rows.append(encode_cached(text_encoder, [s.text for s in segments]))
        offsets.append(offsets[-1] + len(segments))
        if on_doc:
            on_doc(doc.id)
    names = sorted({k for d in docs for k in d.labels})
    labels = {n: np.array([d.labels.get(n, -1) for d in docs], dtype=np.int64) for n in names}
    info = {
        "source": str(root),
        "audio_encoders": [e.id for e in audio_encoders],
        "text_encoder": text_encoder.id,
        "vad": vad,
    }
    return DocFeatures(
        [d.id for d in docs],
        np.asarray(offsets, dtype=np.int64),
        np.vstack(audio_rows),
        np.vstack(text_rows),
        labels,
        info,
    )


def features_for(
    source: Path,
    audio: Sequence[str] = ("oww", "prosody"),
    checkpoint: Path | None = None,
    vad: str = "silero",
    on_doc: Callable[[str], None] | None = None,
) -> DocFeatures:
    """A saved features .npz as is, or the (cached) features of a corpus / recordings folder."""
    from audiotext_cli.hilbert.encoders import MiniLMEncoder, audio_encoders

    source = Path(source)
    if source.is_file():
        return DocFeatures.load(source)
    return compute_features(source, audio_encoders(audio, checkpoint), MiniLMEncoder(), vad, on_doc)
