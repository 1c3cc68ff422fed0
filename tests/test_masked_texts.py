"""Cached masked-caption chains (train/masked_texts.py): fixed per caption, cached, honest."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiotext_cli.text import load_minilm
from audiotext_cli.train.masked_texts import MaskedTextBank

TEXTS = ["music", "a violin plays a loud short C4 note", "a dog barking in the rain"]


@pytest.fixture(scope="module")
def minilm():
    return load_minilm()


def _levels(bank: MaskedTextBank, cap: int, variant: int) -> np.ndarray:
    return bank.features[bank.row[cap], variant].numpy()


def test_a_chain_depends_on_its_caption_only(minilm) -> None:
    """Another corpus order and another set of training captions give the same rows."""
    a = MaskedTextBank(minilm, TEXTS, [0, 1, 2], 0.5, 2, 3)
    reordered = [TEXTS[2], TEXTS[1]]
    b = MaskedTextBank(minilm, reordered, [0, 1], 0.5, 2, 3)
    for variant in range(3):
        assert np.array_equal(_levels(a, 2, variant), _levels(b, 0, variant))
        assert np.array_equal(_levels(a, 1, variant), _levels(b, 1, variant))
    # and variants differ from each other (the long caption has words to mask)
    assert not np.array_equal(_levels(a, 1, 0), _levels(a, 1, 1))


def test_no_masking_is_the_caption_and_full_masking_keeps_only_length(minilm) -> None:
    plain = minilm.encode(TEXTS)
    none = MaskedTextBank(minilm, TEXTS, [0, 1, 2], 0.0, 2, 2)
    for cap in range(3):
        for level in range(2):
            np.testing.assert_allclose(none.features[cap, 0, level].numpy(), plain[cap], atol=1e-6)
    full = MaskedTextBank(minilm, TEXTS, [1], 1.0, 1, 1)
    n_words = len(minilm.tokenizer.encode(TEXTS[1]).ids) - 2
    cls, sep = minilm.tokenizer.encode(TEXTS[1]).ids[0], minilm.tokenizer.encode(TEXTS[1]).ids[-1]
    expected = minilm.encode_ids([[cls, *[minilm.mask_token_id] * n_words, sep]])[0]
    np.testing.assert_allclose(full.features[0, 0, 0].numpy(), expected, atol=1e-6)


def test_sample_draws_variants_and_refuses_other_captions(minilm) -> None:
    bank = MaskedTextBank(minilm, TEXTS, [1, 2], 0.75, 2, 4)
    g = torch.Generator().manual_seed(0)
    levels = bank.sample(torch.tensor([1, 2, 1]), g)
    assert len(levels) == 2 and levels[0].shape == (3, 384)
    for row, cap in enumerate([1, 2, 1]):
        assert any(
            torch.equal(levels[0][row], bank.features[bank.row[cap], v, 0]) for v in range(4)
        )
    with pytest.raises(ValueError, match="not a training caption"):
        bank.sample(torch.tensor([0]), g)


def test_the_cache_is_reused(minilm, monkeypatch) -> None:
    first = MaskedTextBank(minilm, TEXTS, [0, 1, 2], 0.25, 2, 2)

    def refuse(*args, **kwargs):
        raise AssertionError("encoded again")

    monkeypatch.setattr(minilm, "encode_ids", refuse)
    again = MaskedTextBank(minilm, TEXTS, [0, 1, 2], 0.25, 2, 2)
    assert torch.equal(first.features, again.features)
