"""Does a cross-validated fine-tune, or an ensemble of backbones, beat the linear probe?

Three real datasets: 200 of the pets photos (cats and dogs; left out when
``../shared/data/pets`` is not there), 300 MNIST digits and the 200 LFW faces and
non-faces. Outer leakage-safe 3-fold CV, the same folds for every
model; mean accuracy over the outer folds of:

- the linear probe of each backbone (``PretrainedImageFeaturizer`` + ``LogisticRegression``);
- ``GridSearchCV(FineTunedImageClassifier(), {"unfreeze": [0, 1, 2]})`` on inner
  leakage-safe 3-fold CV of each outer training part, refit on it (nested CV: the depth is
  chosen without seeing the outer test fold);
- sklearn's ``VotingClassifier(voting="soft")`` over the three backbones' probes.

Every model reads one feature cache, so each image's features are computed once per
backbone and depth. Last, the time of a full ``GridSearchCV`` over ``unfreeze`` {0, 1, 2}
(3 folds and the refit) with ``efficientnet_lite2`` on 250 other pets photos, cold cache.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

BACKBONES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
DEPTHS = [0, 1, 2]


def _datasets(seed: int) -> tuple[dict, tuple]:
    """The three datasets, and the 250 photos of the timing (other pets photos)."""
    from diagnosis import _pets_or_faces
    from skimage.data import lfw_subset

    from sktransfer import load_mnist_sample

    name, X, y = _pets_or_faces()
    order = np.random.default_rng(seed).permutation(len(X))
    digits, labels = load_mnist_sample()
    faces = (list(lfw_subset()), np.array(["face"] * 100 + ["other"] * 100))
    sets = {"mnist_300": (list(digits[:300]), labels[:300].astype(str)), "lfw_200": faces}
    if name != "pets":  # without the pets photos: two datasets, and the faces timed
        return sets, ("lfw_200", *faces)
    sets = {"pets_200": ([X[i] for i in order[:200]], np.asarray(y)[order[:200]]), **sets}
    rest = order[200:450]
    return sets, ("pets_250", [X[i] for i in rest], np.asarray(y)[rest])


def _probe(backbone: str, cache: str):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sktransfer import PretrainedImageFeaturizer

    featurizer = PretrainedImageFeaturizer(backbone, cache=cache, progress=False)
    return make_pipeline(featurizer, LogisticRegression(max_iter=3000))


def _search(backbone: str, cache: str, seed: int):
    from sklearn.model_selection import GridSearchCV

    from sktransfer import FineTunedImageClassifier, LeakageSafeKFold

    model = FineTunedImageClassifier(backbone, cache=cache, random_state=seed, progress=False)
    inner = LeakageSafeKFold(3, shuffle=True, random_state=seed, method="hash")
    return GridSearchCV(model, {"unfreeze": DEPTHS}, cv=inner)


def _compare(X: list, y: np.ndarray, cache: str, seed: int) -> dict:
    from sklearn.ensemble import VotingClassifier

    from sktransfer import LeakageSafeKFold

    folds = list(LeakageSafeKFold(3, shuffle=True, random_state=seed, method="hash").split(X, y))
    names = [f"probe {b}" for b in BACKBONES] + ["CV-chosen fine-tune efficientnet_lite0"]
    names.append("soft vote of the 3 probes")
    scores = {name: [] for name in names}
    seconds = dict.fromkeys(names, 0.0)
    chosen = []
    for train, test in folds:
        X_train, X_test = [X[i] for i in train], [X[i] for i in test]
        models = {f"probe {b}": _probe(b, cache) for b in BACKBONES}
        models["CV-chosen fine-tune efficientnet_lite0"] = _search(BACKBONES[0], cache, seed)
        models["soft vote of the 3 probes"] = VotingClassifier(
            [(b, _probe(b, cache)) for b in BACKBONES], voting="soft"
        )
        for name, model in models.items():
            start = time.perf_counter()
            scores[name].append(float(model.fit(X_train, y[train]).score(X_test, y[test])))
            seconds[name] += time.perf_counter() - start
        chosen.append(models["CV-chosen fine-tune efficientnet_lite0"].best_params_["unfreeze"])
    accuracy = {k: float(np.mean(v)) for k, v in scores.items()}
    best_single = max(accuracy[f"probe {b}"] for b in BACKBONES)
    return {
        "n_samples": len(y),
        "accuracy": accuracy,
        "fold_accuracy": scores,
        "seconds": seconds,
        "chosen_unfreeze": chosen,
        "fine_tune_minus_probe": accuracy["CV-chosen fine-tune efficientnet_lite0"]
        - accuracy["probe efficientnet_lite0"],
        "vote_minus_best_single": accuracy["soft vote of the 3 probes"] - best_single,
    }


def run(seed: int = 0) -> dict:
    sets, (timing_name, X_time, y_time) = _datasets(seed)
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        for name, (X, y) in sets.items():
            results[name] = _compare(X, y, cache, seed)
    with tempfile.TemporaryDirectory() as cache:  # cold: nothing featurized before
        search = _search("efficientnet_lite2", cache, seed)
        start = time.perf_counter()
        search.fit(X_time, y_time)
        results["lite2_grid"] = {
            "data": timing_name,
            "seconds": time.perf_counter() - start,
            "best_unfreeze": search.best_params_["unfreeze"],
            "cv_accuracy": {
                str(d): float(s)
                for d, s in zip(DEPTHS, search.cv_results_["mean_test_score"], strict=True)
            },
        }
    return results
