"""--filter / --where parsing, and filtered search against a brute-force filter + exact top-k."""

from __future__ import annotations

import numpy as np
import pytest

from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import QueryError
from audiotext_cli.index.faiss_index import build_index, choose_index
from audiotext_cli.index.query import parse_filter, parse_where, row_text, select_rows, tokens

WORDS = ["dog", "bark", "cat", "meow", "door", "slam", "rain", "wind"]


def test_tokens_split_names_camel_case_and_digits():
    assert tokens("ANMLDog_DogBarking01_JD-MyLib.wav") == [
        "anml", "dog", "dog", "barking", "01", "jd", "my", "lib", "wav",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("expr", "text", "expected"),
    [
        ("bark -cat", "dog barking", True),
        ("bark -cat", "cat barking", False),
        ("bark -cat", "dog", False),
        ("dog,cat bark", "cat bark", True),
        ("dog, cat bark", "cow bark", False),
        ('"door slam" -metal', "Door_Slam_wood", True),
        ('"door slam"', "slam door", False),
        ("-cat,-dog", "cat dog", False),
        ("", "anything", True),
    ],
)
def test_filter_semantics(expr, text, expected):
    assert parse_filter(expr).matches(text) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("duration<5 and rate>=44.1k", True),
        ("duration<500ms", False),
        ("format=wav or format=flac", True),
        ("not (channels=2)", True),
        ("tag=quiet and tag!=loud", True),
        ("title~bark", True),
        ("origination_date>=2020-01-01", True),
        ("folder=animals/dogs", True),
        ("name='dog 1.wav'", True),
        ("missing=3", False),
    ],
)
def test_where_semantics(expr, expected):
    row = {
        "id": "animals/dogs/dog 1.wav",
        "duration": 3.0,
        "sample_rate": 48000,
        "channels": 1,
        "format": "WAV",
        "tags": ["quiet"],
        "metadata": {"title": "Dog barking", "origination_date": "2021-05-01"},
    }
    assert parse_where(expr).matches(row) is expected


@pytest.mark.parametrize(
    "expr", ["duration<", "duration 5", "(duration<1", "duration<1 rate>2", "a ~", "x=1 and"]
)
def test_bad_where_is_one_query_error(expr):
    with pytest.raises(QueryError) as info:
        parse_where(expr)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("expr", ["duration<5x", "rate>=fast", "sr=44.1kz", "size!=big"])
def test_a_word_against_a_numeric_field_is_an_error(expr):
    """Not a silent empty result: `duration<1min` would otherwise match no row."""
    with pytest.raises(QueryError, match="is a number"):
        parse_where(expr)
    assert parse_where("take<5x and duration~0.8 and rate>=48khz").root is not None


@pytest.mark.parametrize("expr", ["-", "a,", '"ab', "dog,,cat"])
def test_bad_filter_is_one_query_error(expr):
    with pytest.raises(QueryError):
        parse_filter(expr)


def test_unknown_where_field_is_reported():
    with pytest.raises(QueryError, match="duraton"):
        select_rows([{"id": "a", "duration": 1.0}], where="duraton<5")


def _library(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        words = rng.choice(WORDS, 2, replace=False)
        rows.append(
            {
                "id": f"{words[0]}/{words[1]}_{i:03d}.wav",
                "duration": float(rng.uniform(0.1, 10)),
                "sample_rate": int(rng.choice([22050, 44100, 48000])),
                "channels": int(rng.choice([1, 2])),
                "metadata": {"title": str(rng.choice(WORDS))},
            }
        )
    mean = rng.standard_normal((n, 16)).astype(np.float32)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    return rows, mean


def _brute(rows, mean, q, where, text, k):
    keep = [
        i
        for i, r in enumerate(rows)
        if parse_where(where).matches(r) and parse_filter(text).matches(row_text(r))
    ]
    scores = mean[keep] @ q
    order = np.argsort(-scores, kind="stable")[:k]
    return [keep[i] for i in order], scores[order]


CASES = [
    ("duration<5 and rate>=44100", "bark -cat"),
    ("channels=2", "dog,rain"),
    ("duration<0.25", ""),  # rare: fewer rows than k may match
    ("", "wind door -slam"),
]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw", "ivfpq"])
def test_filtered_search_equals_brute_force(kind):
    rows, mean = _library()
    meta = {"model_id": "m", "dim": 16, "probabilistic": False, "kind": "audio"}
    params = {"refine": "flat"} if kind == "ivfpq" else {}
    spec = choose_index(len(rows), 16, kind=kind, **params)
    index = build_index((rows, Embeddings(mean), meta | {"model_source": ""}), spec)
    q = mean[7] + 0.1
    for where, text in CASES:
        subset = select_rows(rows, where, text)
        hits = index.search(q[None], 10, subset=subset)[0]
        want_rows, want_scores = _brute(rows, mean, q, where, text, 10)
        assert len(hits) == min(10, len(subset)), (where, text)
        assert sorted(h.id for h in hits) == sorted(rows[i]["id"] for i in want_rows)
        np.testing.assert_allclose([h.score for h in hits], want_scores, rtol=1e-4, atol=1e-5)
    assert len(select_rows(rows, "duration<0.25")) < 10  # the rare case is rare


def test_select_rows_equals_brute_force():
    rows, _ = _library()
    where, text = "duration<5 and (rate>=44.1k or channels=1)", "dog,cat -meow"
    want = [
        i
        for i, r in enumerate(rows)
        if r["duration"] < 5
        and (r["sample_rate"] >= 44100 or r["channels"] == 1)
        and any(w in ("dog", "cat") for w in tokens(row_text(r)))
        and "meow" not in tokens(row_text(r))
    ]
    assert select_rows(rows, where, text).tolist() == want
    assert len(want) > 20


def _mixed_rows(n: int = 300, seed: int = 1):
    """Rows with every kind of value a filter meets: numbers, numeric strings, words,
    bools, tag lists (some empty), missing fields, phrases in names."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row = {"id": f"{rng.choice(WORDS)}/{''.join(rng.choice(WORDS, 2))}_{i}.wav"}
        if rng.random() < 0.9:
            row["duration"] = float(rng.choice([0.5, 1, 2.5, 5, 10])) if i % 3 else 5
        row["sample_rate"] = int(rng.choice([22050, 44100]))
        meta = {}
        if rng.random() < 0.6:
            meta["take"] = str(rng.choice(["1", "2", "10", "x2", "abc"]))
        if rng.random() < 0.3:
            meta["loop"] = bool(rng.random() < 0.5)
        if rng.random() < 0.5:
            meta["date"] = f"20{rng.integers(10, 30)}-0{rng.integers(1, 9)}-01"
        row["metadata"] = meta
        if rng.random() < 0.5:
            row["tags"] = [str(t) for t in rng.choice(WORDS, rng.integers(0, 3), replace=False)]
        rows.append(row)
    return rows


WHERES = [
    "duration<5", "duration=5", "duration!=5", "duration>=2.5s and rate=44.1k",
    "not duration<1 or take>1", "take<10", "take=2", "take!=abc", "take~2", "duration~.5",
    "loop=true", "loop!=false", "tags=dog", "tags!=dog", "tag~o", "date>=2020-01-01",
    "name~bark", "folder=dog", "(rate=22050 or take=x2) and not tags=cat", "take<abc",
]  # fmt: skip
FILTERS = ["dog", "dog bark -cat", "ba,me -rain", '"dog bark"', '-"cat meow"', "wav 1"]


def test_column_masks_equal_row_by_row_evaluation():
    """RowTable (numpy columns, token postings) against WhereClause/TextFilter.matches."""
    from audiotext_cli.index.columns import RowTable

    rows = _mixed_rows()
    table = RowTable(rows)
    for where in WHERES:
        clause = parse_where(where)
        want = [i for i, r in enumerate(rows) if clause.matches(r)]
        assert select_rows(rows, where, table=table).tolist() == want, where
    sizes = set()
    for text in FILTERS:
        filt = parse_filter(text)
        want = [i for i, r in enumerate(rows) if filt.matches(row_text(r))]
        assert select_rows(rows, text=text, table=table).tolist() == want, text
        sizes.add(len(want))
    assert len(sizes) > 3 and min(sizes) > 0 and max(sizes) < len(rows)  # not all-or-none
