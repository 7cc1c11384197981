"""Test-time augmentation against the plain model, on the same folds of real data.

Three real datasets: 300 of the pets photos (cats and dogs; LFW faces again when
``../shared/data/pets`` is not there), 300 MNIST digits and the 200 LFW faces and
non-faces. Leakage-safe 5-fold CV, the same folds for every model; mean accuracy over the
folds of:

- a linear probe (``PretrainedImageFeaturizer(tta=...)`` + ``StandardScaler`` +
  ``LogisticRegression``), the features averaged over the views in training and
  prediction alike;
- ``FineTunedImageClassifier(unfreeze=1)`` trained once per fold, predicting with
  ``tta`` set to each value in turn (TTA at prediction only).

Each view of each image is featurized once (the cache), which the seconds show.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from diagnosis import _pets_or_faces

TTA = (None, "flip", "five_crop")


def run(n_samples: int = 300, seed: int = 0) -> dict:
    from skimage.data import lfw_subset

    from sktransfer import load_mnist_sample

    name, X, y = _pets_or_faces()
    pick = np.random.default_rng(seed).choice(len(X), min(n_samples, len(X)), replace=False)
    digits, labels = load_mnist_sample()
    sets = {
        f"{name}_{len(pick)}": ([X[i] for i in pick], np.asarray(y)[pick]),
        f"mnist_{n_samples}": (list(digits[:n_samples]), labels[:n_samples].astype(str)),
        "lfw_200": (list(lfw_subset()), np.array(["face"] * 100 + ["other"] * 100)),
    }
    with tempfile.TemporaryDirectory() as cache:
        return {data: _compare(X, y, cache, seed) for data, (X, y) in sets.items()}


def _compare(X: list, y: np.ndarray, cache: str, seed: int) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer
    from sktransfer.finetune import FineTunedImageClassifier

    folds = list(LeakageSafeKFold(5, shuffle=True, random_state=seed).split(X, y))
    scores = {f"probe, tta={t}": [] for t in TTA} | {f"fine-tuned, tta={t}": [] for t in TTA}
    seconds = dict.fromkeys(scores, 0.0)
    for train, test in folds:
        X_train, X_test = [X[i] for i in train], [X[i] for i in test]
        for tta in TTA:
            key = f"probe, tta={tta}"
            start = time.perf_counter()
            probe = make_pipeline(
                PretrainedImageFeaturizer(tta=tta, cache=cache, progress=False),
                StandardScaler(),
                LogisticRegression(C=0.1, max_iter=3000),
            ).fit(X_train, y[train])
            scores[key].append(probe.score(X_test, y[test]))
            seconds[key] += time.perf_counter() - start
        start = time.perf_counter()
        model = FineTunedImageClassifier(
            unfreeze=1, cache=cache, random_state=seed, progress=False
        ).fit(X_train, y[train])
        fit_seconds = time.perf_counter() - start
        for tta in TTA:
            key = f"fine-tuned, tta={tta}"
            start = time.perf_counter()
            scores[key].append(model.set_params(tta=tta).score(X_test, y[test]))
            seconds[key] += time.perf_counter() - start + fit_seconds
    return {
        "n_samples": len(y),
        "folds": len(folds),
        "accuracy": {k: float(np.mean(v)) for k, v in scores.items()},
        "fold_accuracy": {k: [float(s) for s in v] for k, v in scores.items()},
        "seconds": seconds,
    }
