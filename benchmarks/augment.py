"""Augmentation at cache speed: K cached augmented views against on-the-fly augmentation.

``FineTunedImageClassifier(unfreeze=1, augment="default", max_epochs=10)`` on 200 of the
pets photos (LFW faces when ``../shared/data/pets`` is not there) and on the 200 LFW
faces and non-faces; leakage-safe 3-fold CV, the same folds for every model: without
augmentation, with augmentation on the fly (the frozen part runs on every batch) and with
``augment_views=4`` (4 seeded draws per image, their frozen activations computed once on
one cache shared by the folds). Mean accuracy over the folds and seconds for all folds.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from diagnosis import _pets_or_faces

MODELS = {
    "no augmentation": {},
    "augment on the fly": {"augment": "default"},
    "augment_views=4 (cached)": {"augment": "default", "augment_views": 4},
}


def run(n_samples: int = 200, seed: int = 0) -> dict:
    from skimage.data import lfw_subset

    name, X, y = _pets_or_faces()
    pick = np.random.default_rng(seed).choice(len(X), min(n_samples, len(X)), replace=False)
    sets = {
        f"{name}_{len(pick)}": ([X[i] for i in pick], np.asarray(y)[pick]),
        "lfw_200": (list(lfw_subset()), np.array(["face"] * 100 + ["other"] * 100)),
    }
    results = {}
    for data, (samples, labels) in sets.items():
        with tempfile.TemporaryDirectory() as cache:
            results[data] = _compare(samples, labels, cache, seed)
    return results


def _compare(X: list, y: np.ndarray, cache: str, seed: int) -> dict:
    from sktransfer import LeakageSafeKFold
    from sktransfer.finetune import FineTunedImageClassifier

    cv = LeakageSafeKFold(3, shuffle=True, random_state=seed, method="hash")
    folds = list(cv.split(X, y))
    out = {"n_samples": len(y), "folds": len(folds), "epochs": 10, "models": {}}
    for model_name, options in MODELS.items():
        scores, start = [], time.perf_counter()
        for train, test in folds:
            model = FineTunedImageClassifier(
                unfreeze=1,
                max_epochs=10,
                cache=cache,
                random_state=seed,
                progress=False,
                **options,
            ).fit([X[i] for i in train], y[train])
            scores.append(float(model.score([X[i] for i in test], y[test])))
        out["models"][model_name] = {
            "accuracy": float(np.mean(scores)),
            "fold_accuracy": scores,
            "seconds": time.perf_counter() - start,
        }
    on_the_fly = out["models"]["augment on the fly"]["seconds"]
    out["speedup_cached_over_on_the_fly"] = (
        on_the_fly / out["models"]["augment_views=4 (cached)"]["seconds"]
    )
    return out
