"""Every in-project import names a module and a name that exist.

Benchmarks and lazily imported paths are not all run by other tests; a module merged
away (eval/crud.py into eval/data.py) once left `eval.bench_scale` importing nothing.
Checked statically (ast) so the test stays fast and imports no heavy library.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "ui", "eval")


def _module_path(module: str, root: Path = ROOT) -> Path | None:
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


@cache
def _top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                if isinstance(target, ast.Name) and target.id == "__all__":
                    names.update(ast.literal_eval(node.value))  # lazy re-exports
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [(node.module, a.name) for a in node.names]
        else:
            continue
        for module, name in modules:
            if module.split(".")[0] not in PACKAGES:
                continue
            target = _module_path(module, root)
            where = f"{path.relative_to(root)}:{node.lineno}"
            if target is None:
                out.append(f"{where}: no module {module}")
            elif name and name != "*" and name not in _top_level_names(target):
                if _module_path(f"{module}.{name}", root) is None:
                    out.append(f"{where}: {module} has no {name}")
    return out


def test_every_project_import_resolves() -> None:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    files += sorted((ROOT / "tests").glob("*.py"))
    assert len(files) > 50
    problems = [problem for path in files for problem in _problems(path)]
    assert problems == []


def test_the_check_sees_a_missing_module(tmp_path: Path) -> None:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "data.py").write_text("def crud_record():\n    pass\n")
    bad = tmp_path / "eval" / "probe.py"
    bad.write_text(
        "from eval.crud import to_record\n"
        "from eval.data import nothing_here\n"
        "from eval.data import crud_record\n"
    )
    assert [p.split(": ", 1)[1] for p in _problems(bad, tmp_path)] == [
        "no module eval.crud",
        "eval.data has no nothing_here",
    ]
