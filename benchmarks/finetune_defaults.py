"""How the image fine-tuners' defaults were chosen: a sweep on development data.

The data are kept apart from the evaluation in ``finetune_selection``: 200 pets photos that
it does not use (left out when ``../shared/data/pets`` is not there), the MNIST digits 300
to 599 (it uses 0 to 299) and the 200 LFW faces and non-faces on other folds (there are no
other LFW images). For each setting, ``FineTunedImageClassifier`` with ``efficientnet_lite0``
at every depth ``unfreeze`` in {0, 1, 2} is scored by leakage-safe 3-fold CV, and so is the
linear probe on the same folds. A setting's score is its mean accuracy minus the probe's,
over the datasets and depths: the depth is what cross-validation chooses, so each depth
should be sound.

Stage 1 crosses ``lr`` with ``max_epochs`` (they interact: a rate too low for the epochs
leaves the new head under-trained). Stage 2 changes one more option at a time from the
best of stage 1 (``weight_decay``, ``label_smoothing``, ``lr_decay``, cached augmented
views, early stopping); stage 3 combines the stage-2 changes that helped. Every fit reads
one feature cache per dataset, so each image's frozen activations are computed once.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from finetune_selection import _probe

BACKBONE = "efficientnet_lite0"
DEPTHS = (0, 1, 2)
BASE = {"lr": 1e-3, "max_epochs": 10}  # the defaults before this sweep
STAGE1 = [{"lr": lr, "max_epochs": e} for lr in (3e-4, 1e-3, 3e-3, 1e-2) for e in (10, 20)]
STAGE2 = [
    {"weight_decay": 0.05},
    {"label_smoothing": 0.1},
    {"lr_decay": 0.25},
    {"augment": "default", "augment_views": 4},
    {"early_stopping": 3},
]


def _dev_datasets(seed: int) -> dict:
    from diagnosis import _pets_or_faces
    from skimage.data import lfw_subset

    from sktransfer import load_mnist_sample

    name, X, y = _pets_or_faces()
    digits, labels = load_mnist_sample()
    sets = {
        "mnist_300": (list(digits[300:600]), labels[300:600].astype(str)),
        "lfw_200": (list(lfw_subset()), np.array(["face"] * 100 + ["other"] * 100)),
    }
    if name == "pets":  # finetune_selection takes the first 450 of this order
        order = np.random.default_rng(seed).permutation(len(X))[450:650]
        sets = {"pets_200": ([X[i] for i in order], np.asarray(y)[order]), **sets}
    return sets


def _label(options: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"


class _Sweep:
    """Scores settings on fixed folds of each dataset, the probe once per dataset."""

    def __init__(self, sets: dict, cache: str, seed: int):
        from sktransfer import LeakageSafeKFold

        self.sets, self.cache, self.seed = sets, cache, seed + 1  # other folds than selection
        cv = LeakageSafeKFold(3, shuffle=True, random_state=self.seed, method="hash")
        self.folds = {k: list(cv.split(X, y)) for k, (X, y) in sets.items()}
        self.probe = {k: self._probe(k) for k in sets}
        self.results: dict[str, dict] = {}

    def _probe(self, data: str) -> float:
        X, y = self.sets[data]
        scores = []
        for train, test in self.folds[data]:
            model = _probe(BACKBONE, self.cache).fit([X[i] for i in train], y[train])
            scores.append(model.score([X[i] for i in test], y[test]))
        return float(np.mean(scores))

    def score(self, options: dict) -> float:
        from sktransfer import FineTunedImageClassifier

        label = _label(options)
        if label in self.results:
            return self.results[label]["minus_probe"]
        accuracy, gaps, start = {}, [], time.perf_counter()
        for data, (X, y) in self.sets.items():
            for depth in DEPTHS:
                scores = []
                for train, test in self.folds[data]:
                    model = FineTunedImageClassifier(
                        BACKBONE,
                        unfreeze=depth,
                        cache=self.cache,
                        random_state=self.seed,
                        progress=False,
                        **options,
                    ).fit([X[i] for i in train], y[train])
                    scores.append(model.score([X[i] for i in test], y[test]))
                accuracy[f"{data} unfreeze={depth}"] = float(np.mean(scores))
                gaps.append(np.mean(scores) - self.probe[data])
        self.results[label] = {
            "options": options,
            "accuracy": accuracy,
            "minus_probe": float(np.mean(gaps)),
            "worst_minus_probe": float(np.min(gaps)),
            "seconds": time.perf_counter() - start,
        }
        return self.results[label]["minus_probe"]


def run(seed: int = 0) -> dict:
    sets = _dev_datasets(seed)
    with tempfile.TemporaryDirectory() as cache:
        sweep = _Sweep(sets, cache, seed)
        stage1 = max(STAGE1, key=sweep.score)
        base_score = sweep.score(stage1)
        helped = [o for o in STAGE2 if sweep.score({**stage1, **o}) > base_score]
        chosen = {**stage1}
        if helped:  # the helpful changes together, kept only if that beats each alone
            together = {k: v for o in helped for k, v in o.items()}
            alone = max(helped, key=lambda o: sweep.score({**stage1, **o}))
            best = max([together, alone], key=lambda o: sweep.score({**stage1, **o}))
            chosen = {**stage1, **best}
        return {
            "data": {k: len(y) for k, (_, y) in sets.items()},
            "probe": sweep.probe,
            "settings": sweep.results,
            "before": _label(BASE),
            "chosen": _label(chosen),
        }
