"""`--where` / `--filter` as numpy masks over columns read once per index (index/query.py).

Evaluated row by row in Python, a duration filter took 1.7 s and a text filter 11 s over
100k rows here; the page changes filters with every keystroke. A RowTable reads each field
a condition names once into a column, and every row's filter tokens once into an inverted
index, so a filter costs a few numpy operations. The semantics stay the row-by-row ones
(`WhereClause.matches`, `TextFilter.matches`) by construction:

- a comparison on numbers with a numeric value is one vectorised op with the same rule;
  every other value is decided by `_Cond._one` itself, once per *distinct* value;
  a list field (tags) reduces its elements' results with any (all for `!=`);
- a term's rows are the postings of every vocabulary token it begins (a sorted-vocabulary
  range); a phrase's candidates (rows holding each word) are confirmed by `_Term.hit`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np

from audiotext_cli.index.query import (
    _OPS,
    ALIASES,
    TextFilter,
    WhereClause,
    _Bool,
    _Cond,
    _derived_fields,
    _number,
    _Term,
    field_value,
    row_text,
    tokens,
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Values:
    """Scalar values at row positions: numbers as a float array, every value factorised."""

    def __init__(self, positions: list[int], values: list[Any]) -> None:
        self.pos = np.asarray(positions, np.int64)
        self.is_num = np.fromiter((_is_number(v) for v in values), bool, len(values))
        self.num = np.fromiter(
            (float(v) if _is_number(v) else np.nan for v in values), np.float64, len(values)
        )
        keys: dict[Any, int] = {}
        self.distinct: list[Any] = []
        codes = np.empty(len(values), np.int64)
        for i, value in enumerate(values):
            key = _key(value)
            code = keys.get(key)
            if code is None:
                code = keys[key] = len(self.distinct)
                self.distinct.append(value)
            codes[i] = code
        self.codes = codes
        self.distinct_is_num = np.fromiter(map(_is_number, self.distinct), bool, len(self.distinct))

    def test(self, cond: _Cond) -> np.ndarray:
        """cond._one of every value, as a bool array aligned with `pos`."""
        want = _number(cond.value)
        vectorised = want is not None and cond.op != "~"
        # numbers are decided below in one op: only the other distinct values go to _one
        # (a duration column has a distinct value per row: 100k Python calls were 50 ms)
        undecided = (
            np.flatnonzero(~self.distinct_is_num) if vectorised else range(len(self.distinct))
        )
        decided = np.zeros(len(self.distinct), bool)
        for j in undecided:
            decided[j] = cond._one(self.distinct[j])
        out = decided[self.codes]
        if vectorised:
            out[self.is_num] = _OPS[cond.op](self.num[self.is_num], want)
        return out


def _key(value: Any) -> Any:
    """A dict key that keeps 1, 1.0 and True apart (their str() differ)."""
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return (type(value), value)


class _Column:
    """One `--where` field of every row: scalars, and list elements with their rows."""

    def __init__(self, rows: Sequence[dict[str, Any]], field: str) -> None:
        self.n = len(rows)
        scalar_pos: list[int] = []
        scalars: list[Any] = []
        element_rows: list[int] = []
        elements: list[Any] = []
        list_rows: list[int] = []
        for i, row in enumerate(rows):
            value = field_value(row, field)
            if value is None:
                continue
            if isinstance(value, list | tuple):
                list_rows.append(i)
                element_rows += [i] * len(value)
                elements += list(value)
            else:
                scalar_pos.append(i)
                scalars.append(value)
        self.scalars = _Values(scalar_pos, scalars)
        self.elements = _Values(element_rows, elements)
        self.list_rows = np.asarray(list_rows, np.int64)

    def mask(self, cond: _Cond) -> np.ndarray:
        out = np.zeros(self.n, bool)
        out[self.scalars.pos] = self.scalars.test(cond)
        if len(self.list_rows):
            hits = self.elements.test(cond)
            every = cond.op == "!="
            out[self.list_rows] = every  # all([]) is True, any([]) False
            reduce = np.logical_and if every else np.logical_or
            reduce.at(out, self.elements.pos, hits)
        return out


class _TokenIndex:
    """Every row's filter tokens (query.row_text -> query.tokens) and their postings."""

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        canon: dict[str, str] = {}
        postings: dict[str, list[int]] = {}
        self.row_tokens: list[tuple[str, ...]] = []
        for i, row in enumerate(rows):
            toks = tuple(canon.setdefault(t, t) for t in tokens(row_text(row)))
            self.row_tokens.append(toks)
            for tok in set(toks):
                postings.setdefault(tok, []).append(i)
        self.n = len(rows)
        self.vocab = sorted(postings)
        self.postings = [np.asarray(postings[t], np.int64) for t in self.vocab]

    def beginning(self, word: str) -> np.ndarray:
        """Mask of the rows with a token that begins with `word`."""
        out = np.zeros(self.n, bool)
        j = bisect_left(self.vocab, word)
        while j < len(self.vocab) and self.vocab[j].startswith(word):
            out[self.postings[j]] = True
            j += 1
        return out

    def term(self, term: _Term) -> np.ndarray:
        found = np.logical_and.reduce([self.beginning(w) for w in term.words])
        if len(term.words) > 1:
            phrase = _Term(term.words, False)
            for i in np.flatnonzero(found):
                found[i] = phrase.hit(self.row_tokens[i])
        return ~found if term.negated else found


class RowTable:
    """Columns and tokens of one list of rows, each built on first use and kept."""

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        self.rows = rows
        self._columns: dict[str, _Column] = {}
        self._tokens: _TokenIndex | None = None
        self._known: set[str] | None = None
        self._ids: np.ndarray | None = None

    def column(self, field: str) -> _Column:
        key = ALIASES.get(field.lower(), field.lower())
        if key not in self._columns:
            self._columns[key] = _Column(self.rows, key)
        return self._columns[key]

    @property
    def token_index(self) -> _TokenIndex:
        if self._tokens is None:
            self._tokens = _TokenIndex(self.rows)
        return self._tokens

    def known_fields(self) -> set[str]:
        """Field names `--where` can read in these rows (lower case)."""
        if self._known is None:
            names = set(_derived_fields())
            for row in self.rows:
                names.update(k.lower() for k in row)
                names.update(k.lower() for k in row.get("metadata") or {})
            self._known = names
        return self._known

    def where_mask(self, clause: WhereClause) -> np.ndarray:
        if clause.root is None:
            return np.ones(len(self.rows), bool)
        return self._node(clause.root)

    def _node(self, node: _Cond | _Bool) -> np.ndarray:
        if isinstance(node, _Cond):
            return self.column(node.field).mask(node)
        parts = [self._node(part) for part in node.parts]
        if node.op == "not":
            return ~parts[0]
        return (np.logical_and if node.op == "and" else np.logical_or).reduce(parts)

    def filter_mask(self, filt: TextFilter) -> np.ndarray:
        out = np.ones(len(self.rows), bool)
        for clause in filt.clauses:
            out &= np.logical_or.reduce([self.token_index.term(term) for term in clause])
        return out

    def prefix_mask(self, prefix: str) -> np.ndarray:
        """Rows whose id (relative path) begins with `prefix`."""
        if self._ids is None:
            self._ids = np.asarray([str(row.get("id", "")) for row in self.rows], dtype=str)
        if not len(self._ids):
            return np.zeros(0, bool)
        return np.char.startswith(self._ids, prefix)
