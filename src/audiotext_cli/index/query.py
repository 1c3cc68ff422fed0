"""Row filters for hybrid search: `--filter` terms and `--where` conditions (docs/index.md).

`--filter "bark -cat,dog"`: terms over a row's searchable text (its relative path, its
metadata values, tags and caption). Space = AND, comma = OR (binds tighter than space),
a leading `-` = NOT, `"two words"` = a phrase. A term matches a token it begins, so `bark`
matches `DogBarking_01.wav` (tokens split at non-letters and camelCase: dog, barking, 01).

`--where "duration<5 and rate>=44.1k"`: comparisons `FIELD OP VALUE` joined by `and`,
`or`, `not` and parentheses; OP is one of `< <= > >= = == != ~` (`~`: contains). Numbers
take `ms`, `s`, `hz`, `k`/`khz` suffixes. Strings compare case-insensitively (`<` on
strings is lexicographic, so ISO dates order). A list field (tags) matches when any element
does. A row without the field fails the comparison.

Both parsers raise `QueryError` (one line; the CLI exits 2). `select_rows` applies them to
rows (as numpy masks over columns read once, index/columns.py) and returns positions,
the id pre-filter that search hands to FAISS.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from audiotext_cli.errors import QueryError

if TYPE_CHECKING:
    from audiotext_cli.index.columns import RowTable

# -- tokens ------------------------------------------------------------------------------

_CHUNK = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens: split at non-letters, letter/digit and camelCase boundaries."""
    out: list[str] = []
    for chunk in _CHUNK.findall(text):
        out.extend(_chunk_tokens(chunk))
    return out


@lru_cache(maxsize=1 << 16)
def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    """One chunk's tokens (cached: a library repeats its folder and name words)."""
    parts = _CAMEL.findall(chunk) if chunk.isascii() else [chunk]
    return tuple(part.lower() for part in parts)


def row_text(row: dict[str, Any]) -> str:
    """What `--filter` searches: relative path (or id), metadata values, tags, caption."""
    parts = [str(row.get("id", "")), str(row.get("text") or "")]
    parts += _flat_values(row.get("metadata") or {})
    parts += [str(t) for t in row.get("tags") or ()]
    return " ".join(parts)


def _flat_values(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _flat_values(item)]
    if isinstance(value, list | tuple):
        return [v for item in value for v in _flat_values(item)]
    return [] if value is None else [str(value)]


# -- --filter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    words: tuple[str, ...]  # a phrase: consecutive tokens, each beginning with its word
    negated: bool

    def hit(self, toks: Sequence[str]) -> bool:
        n = len(self.words)
        found = any(
            all(toks[i + j].startswith(w) for j, w in enumerate(self.words))
            for i in range(len(toks) - n + 1)
        )
        return found != self.negated


@dataclass(frozen=True)
class TextFilter:
    """AND of OR-groups of terms; an empty filter matches everything."""

    clauses: tuple[tuple[_Term, ...], ...]
    expr: str = ""

    def matches(self, text: str) -> bool:
        return self.matches_tokens(tokens(text))

    def matches_tokens(self, toks: Sequence[str]) -> bool:
        return all(any(term.hit(toks) for term in clause) for clause in self.clauses)


_FILTER_ITEM = re.compile(r'\s*(-?)(?:"([^"]*)"|([^\s,"]+))\s*(,?)')


def parse_filter(expr: str | None) -> TextFilter:
    """`"bark -cat"`, `"dog,cat bark"`, `'"door slam" -metal'` -> a TextFilter."""
    expr = (expr or "").strip()
    clauses: list[tuple[_Term, ...]] = []
    group: list[_Term] = []
    pos = 0
    while pos < len(expr):
        match = _FILTER_ITEM.match(expr, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"--filter: cannot parse {expr[pos:]!r} in {expr!r}")
        negated, phrase, word, comma = match.groups()
        words = tuple(tokens(phrase if phrase is not None else word))
        if not words:
            raise QueryError(f"--filter: term {match.group(0).strip()!r} has no letters or digits")
        group.append(_Term(words, bool(negated)))
        pos = match.end()
        if not comma:
            clauses.append(tuple(group))
            group = []
        elif pos >= len(expr):
            raise QueryError(f"--filter: {expr!r} ends with a comma")
    return TextFilter(tuple(clauses), expr)


# -- --where -------------------------------------------------------------------------------

ALIASES = {
    "rate": "sample_rate",
    "sr": "sample_rate",
    "dur": "duration",
    "ext": "format",
    "tag": "tags",
    "file": "name",
}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "~": lambda a, b: str(b) in str(a),
}
# row fields that are always numbers: comparing one with a word is a typo (`duration<5x`,
# `rate>=fast`), which would otherwise silently match no row
NUMERIC_FIELDS = frozenset({"duration", "sample_rate", "channels", "size"})
_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "hz": 1.0, "k": 1e3, "khz": 1e3}
_NUMBER = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(ms|s|khz|hz|k)?", re.IGNORECASE)
_WHERE_TOKEN = re.compile(
    r"""\s*(?:(?P<paren>[()])|(?P<op><=|>=|!=|==|=|<|>|~)|"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'"""
    r"""|(?P<word>[^\s()<>=!~"']+))"""
)


def field_value(row: dict[str, Any], name: str) -> Any:
    """A row's value for a `--where` field: top-level keys, derived fields (name, folder),
    then metadata keys, all case-insensitive; None when the row lacks it."""
    key = ALIASES.get(name.lower(), name.lower())
    rel = str(row.get("id") or row.get("path") or "")
    if key == "name" and "name" not in row:
        return PurePosixPath(rel).name
    if key == "folder" and "folder" not in row:
        parent = PurePosixPath(rel).parent.as_posix()
        return "" if parent == "." else parent
    for source in (row, row.get("metadata") or {}):
        for k, v in source.items():
            if k.lower() == key and v is not None and not isinstance(v, dict):
                return v
    return None


def _number(text: str) -> float | None:
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    return float(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


@dataclass(frozen=True)
class _Cond:
    field: str
    op: str
    value: str

    def test(self, row: dict[str, Any]) -> bool:
        got = field_value(row, self.field)
        if got is None:
            return False
        if isinstance(got, list | tuple):
            hits = [self._one(item) for item in got]
            return all(hits) if self.op == "!=" else any(hits)
        return self._one(got)

    def _one(self, got: Any) -> bool:
        fn = _OPS[self.op]
        want = _number(self.value)
        have = got if isinstance(got, int | float) and not isinstance(got, bool) else None
        if have is None and self.op not in ("=", "==", "!=", "~") and isinstance(got, str):
            have = _number(got)
        if have is not None and want is not None and self.op != "~":
            return fn(float(have), want)
        if have is not None and self.op not in ("=", "==", "!=", "~"):
            return False  # a number against a word: no order
        return fn(str(got).lower(), self.value.lower())


@dataclass(frozen=True)
class _Bool:
    op: str  # "and", "or", "not"
    parts: tuple[Any, ...]

    def test(self, row: dict[str, Any]) -> bool:
        if self.op == "not":
            return not self.parts[0].test(row)
        results = (part.test(row) for part in self.parts)
        return all(results) if self.op == "and" else any(results)


@dataclass(frozen=True)
class WhereClause:
    """A parsed `--where` expression; an empty one matches every row."""

    root: _Cond | _Bool | None
    expr: str = ""

    def matches(self, row: dict[str, Any]) -> bool:
        return self.root is None or self.root.test(row)

    def fields(self) -> set[str]:
        """The field names the expression reads (to report unknown ones)."""
        out: set[str] = set()
        stack = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, _Cond):
                out.add(node.field)
            elif isinstance(node, _Bool):
                stack.extend(node.parts)
        return out


def _lex_where(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _WHERE_TOKEN.match(expr, pos)
        if match is None:
            raise QueryError(f"--where: cannot parse {expr[pos:].strip()!r} in {expr!r}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind in ("dq", "sq"):
            kind = "str"
        elif kind == "word" and text.lower() in ("and", "or", "not"):
            kind = text.lower()
        out.append((kind, text))
        pos = match.end()
    return out


class _WhereParser:
    """Recursive descent: or := and ('or' and)*; and := not ('and' not)*;
    not := 'not' not | '(' or ')' | FIELD OP VALUE."""

    def __init__(self, expr: str) -> None:
        self.expr, self.toks, self.pos = expr, _lex_where(expr), 0

    def parse(self) -> WhereClause:
        if not self.toks:
            return WhereClause(None, self.expr)
        root = self._or()
        if self.pos < len(self.toks):
            self._fail(f"unexpected {self.toks[self.pos][1]!r}")
        return WhereClause(root, self.expr)

    def _fail(self, what: str) -> None:
        raise QueryError(f"--where: {what} in {self.expr!r}")

    def _peek(self) -> str | None:
        return self.toks[self.pos][0] if self.pos < len(self.toks) else None

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.toks):
            self._fail("unexpected end")
        self.pos += 1
        return self.toks[self.pos - 1]

    def _chain(self, op: str, sub: Callable[[], Any]) -> Any:
        parts = [sub()]
        while self._peek() == op:
            self._take()
            parts.append(sub())
        return parts[0] if len(parts) == 1 else _Bool(op, tuple(parts))

    def _or(self) -> Any:
        return self._chain("or", self._and)

    def _and(self) -> Any:
        return self._chain("and", self._not)

    def _not(self) -> Any:
        kind, text = self._take()
        if kind == "not":
            return _Bool("not", (self._not(),))
        if kind == "paren" and text == "(":
            inner = self._or()
            if self._take() != ("paren", ")"):
                self._fail("missing ')'")
            return inner
        if kind != "word":
            self._fail(f"expected a field name, got {text!r}")
        op_kind, op = self._take()
        if op_kind != "op":
            self._fail(f"expected an operator (< <= > >= = != ~) after {text!r}, got {op!r}")
        value_kind, value = self._take()
        if value_kind not in ("word", "str"):
            self._fail(f"expected a value after {text}{op}")
        numeric = ALIASES.get(text.lower(), text.lower()) in NUMERIC_FIELDS
        if numeric and op != "~" and _number(value) is None:
            self._fail(f"{text} is a number, {value!r} is not (units: ms, s, hz, k, khz)")
        return _Cond(text, op, value)


def parse_where(expr: str | None) -> WhereClause:
    """`"duration<5 and (rate>=44100 or format=flac)"` -> a WhereClause."""
    return _WhereParser((expr or "").strip()).parse()


# -- applying both -------------------------------------------------------------------------


def _derived_fields() -> set[str]:
    return {"name", "folder", *ALIASES}


def select_rows(
    rows: Sequence[dict[str, Any]],
    where: str | WhereClause | None = None,
    text: str | TextFilter | None = None,
    table: RowTable | None = None,
) -> np.ndarray:
    """Positions (int64, ascending) of the rows matching both filters.

    `table`: the rows' RowTable (index/columns.py), kept between calls so columns and
    tokens are read once; without it one is built for this call. A `--where` field that
    no row has is a QueryError (a typo would otherwise match nothing, silently)."""
    from audiotext_cli.index.columns import RowTable

    clause = parse_where(where) if isinstance(where, str | None) else where
    filt = parse_filter(text) if isinstance(text, str | None) else text
    table = table if table is not None else RowTable(rows)
    if rows and clause.root is not None:
        known = table.known_fields()
        unknown = sorted(f for f in clause.fields() if f.lower() not in known)
        if unknown:
            raise QueryError(
                f"--where: no row has the field {', '.join(unknown)} "
                f"(fields: {', '.join(sorted(known))})"
            )
    keep = table.where_mask(clause)
    if filt.clauses:
        keep &= table.filter_mask(filt)
    return np.flatnonzero(keep).astype(np.int64)
