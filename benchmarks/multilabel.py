"""Multi-label fine-tuning against one-vs-rest LogisticRegression on the same features.

Real MNIST digits tiled in pairs side by side (28x56 images); the labels are the digits
present (one or two of ten). Trained on ``n_train`` pairs, scored on ``n_test`` others by
micro-averaged F1 (and subset accuracy), all in one run: ``FineTunedImageClassifier`` as a
probe (``unfreeze=0``) and with its top group trained (``unfreeze=1``), against sklearn's
``OneVsRestClassifier(LogisticRegression())`` on the EfficientNet-Lite0 features.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np


def run(n_train: int = 600, n_test: int = 300, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.multiclass import OneVsRestClassifier

    from sktransfer import PretrainedImageFeaturizer, load_mnist_sample
    from sktransfer.finetune import FineTunedImageClassifier

    digits, labels = load_mnist_sample()
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    left, right = rng.integers(0, len(digits), (2, n))
    images = [np.hstack([digits[i], digits[j]]) for i, j in zip(left, right, strict=True)]
    present = np.zeros((n, 10), dtype=int)
    present[np.arange(n), labels[left]] = present[np.arange(n), labels[right]] = 1
    train, test = slice(0, n_train), slice(n_train, n)
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        featurizer = PretrainedImageFeaturizer(cache=cache, progress=False).fit(images)
        features = featurizer.transform(images)
        models = {
            "one-vs-rest LogisticRegression on the features": None,
            "fine-tuner, probe (unfreeze=0, lr 1e-2, 50 epochs)": {
                "unfreeze": 0,
                "lr": 1e-2,
                "max_epochs": 50,
            },
            "fine-tuner, unfreeze=1 (lr 3e-3, 20 epochs)": {
                "unfreeze": 1,
                "lr": 3e-3,
                "max_epochs": 20,
            },
        }
        for name, options in models.items():
            start = time.perf_counter()
            if options is None:
                model = OneVsRestClassifier(LogisticRegression(max_iter=3000))
                predicted = model.fit(features[train], present[train]).predict(features[test])
            else:
                model = FineTunedImageClassifier(
                    cache=cache, random_state=seed, progress=False, **options
                )
                predicted = model.fit(images[train], present[train]).predict(images[test])
            results[name] = {
                "micro_f1": float(f1_score(present[test], predicted, average="micro")),
                "subset_accuracy": float(accuracy_score(present[test], predicted)),
                "fit_seconds": time.perf_counter() - start,
            }
    return {"n_train": n_train, "n_test": n_test, "models": results}
