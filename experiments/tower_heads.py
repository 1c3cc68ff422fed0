"""Heads on the frozen aisfx tower, trained on cached block features (issue 16, first step).

Not yet the `audiotext train` path: this script trains the model's own pieces (BlockPool +
two ProjectionHeads, multi-positive InfoNCE, sources sampled by n**alpha, warm-up + cosine)
straight on `towers.cache.FeatureCache` features of the default corpus and scores them with
the project's `evaluate` (cross-source eval split, chance levels in docs/results.md).

    SPLITS=train,val,eval python experiments/tower_heads.py \
        '{"epochs": 60, "lr": 2e-3, "seed": 0, "evalsplit": "val,eval"}'

Each JSON argument is one run; it prints (t2a R@10, a2t R@10, [zero-shot accuracy L1, L2, L3])
per split, in percent (zero-shot here is plain accuracy, not balanced).
"""

import json
import math
import os
import sys
import time
from collections import Counter

import torch
import torch.nn.functional as F

from audiotext_cli.data.manifest import captions_at, read_manifest
from audiotext_cli.embedder import Embeddings
from audiotext_cli.evaluate.run import evaluate
from audiotext_cli.models.block_pool import BlockPool
from audiotext_cli.models.heads import ProjectionHead
from audiotext_cli.paths import home
from audiotext_cli.towers.aisfx import AisfxTower
from audiotext_cli.train.texts import TextTable
from audiotext_cli.train.tower_bank import build_tower_bank

torch.set_num_threads(2)

root = home() / "corpus"
R = {s: read_manifest(root / f"{s}.jsonl") for s in ["train", "val", "eval"]}
tower = AisfxTower()

B = {
    s: build_tower_bank([r.audio for r in R[s]], tower)
    for s in os.environ.get("SPLITS", "train,val").split(",")
}
texts = [c["text"] for s in R for r in R[s] for c in r.captions]
table = TextTable(texts)


def run(
    epochs=30,
    bs=512,
    lr=1e-3,
    hidden=512,
    dim=256,
    alpha=0.5,
    wd=0.05,
    seed=0,
    drop=0.0,
    evalsplit="val",
):
    torch.manual_seed(seed)
    pool = BlockPool(512)
    ah = ProjectionHead(512, hidden, dim, False, 0.0)
    th = ProjectionHead(384, hidden, dim, False, 0.0)
    ls = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    params = list(pool.parameters()) + list(ah.parameters()) + list(th.parameters())
    opt = torch.optim.AdamW(
        [{"params": params, "weight_decay": wd}, {"params": [ls], "weight_decay": 0, "lr": 1e-2}],
        lr=lr,
    )
    tr = R["train"]
    n = len(tr)
    caps = [[[table.ids[t] for t in captions_at(r, lv)] for lv in (1, 2, 3, 4)] for r in tr]
    counts = Counter(r.source for r in tr)
    w = torch.tensor([counts[r.source] ** (alpha - 1) for r in tr]).double()
    steps = n // bs
    total = steps * epochs
    g = torch.Generator().manual_seed(seed)
    st = 0
    for _ep in range(epochs):
        order = torch.multinomial(w, n, replacement=True, generator=g)
        for s in range(steps):
            clips = order[s * bs : (s + 1) * bs]
            lv = torch.randint(0, 4, (bs,), generator=g)
            ids = torch.tensor(
                [
                    caps[c][lv_][int(torch.randint(0, len(caps[c][lv_]), (1,), generator=g))]
                    for c, lv_ in zip(clips.tolist(), lv.tolist(), strict=False)
                ]
            )
            blocks, cnt = B["train"].clips(clips)
            if drop:
                blocks = (
                    blocks * (torch.rand(blocks.shape[0], 1, 512, generator=g) > drop) / (1 - drop)
                )
            a = ah(pool(blocks, cnt)).mean
            t = th(table.features[ids]).mean
            logits = ls.clamp(0, math.log(100)).exp() * a @ t.T
            pos = (ids[:, None] == ids[None, :]).float()
            la = -(F.log_softmax(logits, 1) * pos / pos.sum(1, keepdim=True)).sum(1).mean()
            lt = -(F.log_softmax(logits.T, 1) * pos / pos.sum(1, keepdim=True)).sum(1).mean()
            loss = (la + lt) / 2
            f = min(1, (st + 1) / steps) * 0.5 * (1 + math.cos(math.pi * st / total))
            st += 1
            for gr, base in zip(opt.param_groups, [lr, 1e-2], strict=False):
                gr["lr"] = base * f
            opt.zero_grad()
            loss.backward()
            opt.step()

    class Ad:
        sample_rate = 44100

        @torch.no_grad()
        def embed_texts(self, q):
            return Embeddings(th(torch.from_numpy(table.encode(q))).mean.numpy())

    res = {}
    for split in evalsplit.split(","):
        with torch.no_grad():
            bl, cn = B[split].clips(range(len(R[split])))
            au = Embeddings(ah(pool(bl, cn)).mean.numpy())
        r = evaluate(Ad(), R[split], audio=au)
        res[split] = (
            round(r["text_to_audio"]["R@10"] * 100, 1),
            round(r["audio_to_text"]["R@10"] * 100, 1),
            [
                round(r["zeroshot"][lv_]["accuracy"] * 100, 1)
                for lv_ in ("1", "2", "3")
                if lv_ in r["zeroshot"]
            ],
        )
    return res


if __name__ == "__main__":
    for kw in [json.loads(a) for a in sys.argv[1:]]:
        t = time.time()
        print(kw, run(**kw), f"{time.time() - t:.0f}s", flush=True)
