"""``sktransfer demo``: the README's main job, here with fewer folds."""

import re

import pytest
from PIL import Image

from sktransfer.cli import main


def _rows(out: str) -> dict[str, float]:
    rows = re.findall(r"^(.+?)\s{2,}(\d\.\d{3}) ± \d\.\d{3}", out, flags=re.M)
    return {name: float(accuracy) for name, accuracy in rows}


@pytest.mark.slow
def test_on_digits_fine_tuning_beats_the_probe_which_beats_raw_pixels(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    assert main(["demo", "--folds", "3", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "300 real MNIST digits, 10 classes, 3-fold LeakageSafeKFold" in out
    rows = _rows(out)
    assert list(rows) == [
        "raw pixels + LogisticRegression",
        "efficientnet_lite0 features + LogisticRegression",
        "efficientnet_lite0 fine-tuned (top 2 groups)",
    ]
    raw, probe, tuned = rows.values()  # measured: 0.853, 0.877, 0.900
    assert tuned > probe + 0.01 and probe > raw > 0.8
    with Image.open(plot) as image:  # the scores and three confusion matrices, side by side
        assert image.format == "PNG" and image.width > 3 * image.height


@pytest.mark.slow
def test_on_faces_pretrained_features_are_near_perfect(capsys):
    argv = ["demo", "--data", "faces", "--folds", "2", "--epochs", "2", "--unfreeze", "1"]
    assert main([*argv, "--plot", ""]) == 0
    out = capsys.readouterr().out
    assert "faces vs non-faces, scikit-image lfw_subset (200 real photos)" in out
    rows = _rows(out)
    assert rows["raw pixels + LogisticRegression"] > 0.85  # faces are easy...
    assert rows["efficientnet_lite0 features + LogisticRegression"] >= 0.97  # ...but
