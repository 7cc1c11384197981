"""``sktransfer demo``: the README's main job, here with fewer folds and epochs."""

import re

import pytest
from PIL import Image

from sktransfer.cli import main


@pytest.mark.slow
def test_demo_prints_the_three_models_and_writes_the_plot(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    argv = ["demo", "--folds", "3", "--epochs", "3", "--unfreeze", "1", "--plot", str(plot)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = dict(re.findall(r"^(.+?)\s{2,}(\d\.\d{3}) ± \d\.\d{3}", out, flags=re.M))
    assert list(rows) == [
        "raw pixels + LogisticRegression",
        "efficientnet_lite0 features + LogisticRegression",
        "efficientnet_lite0 fine-tuned (top 1 groups)",
    ]
    assert float(rows["raw pixels + LogisticRegression"]) > 0.85  # faces are easy...
    assert float(rows["efficientnet_lite0 features + LogisticRegression"]) >= 0.97  # ...but
    assert float(rows["efficientnet_lite0 fine-tuned (top 1 groups)"]) >= 0.95
    assert "3-fold LeakageSafeKFold" in out
    with Image.open(plot) as image:  # the scores and three confusion matrices, side by side
        assert image.format == "PNG" and image.width > 3 * image.height
