"""The README's code runs, and CI installs with exactly the README's test command."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_installs_with_the_readme_test_command():
    test_command = next(b.strip() for b in _blocks("bash") if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_blocks_run(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_blocks("python")[index], f"README.md block {index}", "exec"), {})


def test_ci_runs_in_a_fresh_clone_with_nothing_beside_it():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "mktemp -d" in ci and "git clone" in ci
    # Built, not spelled out, so that this file does not find itself.
    folder_name = "sha" + "red"
    needles = (folder_name + "/data", f'"{folder_name}"')
    for folder in ("tests", "examples"):
        for file in (ROOT / folder).rglob("*.py"):
            text = file.read_text()
            assert not any(needle in text for needle in needles), file
