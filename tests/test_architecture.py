"""The package's import structure: no cycles, and private names stay in their package.

Every import in ``sktransfer/`` is read from the source (module level and inside
functions alike; ``if TYPE_CHECKING:`` blocks aside), so a cycle hidden in a function-level
import counts too.
"""

import ast
from pathlib import Path

import pytest

import sktransfer

ROOT = Path(sktransfer.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(path: Path) -> list[tuple[str, int]]:
    """``(imported name, line)`` for each name a module imports from sktransfer."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                found.extend((f"{source}.{alias.name}", child.lineno) for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return [(name, line) for name, line in found if name.split(".")[0] == "sktransfer"]


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str) -> str:
    """The module an imported name lives in (the name itself when it is a module)."""
    while name not in MODULES:
        name = name.rsplit(".", 1)[0]
    return name


def _private_violation(importer: str, name: str) -> str | None:
    """The private part of ``name`` that ``importer`` may not see, if any.

    A private name (``_x``) is visible inside the package that holds it: the package's
    modules and subpackages, and nothing else.
    """
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            if importer != owner and not importer.startswith(owner + "."):
                return ".".join(parts[: i + 1])
    return None


def test_no_module_imports_a_private_name_of_another_package():
    violations = []
    for module, path in MODULES.items():
        for name, line in _imports(path):
            private = _private_violation(module, name)
            if private:
                violations.append(f"{path.relative_to(ROOT.parent)}:{line} imports {private}")
    assert not violations, "\n".join(violations)


def test_the_package_has_no_import_cycle():
    graph = {
        module: {_resolve(name) for name, _ in _imports(path)} - {module}
        for module, path in MODULES.items()
    }
    # A package's __init__ imports its own modules, and they need the package first:
    # these edges are how Python imports work, not cycles of the code.
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target) :] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize(
    ("importer", "name", "expected"),
    [
        (
            "sktransfer.finetune._base",
            "sktransfer.image._loading.open_rgb",
            "sktransfer.image._loading",
        ),
        ("sktransfer.finetune._base", "sktransfer.finetune._modules.make_head", None),
        ("sktransfer.image._featurizer", "sktransfer._inputs.open_rgb", None),
        (
            "sktransfer.image._featurizer",
            "sktransfer._inputs._images.open_rgb",
            "sktransfer._inputs._images",
        ),
        ("sktransfer._inputs", "sktransfer._inputs._images.open_rgb", None),
        (
            "sktransfer.cli._common",
            "sktransfer.backbones._registry._builders",
            "sktransfer.backbones._registry",
        ),
    ],
)
def test_the_privacy_rule(importer, name, expected):
    assert _private_violation(importer, name) == expected
