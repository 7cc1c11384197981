"""The documentation builds without a warning, and every example in its gallery runs.

The build runs on a copy of ``docs/`` and ``examples/``, so nothing it generates (stub
pages, the gallery, the examples' figures) lands in the checkout. Examples run in their
fast mode (``SKTRANSFER_EXAMPLES_FAST=1``, set by ``docs/conf.py``).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sktransfer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("docs")
    for folder in ("docs", "examples"):
        shutil.copytree(
            ROOT / folder, work / folder, ignore=shutil.ignore_patterns("_build", "*.png")
        )
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs", "html"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-5000:]
    return work


@pytest.mark.slow
def test_every_example_runs_and_draws_its_figure(site):
    figures = {p.name for p in (site / "docs" / "auto_examples" / "images").glob("*.png")}
    for example in EXAMPLES:
        assert f"sphx_glr_{example}_001.png" in figures, example
        assert (site / "html" / "auto_examples" / f"{example}.html").is_file()


@pytest.mark.slow
def test_every_public_name_has_its_reference_page(site):
    for name in set(sktransfer.__all__) - {"__version__"}:
        page = site / "html" / "generated" / f"sktransfer.{name}.html"
        assert page.is_file(), name
    fit = (site / "html" / "generated" / "sktransfer.FineTunedImageClassifier.html").read_text()
    assert "partial_fit" in fit and "predict_proba" in fit  # the methods, inherited ones too


@pytest.mark.slow
def test_the_user_guide_and_architecture_pages_are_built(site):
    guide = sorted(p.stem for p in (ROOT / "docs" / "user_guide").glob("*.md"))
    for page in guide:
        assert (site / "html" / "user_guide" / f"{page}.html").is_file(), page
    assert (site / "html" / "architecture.html").is_file()
