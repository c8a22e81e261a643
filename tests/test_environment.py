"""environment.yml mirrors pyproject.toml, the one list of dependencies."""

from __future__ import annotations

import re
import tomllib

import pytest


def _pyproject_pins(root) -> dict[str, str]:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, _, version = spec.partition("==")
        assert version, f"pyproject.toml: '{spec}' is not pinned with =="
        pins[name.strip().lower()] = version.strip()
    return pins


def _environment_pins(root) -> dict[str, str]:
    """The conda packages listed under ``dependencies:`` (the pip sub-list is the project)."""
    text = (root / "environment.yml").read_text(encoding="utf-8")
    block = text.split("\ndependencies:\n", 1)[1]
    pins = {}
    for line in block.splitlines():
        if not line.startswith("  - "):
            continue  # comments, and the indented pip sub-list
        item = line[4:].split("#", 1)[0].strip()
        if item.endswith(":"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(?:=+\s*(\S+))?", item)
        assert match, f"environment.yml: cannot read '{item}'"
        pins[match.group(1).lower()] = match.group(2) or ""
    return pins


def test_environment_yml_mirrors_pyproject(repo_root):
    expected = _pyproject_pins(repo_root)
    conda = _environment_pins(repo_root)
    conda.pop("python", None)
    conda.pop("pip", None)
    missing = sorted(set(expected) - set(conda))
    extra = sorted(set(conda) - set(expected))
    differ = sorted(n for n in set(expected) & set(conda) if expected[n] != conda[n])
    assert not missing, f"in pyproject.toml but not environment.yml: {missing}"
    assert not extra, f"in environment.yml but not pyproject.toml: {extra}"
    assert not differ, "versions differ: " + ", ".join(
        f"{n} {expected[n]} vs {conda[n]}" for n in differ
    )


def test_reader_notices_a_disagreement(repo_root, tmp_path):
    """The check above can fail: a changed pin in a copy is seen."""
    (tmp_path / "pyproject.toml").write_text(
        (repo_root / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    text = (repo_root / "environment.yml").read_text(encoding="utf-8")
    (tmp_path / "environment.yml").write_text(
        re.sub(r"- pandas=\S+", "- pandas=2.2.0", text), encoding="utf-8"
    )
    assert _environment_pins(tmp_path)["pandas"] == "2.2.0"
    with pytest.raises(AssertionError, match="pandas"):
        test_environment_yml_mirrors_pyproject(tmp_path)
