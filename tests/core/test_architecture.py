"""The dependency rule of planner/, read from the source: core depends on no area, and an area
imports only core and the areas before it in the rollout.

Every import counts, at module level or inside a function (a function-level import that only
dodges a cycle still is the dependency).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "planner"

# The foundation, then the areas in the order of the rollout. ``projects`` is the rollout itself
# (members, phases, gates, access); ``artifacts`` (versioned files of any phase) comes right
# after it, before the phase areas, so that any of them may attach files.
FOUNDATION = "core"
AREAS = [
    "projects",
    "artifacts",
    "goals",
    "requirements",
    "design",
    "vendors",
    "spec",
    "migration",
    "testing",
    "training",
    "golive",
]
# Modules of the foundation that live at the top of the package.
FOUNDATION_MODULES = {"config", "extensions"}
# The composition root: builds the app from every area; nothing imports it but itself.
ROOT_MODULES = {"__init__", "cli", "demo"}


def _layer(module: str) -> str | None:
    """The layer of a dotted module name inside planner (None outside the package)."""
    parts = module.split(".")
    if parts[0] != "planner":
        return None
    if len(parts) == 1:
        return "root"
    head = parts[1]
    if head == FOUNDATION or head in FOUNDATION_MODULES:
        return FOUNDATION
    if head in ROOT_MODULES:
        return "root"
    return head


def _rank(layer: str) -> int:
    return -1 if layer == FOUNDATION else AREAS.index(layer)


def _imports(path: Path, package_dir: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, function-level ones included."""
    module = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base == "planner":  # from planner import x: x is the module
                found += [(node.lineno, f"planner.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    """Every import in ``package`` that breaks the rule, as 'file:line: a imports b'."""
    out = []
    for path in sorted(package.rglob("*.py")):
        source = _layer(".".join(path.relative_to(package.parent).with_suffix("").parts))
        if source == "root":
            continue
        for line, target in _imports(path, package):
            dest = _layer(target)
            if dest is None or dest == source:
                continue
            where = f"{path.relative_to(package.parent)}:{line}"
            if dest == "root":
                out.append(f"{where}: {source} imports the app module {target}")
            elif dest not in AREAS and dest != FOUNDATION:
                out.append(f"{where}: {target} is in no known layer (add it to AREAS)")
            elif source not in AREAS and source != FOUNDATION:
                out.append(f"{where}: {source} is in no known layer (add it to AREAS)")
            elif _rank(dest) > _rank(source):
                out.append(f"{where}: {source} imports the later {dest} ({target})")
            elif dest != FOUNDATION and target.rsplit(".", 1)[-1] in ("views", "api"):
                out.append(f"{where}: {source} reaches into another area's pages ({target})")
    return out


def test_core_depends_on_no_area_and_areas_only_on_earlier_ones():
    assert violations() == []


def test_every_folder_of_the_package_is_a_known_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    known = {FOUNDATION} | ROOT_MODULES  # the demo is a package of the composition root
    assert folders - known <= set(AREAS), folders - known - set(AREAS)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/web.py": "from planner.projects.access import load_access\n"}, "core imports"),
        (
            {"core/api.py": "def f():\n    from planner.goals import service\n"},
            "core imports the later goals",
        ),
        ({"projects/views.py": "from planner.goals.service import x\n"}, "later goals"),
        ({"goals/views.py": "from ..vendors import scoring\n"}, "later vendors"),
        ({"vendors/views.py": "from planner import demo\n"}, "the app module"),
        ({"vendors/views.py": "from planner.goals.views import attachment\n"}, "pages"),
        ({"vendors/views.py": "from planner.goals import service\n"}, None),
        ({"goals/api.py": "from planner.core.api import doc\nimport os\n"}, None),
    ],
)
def test_the_rule_catches_what_it_should(tmp_path, files, expected):
    """The checker itself, on a made-up package: a rule that cannot fail proves nothing."""
    root = tmp_path / "planner"
    for folder in ("core", "projects", "goals", "vendors"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    found = violations(root)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


# The service modules whose public functions and classes each say what they do, what they need
# and what they raise.
DOCUMENTED_MODULES = {
    "service",
    "catalogue",
    "scoring_round",
    "review",
    "results",
    "decision",
    "round_state",
    "members",
    "access",
    "gates",
}


def test_public_service_functions_have_docstrings():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.stem not in DOCUMENTED_MODULES:
            continue
        for node in ast.parse(path.read_text(), str(path)).body:
            if (
                isinstance(node, (ast.FunctionDef, ast.ClassDef))
                and not node.name.startswith("_")
                and not ast.get_docstring(node)
            ):
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.name}")
    assert missing == [], "public names without a docstring:\n" + "\n".join(missing)


def test_no_message_says_s_in_brackets():
    """Plurals are real plurals ("9 goals", not "9 goal(s)"): in templates and in the
    strings of the code, which reach people as messages and audit summaries."""
    found = []
    pattern = re.compile(r"[A-Za-z]+\(s\)")
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{path.name}: {m}" for m in pattern.findall(node.value)]
    for path in sorted((PACKAGE.parent / "templates").rglob("*.html")):
        found += [f"{path.name}: {m}" for m in pattern.findall(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_app_starts_without_the_heavy_libraries_it_uses_now_and_then():
    """WeasyPrint (reports), pyHanko (signing, verifying) and openpyxl (workbooks) are imported
    by the code that uses them, not when the app starts: every web and worker process would
    otherwise carry about 110 MB of them (a report worker's peak memory is measured against a
    target, benchmarks/bench_spec.py)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from planner import create_app\n"
        "create_app({'PLANNER_ENV': 'test', 'SECRET_KEY': 'x',"
        " 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
        "print(sorted(m for m in ('weasyprint', 'pyhanko', 'openpyxl') if m in sys.modules))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, with code of this test
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
