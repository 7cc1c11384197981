"""Class weights on imbalanced data, label issues among flipped labels, and lr_find.

All figures come from one run, side by side:

- imbalance: balanced accuracy (leakage-safe 5-fold CV, out of fold) of a fine-tuner with
  ``class_weight="balanced"`` against the same fine-tuner without, on real SMS messages
  (13% spam; ``FineTunedTransformerClassifier`` on the cached pooled embeddings) and on
  the pets photos subsampled to 1 cat for 10 dogs (``FineTunedImageClassifier``, a probe
  on the cached features; LFW faces 1:10 when ``../shared/data/pets`` is not there);
- label issues: 5% of the labels of MNIST digits, SMS messages and the pets photos flipped
  at random (seeded); ``label_issues`` on out-of-fold probabilities of a linear probe
  (and, for the digits, of the fine-tuner with ``unfreeze=1`` and of an SVC on their
  pixels; TF-IDF for texts); precision and
  recall of the flipped samples among those flagged, and among the top-ranked 5% by
  self-confidence (``top_losses``' given-label probability);
- lr_find: its seconds, and its suggestion (and ``lr_min``) against the best learning rate
  of a grid.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

PETS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pets"


def run(flip_fraction: float = 0.05, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        return {
            "imbalance": _imbalance(cache, seed),
            "label_issues": _label_issues(cache, flip_fraction, seed),
            "lr_find": _lr_find(cache, seed),
        }


LR_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def _lr_find(cache: str, seed: int, n_samples: int = 200) -> dict:
    """lr_find's suggestion against the best ``lr`` of a grid (3-fold CV log loss) of
    ``FineTunedImageClassifier(unfreeze=1)``, on 200 MNIST digits and 200 pets photos
    (LFW faces without them), both on the frozen activations lr_find caches."""
    from sklearn.model_selection import GridSearchCV

    from sktransfer import LeakageSafeKFold, load_mnist_sample
    from sktransfer.finetune import FineTunedImageClassifier, lr_find

    digits, labels = load_mnist_sample()
    name, X, y = _pets_or_faces()
    pick = np.random.default_rng(seed).choice(len(X), n_samples, replace=False)
    sets = {
        "mnist": (list(digits[:n_samples]), labels[:n_samples].astype(str)),
        name: ([X[i] for i in pick], y[pick]),
    }
    results = {}
    for data, (samples, targets) in sets.items():
        model = FineTunedImageClassifier(
            unfreeze=1, max_epochs=10, cache=cache, random_state=seed, progress=False
        )
        found = lr_find(model, samples, targets)
        cv = LeakageSafeKFold(3, shuffle=True, random_state=seed, method="hash")
        start = time.perf_counter()
        search = GridSearchCV(model, {"lr": list(LR_GRID)}, cv=cv, scoring="neg_log_loss")
        search.fit(samples, targets)
        grid_seconds = time.perf_counter() - start
        best = search.best_params_["lr"]
        losses = -search.cv_results_["mean_test_score"]
        results[data] = {
            "n_samples": len(targets),
            "suggestion": found.suggestion,
            "lr_find_seconds": found.seconds,
            "lr_find_batches": len(found.lrs),
            "grid_best_lr": best,
            "ratio": found.suggestion / best,
            "lr_min": found.lr_min,
            "lr_min_ratio": found.lr_min / best,
            "grid_log_loss": dict(zip(map(str, LR_GRID), map(float, losses), strict=True)),
            "grid_seconds": grid_seconds,
        }
    return results


def _pets_or_faces():
    from sktransfer.datasets import load_image_folder

    if PETS.is_dir():
        frame = load_image_folder(PETS)
        return "pets", frame["path"].tolist(), frame["label"].to_numpy()
    from skimage.data import lfw_subset

    return "lfw", list(lfw_subset()), np.array(["face"] * 100 + ["other"] * 100)


def _imbalance(cache: str, seed: int) -> dict:
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import cross_val_predict

    from sktransfer import (
        FineTunedImageClassifier,
        FineTunedTransformerClassifier,
        LeakageSafeKFold,
        load_sms_spam,
    )

    sms = load_sms_spam()
    name, X, y = _pets_or_faces()
    rare, common = np.unique(y)[0], np.unique(y)[1]  # cats (or faces) become the rare class
    rng = np.random.default_rng(seed)
    kept_common = np.flatnonzero(y == common)
    kept_rare = rng.choice(np.flatnonzero(y == rare), len(kept_common) // 10, replace=False)
    keep = np.sort(np.concatenate([kept_common, kept_rare]))
    tasks = {
        "sms": (
            sms["text"].tolist(),
            sms["label"].to_numpy(),
            lambda weight: FineTunedTransformerClassifier(
                unfreeze=0, class_weight=weight, cache=cache, random_state=seed, progress=False
            ),
        ),
        f"{name}_1_to_10": (
            [X[i] for i in keep],
            y[keep],
            lambda weight: FineTunedImageClassifier(
                class_weight=weight, cache=cache, random_state=seed, progress=False
            ),
        ),
    }
    results = {}
    for task, (samples, labels, make) in tasks.items():
        cv = list(LeakageSafeKFold(5, shuffle=True, random_state=seed).split(samples, labels))
        scores = {}
        for weight in (None, "balanced"):
            start = time.perf_counter()
            predicted = cross_val_predict(make(weight), samples, labels, cv=cv)
            scores[str(weight)] = {
                "balanced_accuracy": float(balanced_accuracy_score(labels, predicted)),
                "accuracy": float(np.mean(predicted == labels)),
                "seconds": time.perf_counter() - start,
            }
        values, counts = np.unique(labels, return_counts=True)
        results[task] = {
            "n_samples": len(labels),
            "classes": dict(zip(values.tolist(), counts.tolist(), strict=True)),
            "scores": scores,
        }
    return results


def _flatten(images) -> np.ndarray:
    """Digit images as rows of pixels in [0, 1]."""
    return np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255


def _label_issues(cache: str, flip_fraction: float, seed: int) -> dict:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC

    from sktransfer import (
        FineTunedImageClassifier,
        LeakageSafeKFold,
        PretrainedImageFeaturizer,
        label_issues,
        load_mnist_sample,
        load_sms_spam,
        top_losses,
    )

    def probe():
        return make_pipeline(
            PretrainedImageFeaturizer(cache=cache, progress=False),
            StandardScaler(),
            LogisticRegression(C=0.1, max_iter=3000),
        )

    digits, digit_labels = load_mnist_sample()
    sms = load_sms_spam()
    name, X, y = _pets_or_faces()
    pixels = make_pipeline(  # an SVC's scores, calibrated to probabilities (Platt)
        FunctionTransformer(_flatten), CalibratedClassifierCV(SVC(), ensemble=False)
    )
    sets = {
        "mnist_2000, EfficientNet-Lite0 probe": (
            list(digits),
            digit_labels.astype(str),
            probe(),
            "hash",
        ),
        "mnist_2000, EfficientNet-Lite0 fine-tuned (unfreeze=1)": (
            list(digits),
            digit_labels.astype(str),
            FineTunedImageClassifier(
                unfreeze=1, max_epochs=10, cache=cache, random_state=seed, progress=False
            ),
            "hash",
        ),
        "mnist_2000, SVC on pixels": (list(digits), digit_labels.astype(str), pixels, "hash"),
        "sms": (
            sms["text"].tolist(),
            sms["label"].to_numpy(),
            make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10)),
            "auto",
        ),
        name: (X, y, probe(), "auto"),
    }
    rng = np.random.default_rng(seed)
    results = {}
    for data, (samples, labels, model, method) in sets.items():
        labels = np.asarray(labels).astype(object)
        flipped = rng.choice(len(labels), round(flip_fraction * len(labels)), replace=False)
        classes = np.unique(labels)
        given = labels.copy()
        for i in flipped:  # another class, drawn at random
            given[i] = rng.choice(classes[classes != labels[i]])
        cv = LeakageSafeKFold(5, shuffle=True, random_state=seed, method=method)
        start = time.perf_counter()
        splits = list(cv.split(samples, given))
        proba = cross_val_predict(model, samples, given, cv=splits, method="predict_proba")
        seconds = time.perf_counter() - start
        issues = label_issues(None, samples, given, proba=proba)
        ranked = top_losses(None, samples, given, proba=proba, k=len(flipped))
        truth = set(flipped.tolist())
        flagged = set(issues.index.tolist())
        top = set(ranked.index.tolist())  # the lowest probabilities of the given label
        results[data] = {
            "n_samples": len(given),
            "n_flipped": len(flipped),
            "out_of_fold_accuracy": float(np.mean(classes[proba.argmax(1)] == labels)),
            "n_flagged": len(flagged),
            "precision": len(flagged & truth) / max(1, len(flagged)),
            "recall": len(flagged & truth) / len(truth),
            "top_5_percent_precision": len(top & truth) / len(top),
            "seconds": seconds,
        }
    return results
