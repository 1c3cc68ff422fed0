"""Did the model learn the inclusions ProLAP trains for? Measured, not assumed.

- text:  full caption inside its word-masked version (original ⊂ masked, the training
  direction), counted over pairs where masking hid at least one word;
- audio: each 4 s window inside its patch-masked version, same rule;
- cross: a clip inside its caption, per caption level (more general captions should
  include the audio more often);
- uncertainty vs specificity: Spearman correlation of caption length (words) with total
  variance (negative if shorter, more general captions are wider), and the mean total
  variance per caption level (level 1, the most general, should be largest).

"x ⊂ y" means the summed inclusion logit sum_d g(x, y) > 0 at eps = -20 (losses.probabilistic).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audiotext_cli.data.manifest import LEVELS, captions_at
from audiotext_cli.embedder import Embeddings
from audiotext_cli.prolap.uncertainty import check_probabilistic, total_variance

MASK_PROB = 0.75  # ProLAP's per-token masking probability q (prolap-math.md section 8)
_BATCH = 64


def included(inner: Embeddings, outer: Embeddings) -> np.ndarray:
    """(n,) bool: row i of `inner` is included in row i of `outer` (summed logit > 0)."""
    import torch

    from audiotext_cli.losses.probabilistic import inclusion_logit

    t = [
        torch.from_numpy(np.asarray(a, np.float64))
        for a in (inner.mean, inner.logvar, outer.mean, outer.logvar)
    ]
    return (inclusion_logit(*t, eps=-20.0).sum(-1) > 0).numpy()


def _percent(flags: np.ndarray) -> float | None:
    return float(100 * flags.mean()) if flags.size else None


def text_inclusion(embedder, texts: Sequence[str], n_masks: int, seed: int) -> dict:
    """% of (caption, masked caption) pairs with full ⊂ masked; unchanged draws are skipped."""
    import torch

    from audiotext_cli.text import mask_tokens

    enc = embedder.text_encoder
    g = torch.Generator().manual_seed(seed)
    flags = []
    for start in range(0, len(texts), _BATCH):
        ids, mask = enc.tokenize(list(texts[start : start + _BATCH]))
        with torch.inference_mode():
            full = embedder.embed_text_features(enc(ids, mask).cpu().numpy())
            for _ in range(n_masks):
                masked_ids = mask_tokens(
                    ids, mask, MASK_PROB, g, enc.mask_token_id, enc.special_ids
                )
                changed = (masked_ids != ids).any(1).cpu().numpy()
                masked = embedder.embed_text_features(enc(masked_ids, mask).cpu().numpy())
                flags.append(included(full, masked)[changed])
    all_flags = np.concatenate(flags) if flags else np.zeros(0, bool)
    return {"pairs": int(all_flags.size), "full_in_masked_pct": _percent(all_flags)}


def audio_inclusion(embedder, records: Sequence, n_masks: int, seed: int) -> dict:
    """% of (input, masked input) pairs with full ⊂ masked, over inputs where at least one
    unit of real audio was masked (CNN: 16-frame patches of each window; tower: blocks)."""
    import torch

    model = embedder.model
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    flags = []
    for rec in records:
        x, n_valid = embedder.model_inputs(rec.audio)
        with torch.inference_mode():
            emb = model.encode_audio(x, n_valid)
            full = Embeddings(emb.mean.double().cpu().numpy(), emb.logvar.double().cpu().numpy())
            units = model.mask_units(x)
            real = torch.arange(units)[None, :] < model.valid_units(n_valid.cpu())[:, None]
            for _ in range(n_masks):
                mask = torch.rand(len(x), units, generator=g) < MASK_PROB
                changed = (mask & real).any(1).numpy()
                emb = model.encode_audio(x, n_valid, mask.to(device))
                masked = Embeddings(
                    emb.mean.double().cpu().numpy(), emb.logvar.double().cpu().numpy()
                )
                flags.append(included(full, masked)[changed])
    all_flags = np.concatenate(flags) if flags else np.zeros(0, bool)
    return {"pairs": int(all_flags.size), "full_in_masked_pct": _percent(all_flags)}


def inclusion_statistics(embedder, records: Sequence, n_masks: int = 1, seed: int = 0) -> dict:
    """All statistics of the module docstring for a probabilistic model on a manifest."""
    from scipy.stats import spearmanr

    from audiotext_cli.evaluate.run import embed_records

    check_probabilistic(embedder)
    texts = list(dict.fromkeys(c["text"] for r in records for c in r.captions))
    text_emb = embedder.embed_texts(texts)
    text_tv = total_variance(text_emb.logvar)
    row = {t: i for i, t in enumerate(texts)}
    audio = embed_records(embedder, records)
    audio_tv = total_variance(audio.logvar)

    cross = {}
    for level in LEVELS:
        idx = [row[captions_at(r, level)[0]] for r in records]
        caps = Embeddings(text_emb.mean[idx], text_emb.logvar[idx])
        cross[str(level)] = _percent(included(audio, caps))
    per_level = {
        str(level): float(
            np.mean([text_tv[row[t]] for r in records for t in captions_at(r, level)])
        )
        for level in LEVELS
    }
    lengths = np.array([len(t.split()) for t in texts])
    rho = spearmanr(lengths, text_tv).statistic if len(set(lengths)) > 1 else float("nan")
    return {
        "n_clips": len(records),
        "n_captions": len(texts),
        "mask_prob": MASK_PROB,
        "n_masks": n_masks,
        "text_in_masked": text_inclusion(embedder, texts, n_masks, seed),
        "audio_in_masked": audio_inclusion(embedder, records, n_masks, seed),
        "audio_in_caption_pct": cross,
        "spearman_length_vs_variance": float(rho),
        "mean_total_variance_per_level": per_level,
        "mean_total_variance_audio": float(audio_tv.mean()),
    }
