"""The training loop (nanoGPT-style, top to bottom): data, model, optimiser, steps, evaluation.

Resume is bit-for-bit: the epoch order is a function of (seed, epoch) and every step
re-seeds its own randomness from (seed, step, rank), so a run restarted from its last
checkpoint takes exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audiotext_cli.atomic import write_text_atomic
from audiotext_cli.data.manifest import ClipRecord, captions_at
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import AudiotextError, CheckpointError, ConfigError, ConfigUsageError
from audiotext_cli.evaluate.run import evaluate
from audiotext_cli.models.checkpoint import (
    checkpoint_exists,
    init_from_checkpoint,
    load_training_state,
    model_config_of,
    read_config,
    save_checkpoint,
    train_config_of,
)
from audiotext_cli.models.config import ModelConfig, TrainConfig, differing_keys
from audiotext_cli.models.model import AudioTextModel
from audiotext_cli.models.pooling import pool_clips
from audiotext_cli.paths import cache_dir
from audiotext_cli.train.bank import LogmelBank, build_bank
from audiotext_cli.train.distributed import all_gather_ids, barrier, joined_world
from audiotext_cli.train.objective import Objective
from audiotext_cli.train.schedule import warmup_cosine
from audiotext_cli.train.texts import TextTable
from audiotext_cli.train.tower_bank import (
    PrefixBank,
    TowerBank,
    build_prefix_bank,
    build_tower_bank,
)

StepCallback = Callable[[dict], None]


@dataclass
class Split:
    records: list[ClipRecord]
    # CNN: log-mel windows; frozen tower: cached block embeddings; unfrozen: prefix outputs
    bank: LogmelBank | TowerBank | PrefixBank
    caption_ids: list[list[list[int]]]  # clip -> level (0..3) -> caption ids
    caption_sets: torch.Tensor  # (clips, K) every caption id of a clip, -1 padded


def _split(records: list[ClipRecord], cfg: ModelConfig, table: TextTable, progress=None) -> Split:
    paths = [r.audio for r in records]
    if cfg.audio_tower == "cnn":
        bank = build_bank(paths, cfg, cache_dir("banks"), progress)
    else:
        from audiotext_cli.towers import TOWERS, load_tower

        tower, n_tail = load_tower(cfg.audio_tower), cfg.trainable_blocks()
        if n_tail:
            stop = TOWERS[cfg.audio_tower].blocks - n_tail
            bank = build_prefix_bank(paths, tower, stop, progress)
        else:
            bank = build_tower_bank(paths, tower, progress)
    caps = [[[table.ids[t] for t in captions_at(r, lv)] for lv in (1, 2, 3, 4)] for r in records]
    return Split(records, bank, caps, _caption_sets(caps))


def _caption_sets(caps: list[list[list[int]]]) -> torch.Tensor:
    """Each clip's caption ids over all levels as one -1-padded row (for `positives=described`)."""
    sets = [sorted({i for level in clip for i in level}) for clip in caps]
    out = torch.full((len(sets), max(map(len, sets), default=1)), -1, dtype=torch.long)
    for row, ids in enumerate(sets):
        out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


def selection_metric(result: dict) -> float:
    """Model selection on the validation split (training sources only): mean of R@5 both
    ways and zero-shot accuracy at levels 2 and 3."""
    parts = [result["text_to_audio"]["R@5"], result["audio_to_text"]["R@5"]]
    parts += [result["zeroshot"][lv]["accuracy"] for lv in ("2", "3") if lv in result["zeroshot"]]
    return float(np.mean(parts))


class _BankEmbedder:
    """Evaluation adapter: audio from the bank, text through the cached MiniLM features."""

    def __init__(self, model: AudioTextModel, table: TextTable) -> None:
        self.model, self.table = model, table
        self.sample_rate = model.cfg.sample_rate

    @torch.inference_mode()
    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        emb = self.model.encode_text(torch.from_numpy(self.table.encode(texts)))
        return Embeddings(emb.mean.numpy(), None if emb.logvar is None else emb.logvar.numpy())

    @torch.inference_mode()
    def embed_bank(self, bank: LogmelBank | TowerBank | PrefixBank, batch: int = 256) -> Embeddings:
        if isinstance(bank, PrefixBank):  # the tail in passes, as the tuned tower runs it
            from audiotext_cli.towers.passes import in_passes

            bank = TowerBank(in_passes(self.model.tower_tail, bank.blocks), bank.offsets)
        if isinstance(bank, TowerBank):
            return self._embed_tower_bank(bank, batch)
        mus, lvs = [], []
        for i in range(0, bank.logmel.shape[0], batch):
            emb = self.model.encode_audio(
                bank.logmel[i : i + batch].float(), bank.valid_frames[i : i + batch]
            )
            mus.append(emb.mean.numpy())
            if emb.logvar is not None:
                lvs.append(emb.logvar.numpy())
        mean = np.concatenate(mus)
        logvar = np.concatenate(lvs) if lvs else None
        weights = bank.valid_samples.numpy().astype(np.float64)
        return pool_clips(mean, logvar, weights, bank.offsets.tolist())

    def _embed_tower_bank(self, bank: TowerBank, batch: int) -> Embeddings:
        """One row per clip straight from its blocks (no windows to pool)."""
        embs = [
            self.model.encode_audio(*bank.clips(range(i, min(i + batch, len(bank)))))
            for i in range(0, len(bank), batch)
        ]
        mean = np.concatenate([e.mean.numpy() for e in embs])
        logvar = (
            None if embs[0].logvar is None else np.concatenate([e.logvar.numpy() for e in embs])
        )
        return Embeddings(mean, logvar)


def param_groups(model: AudioTextModel, cfg: TrainConfig) -> list[dict]:
    """Weight decay on matrices only; the contrastive scalars get their own faster lr, an
    unfrozen tower's blocks their own slower one (`train.tower_lr`)."""
    scalars = [model.logit_scale, model.logit_bias]
    scalar_ids = {id(p) for p in scalars}
    heads: tuple[list, list] = ([], [])  # (decayed, not decayed)
    tail: tuple[list, list] = ([], [])
    for name, p in model.named_parameters():
        if id(p) in scalar_ids or not p.requires_grad:
            continue
        part = tail if name.startswith("tower_tail.") else heads
        part[0 if p.ndim >= 2 and not name.endswith("mask_patch") else 1].append(p)
    groups = [
        {"params": heads[0], "weight_decay": cfg.weight_decay, "base_lr": cfg.lr},
        {"params": heads[1], "weight_decay": 0.0, "base_lr": cfg.lr},
        {"params": scalars, "weight_decay": 0.0, "base_lr": cfg.scalar_lr},
    ]
    if model.tower_tail is not None:  # only then: a frozen run's optimizer state is as before
        groups += [
            {"params": tail[0], "weight_decay": cfg.weight_decay, "base_lr": cfg.tower_lr},
            {"params": tail[1], "weight_decay": 0.0, "base_lr": cfg.tower_lr},
        ]
    return groups


def _spec_augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """One time mask (<= 24 frames) and one frequency mask (<= 8 bins) per window."""
    b, m, t = x.shape
    fill = x.mean(dim=(1, 2), keepdim=True)
    t0 = torch.randint(0, t, (b,), generator=g)
    tw = torch.randint(0, 25, (b,), generator=g)
    f0 = torch.randint(0, m, (b,), generator=g)
    fw = torch.randint(0, 9, (b,), generator=g)
    ti = torch.arange(t)[None, :]
    fi = torch.arange(m)[None, :]
    tmask = (ti >= t0[:, None]) & (ti < (t0 + tw)[:, None])
    fmask = (fi >= f0[:, None]) & (fi < (f0 + fw)[:, None])
    mask = tmask[:, None, :] | fmask[:, :, None]
    return torch.where(mask, fill, x)


def _step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    s = (seed * 1_000_003 + step * 7919 + rank * 104_729) % (2**63 - 1)
    torch.manual_seed(s)  # dropout and anything else drawing from the global generator
    return torch.Generator().manual_seed(s)


def epoch_order(records: Sequence[ClipRecord], cfg: TrainConfig, epoch: int) -> torch.Tensor:
    """The clips of one epoch, in order, a function of (seed, epoch) only so resume and DDP
    ranks agree. `source_alpha` 1 is a permutation (every clip once); below 1, clips are
    drawn with replacement so that source s gets a share proportional to n_s ** alpha
    (0: every source equally), which lifts small real-recording sources out from under a
    large rendered one."""
    g = torch.Generator().manual_seed(cfg.seed * 977 + epoch)
    if cfg.source_alpha == 1.0:
        return torch.randperm(len(records), generator=g)
    counts = Counter(r.source for r in records)
    weights = torch.tensor([counts[r.source] ** (cfg.source_alpha - 1.0) for r in records])
    return torch.multinomial(weights.double(), len(records), replacement=True, generator=g)


def data_fingerprint(train_records: list[ClipRecord], val_records: list[ClipRecord]) -> str:
    """A hash of what training reads (clip ids, durations, captions): a resumed run
    must see the same data, or its epochs and checkpoints mean something else."""
    digest = hashlib.sha256()
    for split, records in (("train", train_records), ("val", val_records)):
        for r in records:
            texts = "\x1f".join(f"{c['level']}:{c['text']}" for c in r.captions)
            digest.update(f"{split}\x1e{r.id}\x1e{r.duration:.6f}\x1e{texts}\n".encode())
    return digest.hexdigest()[:16]


def train(
    train_records: list[ClipRecord],
    val_records: list[ClipRecord],
    out: Path,
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    device: str = "cpu",
    init_from: Path | None = None,
    teacher: Path | None = None,
    on_step: StepCallback | None = None,
    on_prepare: Callable[[str, int], Callable[[int], None]] | None = None,
    max_steps: int | None = None,
) -> dict:
    """Train, evaluate each epoch on `val_records`, keep `out/best` and a resumable `out/last`.

    `max_steps` stops early (as a kill would) after that many global steps: used by tests.
    Returns the trainer state (history, best metric, paths).
    """
    with joined_world(device) as world:
        if not train_records or not val_records:
            raise ConfigError("training needs a non-empty training and validation manifest")
        model_cfg.validate()
        cfg.validate()
        _check_tail_loss(model_cfg, cfg)
        last, best = out / "last", out / "best"
        can_resume = resume and checkpoint_exists(last)
        if can_resume:
            _check_same_config(last, model_cfg, cfg)
        if not resume and out.exists() and any(out.iterdir()):
            raise ConfigError(
                f"output folder {out} is not empty: pass --resume to continue it, or another --out"
            )
        torch.manual_seed(cfg.seed)
        all_texts = [c["text"] for r in [*train_records, *val_records] for c in r.captions]
        table = TextTable(all_texts)

        def prep(name: str, n: int):
            return on_prepare(name, n) if (on_prepare and world.is_main) else None

        if world.is_main:  # rank 0 fills the caches, the others then read them
            feats = (
                "log-mel" if model_cfg.audio_tower == "cnn" else f"{model_cfg.audio_tower} features"
            )
            if model_cfg.trainable_blocks():
                feats = f"{model_cfg.audio_tower} frozen blocks"
            tr = _split(train_records, model_cfg, table, prep(f"{feats} train", len(train_records)))
            va = _split(val_records, model_cfg, table, prep(f"{feats} val", len(val_records)))
        barrier(world)
        if not world.is_main:
            tr = _split(train_records, model_cfg, table)
            va = _split(val_records, model_cfg, table)

        model = AudioTextModel(model_cfg).to(device)
        if model.tower_tail is not None:
            model.tower_tail.load_pretrained()
        teacher_emb = None
        if teacher is not None:
            from audiotext_cli.train.teacher import teacher_embeddings

            teacher_emb = teacher_embeddings(teacher, tr.records, table.texts)
        train_captions = [i for clip in tr.caption_ids for level in clip for i in level]
        objective = Objective(model, cfg, table, teacher_emb, train_captions)
        if init_from is not None and not can_resume:
            init_from_checkpoint(model, init_from, objective.needs.bias)
        model.freeze_unused(objective.needs.bias, objective.needs.masking is not None)
        optimizer = torch.optim.AdamW(
            param_groups(model, cfg), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6
        )

        per_step = cfg.batch_size * world.size
        steps_per_epoch = len(tr.records) // per_step
        if steps_per_epoch == 0:
            raise ConfigError(
                f"batch {per_step} is larger than the training set ({len(tr.records)} clips)"
            )
        total = steps_per_epoch * cfg.epochs
        warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))
        state = {
            "epoch": 0,
            "step_in_epoch": 0,
            "global_step": 0,
            "best_metric": None,  # JSON-safe "nothing yet"
            "best_epoch": -1,
            "history": [],
            "steps_per_epoch": steps_per_epoch,
        }
        data_id = data_fingerprint(train_records, val_records)
        if can_resume:
            state.update(load_training_state(last, model, optimizer))
            if state.setdefault("data", data_id) != data_id:  # runs from before it: trusted
                raise ConfigError(
                    f"{out} was trained on other data (the manifests changed since): "
                    "resume it with the same manifests, or train into a new --out"
                )
        state["data"] = data_id
        ddp_model = model
        if world.size > 1:
            ddp_model = torch.nn.parallel.DistributedDataParallel(model)
        objective.forward_model = ddp_model

        t0, seen = time.perf_counter(), 0
        for epoch in range(state["epoch"], cfg.epochs):
            perm = epoch_order(tr.records, cfg, epoch)
            model.train()
            for s in range(state["step_in_epoch"], steps_per_epoch):
                gstep = epoch * steps_per_epoch + s
                if max_steps is not None and gstep >= max_steps:
                    return state
                g = _step_generator(cfg.seed, gstep, world.rank)
                lr_factor = warmup_cosine(gstep, total, warmup, 1.0)
                for group in optimizer.param_groups:
                    group["lr"] = group["base_lr"] * lr_factor
                start = s * per_step + world.rank * cfg.batch_size
                clips = perm[start : start + cfg.batch_size]
                batch = _sample_batch(tr, clips, g, cfg.spec_augment, cfg.crop_frames)
                batch["caption_ids_all"] = all_gather_ids(batch["caption_ids"], world)
                batch["caption_sets_all"] = all_gather_ids(batch["caption_sets"], world)
                losses = objective(batch, g)
                loss = sum(v for k, v in losses.items() if k.endswith("_loss"))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()
                seen += per_step
                state.update(global_step=gstep + 1, epoch=epoch, step_in_epoch=s + 1)
                if on_step and world.is_main:
                    on_step(
                        {
                            "epoch": epoch,
                            "step": gstep + 1,
                            "total": total,
                            "loss": float(loss.detach()),
                            "lr": cfg.lr * lr_factor,
                            "clips_per_s": seen / (time.perf_counter() - t0),
                            "grad_norm": float(grad_norm),
                            **{k: float(v.detach()) for k, v in losses.items()},
                        }
                    )
                if (
                    world.is_main
                    and (s + 1) % cfg.checkpoint_every == 0
                    and s + 1 < steps_per_epoch
                ):
                    save_checkpoint(last, model, cfg, state, optimizer)
            state.update(epoch=epoch + 1, step_in_epoch=0)
            if world.is_main:
                result = evaluate_split(model, table, va)
                metric = selection_metric(result)
                state["history"].append(
                    {
                        "epoch": epoch + 1,
                        "selection": metric,
                        "val": result,
                        "clips_per_s": seen / (time.perf_counter() - t0),
                    }
                )
                if state["best_metric"] is None or metric > state["best_metric"]:
                    state.update(best_metric=metric, best_epoch=epoch + 1)
                    save_checkpoint(
                        best, model, cfg, {k: v for k, v in state.items() if k != "history"}
                    )
                save_checkpoint(last, model, cfg, state, optimizer)
                _write_log(out, state)
            barrier(world)
        return state


def _check_tail_loss(model_cfg: ModelConfig, cfg: TrainConfig) -> None:
    """Block masks (ProLAP's audio levels) act on cached block embeddings: not available
    while the tower's tail trains."""
    from audiotext_cli.losses import create_loss

    if model_cfg.trainable_blocks() and create_loss(cfg.loss).needs.masking is not None:
        raise ConfigUsageError(
            f"model.tower_trainable={model_cfg.tower_trainable}: loss {cfg.loss.name!r} masks "
            "tower blocks, which needs the frozen tower (model.tower_trainable=none)"
        )


def _check_same_config(last: Path, model_cfg: ModelConfig, cfg: TrainConfig) -> None:
    """A resumed run must continue with the settings it was started with: a new lr or
    loss weight would be silently ignored by the restored optimizer state, or would make
    the checkpoints mean something else."""
    _, meta = read_config(last)
    try:
        saved = model_config_of(meta), train_config_of(meta)
    except (KeyError, TypeError, AudiotextError) as exc:
        raise CheckpointError(f"bad config in config.json ({exc})", last) from None
    keys = differing_keys(saved[0], model_cfg, "model") + differing_keys(saved[1], cfg, "train")
    if keys:
        raise ConfigUsageError(
            f"{last.parent} was trained with other settings ({', '.join(keys)}): resume it "
            "with the same preset and overrides, or train into a new --out"
        )


def evaluate_split(model: AudioTextModel, table: TextTable, split: Split) -> dict:
    was_training = model.training
    model.eval()
    adapter = _BankEmbedder(model, table)
    result = evaluate(adapter, split.records, audio=adapter.embed_bank(split.bank))
    model.train(was_training)
    return result


def _crop(
    logmel: torch.Tensor, valid: torch.Tensor, crop: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random `crop`-frame slice of each window, inside its valid part where it is longer
    (training only: halves the cost of a step; inference always sees whole windows)."""
    if crop <= 0 or crop >= logmel.shape[-1]:
        return logmel, valid
    room = torch.clamp(valid - crop, min=0)
    start = (torch.rand(len(valid), generator=g) * (room + 1)).long()
    idx = start[:, None] + torch.arange(crop)[None, :]
    out = torch.gather(logmel, 2, idx[:, None, :].expand(-1, logmel.shape[1], -1))
    return out, torch.clamp(valid - start, 1, crop)


def _sample_batch(
    split: Split, clips: torch.Tensor, g: torch.Generator, augment: bool, crop: int
) -> dict:
    """One caption level and paraphrase per clip, and its audio: for the CNN one random
    window (cropped, SpecAugment-ed), for a tower all its cached blocks as inference
    pools them, or their frozen prefix activations for an unfrozen tail (no augmentation:
    none of it is recomputed). Training-time randomness only."""
    bank = split.bank
    levels = torch.randint(0, 4, (len(clips),), generator=g)
    cap_ids = []
    for c, lv in zip(clips.tolist(), levels.tolist(), strict=True):
        options = split.caption_ids[c][lv]
        cap_ids.append(options[int(torch.randint(0, len(options), (1,), generator=g))])
    if isinstance(bank, TowerBank | PrefixBank):
        audio, valid = bank.clips(clips)
    else:
        starts, stops = bank.offsets[clips], bank.offsets[clips + 1]
        win = starts + (torch.rand(len(clips), generator=g) * (stops - starts)).long()
        audio, valid = _crop(bank.logmel[win].float(), bank.valid_frames[win], crop, g)
        if augment:
            audio = _spec_augment(audio, g)
    return {
        "audio": audio,
        "audio_valid": valid,
        "caption_ids": torch.tensor(cap_ids),
        "caption_sets": split.caption_sets[clips],
        "clips": clips,
    }


def _write_log(out: Path, state: dict) -> None:
    """Rewritten from the checkpointed history, so a resumed run never repeats lines."""
    write_text_atomic(out / "log.jsonl", "".join(json.dumps(h) + "\n" for h in state["history"]))
