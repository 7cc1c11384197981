"""Every example script runs to the end in its fast mode."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKTRANSFER_EXAMPLES_FAST", "1")
    runpy.run_path(str(script), run_name="__main__")
    assert list(tmp_path.glob("*.png")), "examples write the figure they describe"
