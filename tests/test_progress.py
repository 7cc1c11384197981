"""The shared progress bar: the ``progress`` parameter, and no bar for no work."""

import pytest

from sktransfer._progress import progress_bar


@pytest.mark.parametrize(
    ("progress", "total", "disabled"),
    [(True, 5, False), (False, 5, True), (True, 0, True), ("auto", 0, True)],
)
def test_progress_bar(progress, total, disabled):
    with progress_bar(progress, total, unit="x", desc="test") as bar:
        assert bar.disable is disabled


def test_auto_hides_the_bar_off_a_terminal(capsys):
    with progress_bar("auto", 3, unit="x", desc="test") as bar:  # pytest captures stderr
        bar.update(3)
        assert bar.disable is True
    assert capsys.readouterr().err == ""
