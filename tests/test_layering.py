"""The import rules docs/architecture.md states, read from the source: nothing outside cli/
imports cli, evaluate never imports train, losses see models only for type hints, and the
helpers that once had copies (file hash, window pooling, same-model check) exist once."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import audiotext_cli

PACKAGE = Path(audiotext_cli.__file__).parent


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported audiotext_cli module, only for type checking) for every import in a file."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(n, id(node) in typing_only) for n in names if n.startswith("audiotext_cli.")]
    return found


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


FILES = sorted(PACKAGE.rglob("*.py"))


@cache
def _edges(typing_too: bool = True) -> set[tuple[str, str, str]]:
    """(layer, imported layer, file) over the whole package."""
    return {
        (_layer(f), module.split(".")[1], str(f.relative_to(PACKAGE)))
        for f in FILES
        for module, typing_only in _imports(f)
        if typing_too or not typing_only
    }


@pytest.mark.parametrize(
    ("importer", "imported"),
    [(layer, "cli") for layer in {_layer(f) for f in FILES} - {"cli", "__main__"}]
    + [("evaluate", "train"), ("metrics", "train"), ("models", "train")],
)
def test_no_layer_imports_what_sits_above_it(importer: str, imported: str) -> None:
    leaks = [f for a, b, f in _edges() if a == importer and b == imported]
    assert leaks == []


def test_losses_see_models_only_for_type_hints() -> None:
    leaks = [f for a, b, f in _edges(typing_too=False) if a == "losses" and b == "models"]
    assert leaks == []


@pytest.mark.parametrize(
    ("definition", "home"),
    [
        ("def file_sha256(", "hashing.py"),
        ("def weighted_mean(", "models/pooling.py"),
        ("def check_same_model(", "index/store.py"),
        ("def debiased_hsic_terms(", "metrics/cka.py"),
    ],
)
def test_once_copied_helpers_are_defined_once(definition: str, home: str) -> None:
    homes = [str(f.relative_to(PACKAGE)) for f in FILES if f"\n{definition}" in f.read_text()]
    assert homes == [home]


def test_the_file_hash_goes_by_one_name() -> None:
    aliased = [str(f.relative_to(PACKAGE)) for f in FILES if "file_sha256 as " in f.read_text()]
    assert aliased == []
