"""The held-out split that early stopping watches."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

__all__ = ["validation_split"]


def validation_split(
    targets: np.ndarray, fraction: float, seed: int, *, classes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(train, valid)`` indices; stratified when ``targets`` are class indices that each
    occur at least twice, a plain shuffle split otherwise."""
    stratify = classes and np.bincount(targets).min() >= 2
    splitter = (StratifiedShuffleSplit if stratify else ShuffleSplit)(
        1, test_size=fraction, random_state=seed
    )
    return next(splitter.split(np.zeros(len(targets)), targets))
