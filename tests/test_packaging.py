"""What a plain ``pip install .`` ships: every runtime import is a dependency, every data file is packaged.

A plain install brings only ``[project] dependencies`` and the files ``[tool.setuptools]`` names.
An import that only the dev extras satisfy, or a template or catalog left out of the wheel, works
in the editable test venv and breaks the installed server. ``scripts/smoke-install.sh`` checks the
same end to end in a clean venv; these tests say which import or file, in seconds.
"""

from __future__ import annotations

import ast
import glob
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "govshare"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _requirement_names(specs: list[str]) -> set[str]:
    names = set()
    for spec in specs:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        assert match, f"cannot read the requirement {spec!r}"
        names.add(_normalise(match.group(1)))
    return names


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def top_level_imports(root: Path) -> dict[str, list[str]]:
    """Top-level module name -> the files importing it, for every absolute import under ``root``
    (module level or inside functions: a lazy import fails just as surely when it runs)."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(str(path.relative_to(root.parent)))
    return found


def third_party(imports: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        m: files
        for m, files in imports.items()
        if m not in sys.stdlib_module_names and m != "govshare" and m != "__future__"
    }


def undeclared(imports: dict[str, list[str]], declared: set[str]) -> list[str]:
    """One line per third-party import whose distribution is not in ``declared``."""
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(third_party(imports).items()):
        dists = {_normalise(d) for d in distributions.get(module, [])}
        if not dists:
            problems.append(f"{module}: no installed distribution provides it (imported by {files[0]})")
        elif not dists & declared:
            problems.append(
                f"{module} (distribution {', '.join(sorted(dists))}) is imported by "
                f"{', '.join(sorted(set(files)))} but is not in [project] dependencies"
            )
    return problems


def test_every_runtime_import_is_a_dependency():
    project = _project()
    problems = undeclared(top_level_imports(SRC), _requirement_names(project["dependencies"]))
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_dev_only_import(tmp_path):
    # The check above must be able to fail: rdflib, pyshacl and pytest are dev extras here.
    (tmp_path / "mod.py").write_text("def f():\n    import pyshacl\nfrom rdflib import Graph\nimport json\n")
    project = _project()
    runtime = _requirement_names(project["dependencies"])
    dev = _requirement_names(project["optional-dependencies"]["dev"])
    assert "pyshacl" in dev and "pyshacl" not in runtime
    problems = undeclared(top_level_imports(tmp_path), runtime - {"rdflib"})
    assert [p.split(" ")[0] for p in problems] == ["pyshacl", "rdflib"]
    assert undeclared(top_level_imports(tmp_path), runtime | dev) == []


def test_the_check_reads_the_whole_package():
    imports = third_party(top_level_imports(SRC))
    # A few imports every part of the package relies on; if the walk found none of them it read nothing.
    assert {"fastapi", "sqlalchemy", "rdflib", "typer"} <= set(imports)


def packaged_data(root: Path, patterns: list[str]) -> set[Path]:
    """The files under the package ``root`` that setuptools' ``package-data`` globs take."""
    return {
        Path(p) for pattern in patterns for p in glob.glob(str(root / pattern), recursive=True) if Path(p).is_file()
    }


def data_files(root: Path) -> set[Path]:
    """The files of the package that are not Python modules (compiled leftovers aside)."""
    return {
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc", ".mo") and "__pycache__" not in p.parts
    }


def test_every_data_file_is_packaged():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["govshare"]
    files = data_files(SRC)
    assert {p.suffix for p in files} >= {".html", ".po", ".css"}
    missing = sorted(str(p.relative_to(SRC)) for p in files - packaged_data(SRC, patterns))
    assert not missing, f"not in [tool.setuptools.package-data], so missing from a plain install: {missing}"


def test_the_data_check_sees_a_file_left_out():
    # The pattern that used to be there: relative to the package, it took govshare/locale, not portal/locale.
    po = SRC / "portal/locale/en/LC_MESSAGES/messages.po"
    assert po not in packaged_data(SRC, ["locale/**/*"])
    assert po in packaged_data(SRC, ["**/locale/**/*"])
