"""One public API: every public name importable from ``sktransfer``, and documented.

The top-level package, the subpackages and docs/api.rst must agree: a name added to a
subpackage's ``__all__`` and not to the others fails here.
"""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sktransfer

API_RST = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()
PUBLIC_MODULES = [
    "backbones",
    "dask",
    "datasets",
    "exceptions",
    "export",
    "finetune",
    "image",
    "io",
    "model_selection",
    "serving",
    "text",
]


def _exports(module: str) -> list[str]:
    return importlib.import_module(f"sktransfer.{module}").__all__


def _documented() -> list[str]:
    """Names in the API reference's autosummary tables."""
    tables = re.findall(r"\.\. autosummary::\n(?:   :.*\n)*\n((?:   \S+\n)+)", API_RST)
    return [name.strip() for table in tables for name in table.splitlines()]


def test_every_all_is_sorted_and_public():
    assert sktransfer.__all__ == sorted(sktransfer.__all__)
    for module in PUBLIC_MODULES:
        exports = _exports(module)
        assert exports == sorted(exports), module
        assert not [name for name in exports if name.startswith("_")], module


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_the_top_level_exports_each_public_name_of_every_module(module):
    """Functions and classes are at the top level too; constants stay in their module."""
    names = {n for n in _exports(module) if not n.isupper()}
    top = {n for n, source in sktransfer._LAZY.items() if source == f".{module}"}
    assert names == top
    for name in names:
        assert getattr(sktransfer, name) is getattr(
            importlib.import_module(f"sktransfer.{module}"), name
        )


def test_the_api_reference_lists_every_top_level_name_once():
    documented = _documented()
    assert len(documented) == len(set(documented))
    assert sorted(documented) == sorted(set(sktransfer.__all__) - {"__version__"})
    constants = re.findall(r"autodata:: sktransfer\.(\w+)\.(\w+)", API_RST)
    for module in PUBLIC_MODULES:
        assert {n for n in _exports(module) if n.isupper()} == {
            name for owner, name in constants if owner == module
        }, module


def test_every_documented_name_imports_from_the_top_level_in_a_fresh_process():
    names = ", ".join(_documented())
    subprocess.run([sys.executable, "-c", f"from sktransfer import {names}"], check=True)


def test_importing_the_package_imports_neither_torch_nor_gensim():
    code = (
        "import sys, sktransfer; from sktransfer import Word2VecEmbedder, load_sms_spam; "
        "assert 'torch' not in sys.modules, 'torch'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    code = "import sys; from sktransfer import find_duplicates; assert 'gensim' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
