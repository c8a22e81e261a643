"""Static checks of the committed notebooks (no kernel): stripped, one plain ``parameters``
cell, kernelspec python3, no logic in code cells (it belongs to src/analysis)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analysis import batch, paths

batch.light_nbformat()  # nbformat without the slow rfc3987_syntax grammar (batch.kernels)
import nbformat  # noqa: E402

REQUIRED_PARAMETERS = {"period", "raw_dir", "processed_dir", "output_dir"}
NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


def problems(path: Path) -> list[str]:
    """Every breach of the notebook conventions in one notebook (empty list: fine)."""
    nb = nbformat.read(path, as_version=4)
    found: list[str] = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        found.append("kernelspec is not python3")
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for index, cell in code_cells:
        if cell.get("outputs"):
            found.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {index} has an execution count")
    tagged = [(i, c) for i, c in code_cells if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        found.append(f"{len(tagged)} code cells tagged 'parameters' (need exactly 1)")
    for index, cell in tagged:
        found += [f"parameters cell {index}: {p}" for p in parameter_problems(cell.source)]
    for index, cell in code_cells:
        found += [f"cell {index}: {p}" for p in logic_problems(cell.source)]
    return found


def parameter_problems(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse ({exc.msg})"]
    found, names = [], set()
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            found.append(f"line {stmt.lineno} is not a plain assignment")
            continue
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            found.append(f"line {stmt.lineno} does not assign a plain name")
            continue
        try:
            ast.literal_eval(stmt.value)
        except ValueError:
            found.append(f"{target.id} is not a literal")
        names.add(target.id)
    lines = [ln for ln in source.splitlines() if ln.strip()]
    if len(lines) != len(tree.body):
        found.append("one assignment per line, nothing else")
    found += [f"{name} missing" for name in sorted(REQUIRED_PARAMETERS - names)]
    found += [f"line {i + 1} has no comment" for i, ln in enumerate(lines) if "#" not in ln]
    # papermill's parameter inspection gives up on a line with more than one '=' (it then
    # warns "Passed unknown parameter" on every run): keep '=' out of the comments.
    found += [
        f"line {i + 1} has more than one '='" for i, ln in enumerate(lines) if ln.count("=") > 1
    ]
    return found


def logic_problems(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # magics: look at the text
        tree = None
    if tree is None:
        return [f"'{w.strip()}'" for w in ("def ", "class ", "for ") if f"\n{w}" in "\n" + source]
    kinds = {
        ast.FunctionDef: "def",
        ast.AsyncFunctionDef: "def",
        ast.ClassDef: "class",
        ast.For: "for loop",
        ast.AsyncFor: "for loop",
        ast.While: "while loop",
    }
    return [
        f"{label} at line {node.lineno} (logic belongs in src/analysis)"
        for node in ast.walk(tree)
        for kind, label in kinds.items()
        if isinstance(node, kind)
    ]


@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ holds no notebook yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_follows_the_conventions(path):
    assert problems(path) == []


def test_the_run_finds_the_notebooks_in_order():
    names = [p.name for p in batch.find_notebooks(paths.NOTEBOOKS_DIR)]
    assert names == sorted(names)
    expected = ["10_clean.ipynb", "20_coverage.ipynb", "30_scale_infrastructure.ipynb"]
    present = [n for n in expected + ["90_report.ipynb"] if (paths.NOTEBOOKS_DIR / n).is_file()]
    assert [n for n in names if n in present] == present


# ------------------------------------------------------------ the checker itself can fail


def _write(tmp_path: Path, params: str, *cells: str, executed: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    if executed:
        nb.cells[-1].execution_count = 3
        nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="x\n")]
    path = tmp_path / "10_x.ipynb"
    nbformat.write(nb, path)
    return path


GOOD_PARAMS = (
    'period = ""  # kỳ\nraw_dir = ""  # thô\nprocessed_dir = ""  # sạch\noutput_dir = ""  # kết quả'
)


def test_checker_accepts_a_good_notebook(tmp_path):
    path = _write(tmp_path, GOOD_PARAMS + "\ntarget_pct = 100  # mục tiêu", "analysis.run(cfg)")
    assert problems(path) == []


def test_checker_refuses_bad_notebooks(tmp_path):
    bad_params = 'period = "" # "" = mới nhất\nraw_dir = str(1)  # x\nprocessed_dir = ""\n'
    path = _write(tmp_path, bad_params, "def f():\n    pass", "for s in x:\n    print(s)")
    found = problems(path)
    assert "parameters cell 0: raw_dir is not a literal" in found
    assert "parameters cell 0: output_dir missing" in found
    assert "parameters cell 0: line 3 has no comment" in found
    assert "parameters cell 0: line 1 has more than one '='" in found
    assert any(p.startswith("cell 1: def") for p in found)
    assert any(p.startswith("cell 2: for loop") for p in found)
    path = _write(tmp_path, GOOD_PARAMS, "1 + 1", executed=True)
    assert problems(path) == ["cell 1 has outputs", "cell 1 has an execution count"]
