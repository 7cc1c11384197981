"""GridSearchCV over a model downstream of PretrainedImageFeaturizer, with and without its cache.

A grid over ``LogisticRegression(C)`` refits the whole pipeline for every candidate and
fold, so without a cache every image goes through the network once per fit and score.
With ``cache=`` the featurizer computes each image once (content-addressed on disk) and
later passes read the features back. Also timed: sklearn's own ``Pipeline(memory=...)``,
which caches fitted transformers but still transforms every test fold again.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from featurizer import write_jpegs
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline


def run(n_images: int = 96, n_splits: int = 3, grid: tuple = (0.1, 1.0, 10.0)) -> dict:
    from sktransfer import PretrainedImageFeaturizer

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_jpegs(Path(tmp), n_images)
        labels = [int(i % 4 == 0) for i in range(n_images)]  # the cat photo vs the others
        cv = StratifiedKFold(n_splits, shuffle=True, random_state=0)

        def search(memory=None, **featurizer):
            pipe = Pipeline(
                [
                    ("features", PretrainedImageFeaturizer(progress=False, **featurizer)),
                    ("model", LogisticRegression(max_iter=1000)),
                ],
                memory=memory,
            )
            start = time.perf_counter()
            fitted = GridSearchCV(pipe, {"model__C": list(grid)}, cv=cv).fit(paths, labels)
            return time.perf_counter() - start, fitted.best_score_

        t_plain, score_plain = search()
        t_cache, score_cache = search(cache=Path(tmp) / "features")
        t_memory, _ = search(memory=str(Path(tmp) / "sklearn-memory"))
    return {
        "images": n_images,
        "candidates": len(grid),
        "folds": n_splits,
        "seconds": {
            "no_cache": round(t_plain, 1),
            "featurizer_cache": round(t_cache, 1),
            "pipeline_memory": round(t_memory, 1),
        },
        "best_score_no_cache": round(float(score_plain), 3),
        "best_score_cache": round(float(score_cache), 3),
        "ratios": {
            "cache_vs_no_cache": round(t_plain / t_cache, 1),
            "cache_vs_pipeline_memory": round(t_memory / t_cache, 1),
        },
        "targets": {"cache_vs_no_cache": ">= 5", "cache_vs_pipeline_memory": ""},
    }
