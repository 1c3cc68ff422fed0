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


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _eager_imports(path: Path) -> set[str]:
    """audiotext_cli modules a file imports when it is loaded (module level, outside
    TYPE_CHECKING; function-level imports run later and cannot form a load cycle)."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.If | ast.Try):
                visit(
                    node.body
                    + node.orelse
                    + sum((h.body for h in getattr(node, "handlers", [])), [])
                )
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "audiotext_cli"
            ):
                found.update([node.module, *(f"{node.module}.{a.name}" for a in node.names)])
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("audiotext_cli"))

    visit(ast.parse(path.read_text()).body)
    return found


def test_no_import_cycle_crosses_packages() -> None:
    """`import audiotext_cli.towers.aisfx` in a fresh interpreter once failed: models/ imported
    towers/aisfx while aisfx, half loaded, imported models/. A package's __init__ and its own
    modules may import each other; a load cycle through two packages may not."""
    modules = {_module(f): f for f in FILES}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in _eager_imports(path) | {name.rsplit(".", 1)[0]}:  # parent runs first
            parts = imported.split(".")
            targets.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
        graph[name] = {t for t in targets if t in modules and t != name}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reachable = {name: reach(name) for name in graph}
    crossing = sorted(
        (a, b)
        for a in graph
        for b in reachable[a]
        if a in reachable[b] and a.split(".")[1] != b.split(".")[1] and a < b
    )
    assert crossing == []
