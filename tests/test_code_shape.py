"""The shape of the package (issue 16): short steps, one vocabulary, every module documented.

These read the source, not the behaviour: they fail when a change makes a step long again,
defines a level list a second time, or adds a module docs/ARCHITECTURE.md does not describe.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analysis import paths
from analysis.core import vocab

PACKAGE = paths.PACKAGE_DIR
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "templates" not in p.parts)
#: A function longer than this says why in its docstring, on a line starting "Long:".
SOFT_LIMIT = 60
HARD_LIMIT = 80


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, node.end_lineno - node.lineno + 1


def _where(path: Path, node) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"


def test_no_step_is_long_without_a_reason():
    too_long, unexplained = [], []
    for path in SOURCES + sorted((PACKAGE / "report" / "templates").glob("*.py")):
        for node, length in _functions(path):
            if length > HARD_LIMIT:
                too_long.append(f"{_where(path, node)} ({length} lines)")
            elif length > SOFT_LIMIT:
                doc = ast.get_docstring(node) or ""
                if not any(line.strip().startswith("Long:") for line in doc.splitlines()):
                    unexplained.append(f"{_where(path, node)} ({length} lines)")
    assert not too_long, f"functions over {HARD_LIMIT} lines: {too_long}"
    assert not unexplained, (
        f"functions over {SOFT_LIMIT} lines without a 'Long:' line in their docstring: "
        f"{unexplained}"
    )


VOCAB_NAMES = {
    name
    for name, value in vars(vocab).items()
    if name.isupper() and isinstance(value, tuple | frozenset | dict | str)
}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_vocabulary_is_defined_once(path):
    """No module but core/vocab.py assigns LEVELS, SCHOOL_LEVELS, ROLES, TOTAL, ... (an alias
    such as ``LEVELS = vocab.LEVELS`` is a second definition too)."""
    if path == PACKAGE / "core" / "vocab.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = []
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        defined += [t.id for t in targets if isinstance(t, ast.Name) and t.id in VOCAB_NAMES]
    assert not defined, f"{path.name} defines {defined} again: use analysis.core.vocab"


def test_every_module_is_described_in_the_architecture():
    text = (paths.ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [
        str(p.relative_to(PACKAGE))
        for p in SOURCES
        if p.name != "__main__.py" and f"`{p.relative_to(PACKAGE).as_posix()}`" not in text
    ]
    assert not missing, f"docs/ARCHITECTURE.md does not describe: {missing}"
