"""FineTunedImageClassifier against the plain skorch fine-tuning loop of the same settings.

The plain loop is what skorch's transfer-learning tutorial builds: the whole network
(trunk, pooling, new linear head) in a ``NeuralNetClassifier``, lower layers frozen with
skorch's ``Freezer`` callback, images transformed on the fly in a ``Dataset``, so every
epoch runs the frozen trunk forward again. Same backbone, preprocessing, optimizer (AdamW,
lr 1e-3), batch size and epochs; accuracy on held-out images is reported for both.
Data: scikit-image's LFW subset (real faces vs non-faces), shuffled once.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
import torch
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from torch import nn


class _OnTheFly(torch.utils.data.Dataset):
    def __init__(self, images, targets, transform):
        self.images, self.targets, self.transform = images, targets, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from sktransfer._inputs import open_rgb

        return self.transform(open_rgb(self.images[i])), self.targets[i]


def plain_skorch(unfreeze: int, max_epochs: int, seed: int = 0):
    """The tutorial-style estimator: skorch net over the whole network + Freezer."""
    from skorch import NeuralNetClassifier
    from skorch.callbacks import Freezer

    from sktransfer.backbones import load_backbone

    torch.manual_seed(seed)
    backbone = load_backbone()
    trainable = backbone.layer_groups[len(backbone.layer_groups) - unfreeze :]
    transform = backbone.preprocessing.transform()

    def frozen(name: str) -> bool:
        return name.startswith("0.") and name.split(".")[1] not in trainable

    class Plain(NeuralNetClassifier):
        def fit(self, X, y, **fit_params):
            return super().fit(_OnTheFly(list(X), np.asarray(y, np.int64), transform), None)

        def predict_proba(self, X):
            dummy = np.zeros(len(X), dtype=np.int64)
            return super().predict_proba(_OnTheFly(list(X), dummy, transform))

    return Plain(
        module=nn.Sequential(
            backbone.trunk, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 2)
        ),
        callbacks=[Freezer(frozen)],
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=max_epochs,
        batch_size=32,
        iterator_train__shuffle=True,
        train_split=None,
        classes=[0, 1],
        verbose=0,
    )


def ours(unfreeze: int, max_epochs: int, cache=None):
    from sktransfer.finetune import FineTunedImageClassifier

    return FineTunedImageClassifier(
        unfreeze=unfreeze,
        max_epochs=max_epochs,
        scheduler=None,
        weight_decay=0.01,
        cache=cache,
        random_state=0,
        progress=False,
    )


def run(n_images: int = 64, epochs: int = 10, grid_epochs: int = 3) -> dict:
    from skimage.data import lfw_subset

    images = lfw_subset()
    targets = np.array([1] * 100 + [0] * 100)
    order = np.random.default_rng(0).permutation(len(images))
    images, targets = images[order], targets[order]
    X, y = images[:n_images], targets[:n_images]
    X_test, y_test = images[n_images : 2 * n_images], targets[n_images : 2 * n_images]

    def timed(model, *args):
        start = time.perf_counter()
        model.fit(*args)
        return time.perf_counter() - start, model

    results: dict = {"images": n_images, "epochs": epochs, "grid_epochs": grid_epochs}
    for unfreeze in (0, 1):
        t_plain, plain = timed(plain_skorch(unfreeze, epochs), X, y)
        t_ours, fitted = timed(ours(unfreeze, epochs), X, y)
        plain_accuracy = float((plain.predict_proba(X_test).argmax(1) == y_test).mean())
        results[f"unfreeze_{unfreeze}"] = {
            "plain_skorch_seconds": round(t_plain, 2),
            "sktransfer_seconds": round(t_ours, 2),
            "speedup": round(t_plain / t_ours, 1),
            "plain_skorch_accuracy": round(plain_accuracy, 3),
            "sktransfer_accuracy": round(float(fitted.score(X_test, y_test)), 3),
        }
    grid = {"unfreeze": [0, 1, 2]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)

    def plain_scorer(model, X_, y_):
        return float((model.predict_proba(X_).argmax(1) == np.asarray(y_)).mean())

    t_plain, _ = timed(
        GridSearchCV(plain_grid(grid_epochs), grid, cv=cv, scoring=plain_scorer), X, y
    )
    with tempfile.TemporaryDirectory() as cache:
        t_ours, search = timed(GridSearchCV(ours(0, grid_epochs, cache), grid, cv=cv), X, y)
    results["grid_unfreeze_0_1_2_cv3"] = {
        "plain_skorch_seconds": round(t_plain, 2),
        "sktransfer_seconds": round(t_ours, 2),
        "speedup": round(t_plain / t_ours, 1),
        "best_unfreeze": search.best_params_["unfreeze"],
    }
    results["targets"] = {"unfreeze_0": ">= 5", "unfreeze_1": ">= 2", "grid": ">= 2"}
    return results


def plain_grid(max_epochs: int):
    """The plain estimator with ``unfreeze`` as a settable parameter, for GridSearchCV."""
    from sklearn.base import BaseEstimator

    class PlainGrid(BaseEstimator):
        def __init__(self, unfreeze=0, max_epochs=max_epochs):
            self.unfreeze = unfreeze
            self.max_epochs = max_epochs

        def fit(self, X, y):
            self.net_ = plain_skorch(self.unfreeze, self.max_epochs).fit(X, y)
            return self

        def predict_proba(self, X):
            return self.net_.predict_proba(X)

    return PlainGrid()
