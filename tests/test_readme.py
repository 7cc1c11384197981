"""The README's and the user guide's code runs; CI installs with the README's test command."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _blocks(text, language):
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


PYTHON_BLOCKS = [
    (page, index, block)
    for page in PAGES
    for index, block in enumerate(_blocks(page.read_text(), "python"))
]


def test_ci_installs_with_the_readme_test_command():
    test_command = next(b.strip() for b in _blocks(README, "bash") if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_documentation_has_its_code():
    assert len(PYTHON_BLOCKS) >= 9  # the quickstart and the user guide's examples


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "index", "block"),
    PYTHON_BLOCKS,
    ids=[f"{page.relative_to(ROOT)}:{index}" for page, index, _ in PYTHON_BLOCKS],
)
def test_documented_python_blocks_run(page, index, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"{page.relative_to(ROOT)} block {index}", "exec"), {})


def test_ci_runs_in_a_fresh_clone_with_nothing_beside_it():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "mktemp -d" in ci and "git clone" in ci
    # Built, not spelled out, so that this file does not find itself.
    folder_name = "sha" + "red"
    needles = (folder_name + "/data", f'"{folder_name}"')
    for folder in ("tests", "examples", "docs"):
        for file in (ROOT / folder).rglob("*.*"):
            if file.suffix in (".py", ".md", ".rst"):
                text = file.read_text()
                assert not any(needle in text for needle in needles), file
