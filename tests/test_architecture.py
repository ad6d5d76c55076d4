"""The import rules of docs/architecture.md, checked on the source.

A small `ast` walker rather than import-linter: it needs no new dependency,
sees imports inside functions (where cycles hide), and the rules below (layers
by module role, the engine's one public API, what core may import) read as
plain Python next to the test that feeds it a fake cycle."""

import ast
from collections.abc import Iterable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("accounts", "blog", "core", "home", "mailings", "mailsite")
ENGINE = "mailings.engine"

# A module's roles come from its own name (the last dotted part) or, for the
# engine, from the package it lives in.
ROLE_NAMES = {
    "models": {"models"},
    "views": {"views"},
    "engine_views": {"views"},
    "admin_views": {"views", "admin"},
    "wagtail_hooks": {"admin"},
    "wagtail_admin": {"admin"},
    "admin": {"admin"},
    "forms": {"forms"},
    "services": {"services"},
    "selectors": {"selectors"},
    "tasks": {"tasks"},
}

# Role -> roles it must never import: nothing points back up the layers.
FORBIDDEN = {
    "models": {"views", "forms", "services", "selectors", "tasks", "engine", "admin"},
    "selectors": {"views", "forms", "admin"},
    "services": {"views", "forms", "admin"},
    "engine": {"views", "forms", "services", "tasks", "admin"},
}

# core is shared by every app and so imports none of them; the one exception is
# the account-email sender, which sends through the engine's public API.
CORE_MAY_IMPORT = {"core.emails": {ENGINE, "mailings.sending", "mailings.smtp"}}

# TEMPORARY, until the engine package of issue 10 lands: the old sending and
# scheduling modules import each other. Removed after merging main.
KNOWN_CYCLES = [["mailings.scheduling", "mailings.sending"]]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every project module, migrations and tests aside."""
    files = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).parts
            if "migrations" in parts or "tests" in parts or path.name == "conftest.py":
                continue
            files[module_name(path, root)] = path
    return files


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement, at every level:
    imports inside functions count, since that is where cycles hide."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [alias.name for alias in node.names]


def _known_prefix(name: str, files: dict[str, Path]) -> str | None:
    while name and name not in files:
        name = name.rpartition(".")[0]
    return name or None


def _bound_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level (what `from module import name` finds first)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """module -> project modules it imports. `from a import b` is the module a.b
    when a.b exists and a binds no name b (a package's API re-exporting a
    function named like its module gives the function, from the package)."""
    trees = {module: ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for module, path in files.items()}
    bound = {module: _bound_names(tree) for module, tree in trees.items()}
    graph = {}
    for module, path in files.items():
        targets = set()
        for base, names in _imported_names(trees[module], module, path.name == "__init__.py"):
            submodules = [
                f"{base}.{name}" for name in names if f"{base}.{name}" in files and name not in bound.get(base, ())
            ]
            targets.update(submodules)
            if len(submodules) < len(names) or not names:
                targets.add(_known_prefix(base, files))
        graph[module] = targets - {None, module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def roles(module: str) -> set[str]:
    found = set(ROLE_NAMES.get(module.rpartition(".")[2], ()))
    if module == ENGINE or module.startswith(ENGINE + "."):
        found.add("engine")
    return found


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that point back up the layers, reach inside the engine, or leave core."""
    found = []
    for module, targets in sorted(graph.items()):
        inside_engine = module == ENGINE or module.startswith(ENGINE + ".")
        for target in sorted(targets):
            found.extend(
                f"{module} ({role}) imports {target} ({bad})"
                for role in roles(module)
                for bad in FORBIDDEN.get(role, set()) & roles(target)
            )
            if target.startswith(ENGINE + ".") and not inside_engine:
                found.append(f"{module} imports {target}: outside the engine, import only {ENGINE}")
            leaves_core = module.split(".")[0] == "core" and target.split(".")[0] != "core"
            if leaves_core and target not in CORE_MAY_IMPORT.get(module, set()):
                found.append(f"{module} imports {target}: core imports no other project app")
    return found


def project_graph() -> dict[str, set[str]]:
    return import_graph(project_files(BASE_DIR, PROJECT_PACKAGES))


def test_the_walker_sees_every_app_and_imports_inside_functions():
    graph = project_graph()
    assert {m.split(".")[0] for m in graph} == set(PROJECT_PACKAGES)
    # blog.apps imports its signals inside ready(): a function-level import is an edge.
    assert "blog.signals" in graph["blog.apps"]


def test_project_has_no_import_cycle():
    assert [c for c in cycles(project_graph()) if c not in KNOWN_CYCLES] == []


def test_no_import_points_back_up_the_layers():
    assert violations(project_graph()) == []


def test_checker_finds_a_cycle_in_a_synthetic_graph():
    graph = {"app.models": {"app.panels"}, "app.panels": {"app.selectors"}, "app.selectors": {"app.models"}}
    assert cycles(graph) == [["app.models", "app.panels", "app.selectors"]]
    graph["app.selectors"] = set()
    assert cycles(graph) == []


def fake_graph(tmp_path, modules: dict[str, str]) -> dict[str, set[str]]:
    """The import graph of a throwaway package `fake` with these modules."""
    package = tmp_path / "fake"
    package.mkdir()
    for name, source in {"__init__": "", **modules}.items():
        (package / f"{name}.py").write_text(source)
    return import_graph(project_files(tmp_path, ["fake"]))


def test_checker_finds_a_cycle_hidden_inside_a_function(tmp_path):
    graph = fake_graph(
        tmp_path,
        {
            "models": "def context():\n    from fake.selectors import rows\n    return rows()\n",
            "selectors": "from fake.models import context\n\ndef rows():\n    return []\n",
        },
    )
    assert cycles(graph) == [["fake.models", "fake.selectors"]]
    assert violations(graph) == ["fake.models (models) imports fake.selectors (selectors)"]


def test_checker_resolves_relative_imports(tmp_path):
    graph = fake_graph(tmp_path, {"views": "", "services": "from . import views\nfrom .views import x\n"})
    assert graph["fake.services"] == {"fake.views"}
    assert violations(graph) == ["fake.services (services) imports fake.views (views)"]


def test_a_name_the_package_binds_is_the_package_not_its_module(tmp_path):
    graph = fake_graph(
        tmp_path,
        {
            "backoff": "def backoff():\n    return 1\n",
            "__init__": "from fake.backoff import backoff\n",
            "tasks": "from fake import backoff\n",
        },
    )
    assert graph["fake.tasks"] == {"fake"}
    assert graph["fake"] == {"fake.backoff"}


def test_checker_keeps_the_engine_closed_and_core_apart():
    graph = {
        "mailings.tasks": {"mailings.engine", "mailings.engine.claims"},
        "mailings.engine.claims": {"mailings.engine.journal", "mailings.services"},
        "mailings.engine.journal": set(),
        "mailings.engine": {"mailings.engine.claims"},
        "mailings.services": set(),
        "core.emails": {"mailings.engine"},
        "core.text": {"accounts.models"},
        "accounts.models": set(),
    }
    assert violations(graph) == [
        "core.text imports accounts.models: core imports no other project app",
        "mailings.engine.claims (engine) imports mailings.services (services)",
        "mailings.tasks imports mailings.engine.claims: outside the engine, import only mailings.engine",
    ]
