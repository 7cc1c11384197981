"""The same work on a Dask LocalCluster: 1 vs 2 worker processes, and featurize-to-parquet.

Grid search: ``GridSearchCV(n_jobs=-1)`` over a featurizer + LogisticRegression pipeline
under ``joblib.parallel_backend("dask")``, on a cluster of one worker process and on one
of two (one thread each), beside the same search in this process (``n_jobs=1``, torch on
every core). Featurizing: ``sktransfer.dask.featurize_to_parquet`` on the two-worker
cluster against ``PretrainedImageFeaturizer.transform`` in this process, on the same JPEG
files. Cluster start-up (worker processes, torch and the network loaded in each) is timed
apart and left out of the ratios.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from featurizer import write_jpegs
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline


def _search(paths, labels, n_jobs):
    from sktransfer import PretrainedImageFeaturizer

    search = GridSearchCV(
        make_pipeline(
            PretrainedImageFeaturizer(batch_size=16, progress=False),
            LogisticRegression(max_iter=1000),
        ),
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    search.fit(paths, labels)
    return time.perf_counter() - start, float(search.best_score_)


def _warm_up() -> None:
    """Import torch and load the network in a worker, as its first task would."""
    from sktransfer import PretrainedImageFeaturizer

    PretrainedImageFeaturizer(progress=False).fit([])


def run(n_search: int = 48, n_featurize: int = 192) -> dict:
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster
    from joblib import parallel_backend

    from sktransfer import PretrainedImageFeaturizer
    from sktransfer.dask import featurize_to_parquet

    seconds, scores = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in write_jpegs(Path(tmp), max(n_search, n_featurize))]
        labels = [int(i % 4 == 0) for i in range(n_search)]  # the cat photo vs the others
        seconds["search_in_process"], scores["in_process"] = _search(paths[:n_search], labels, 1)
        for workers in (1, 2):
            start = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(_warm_up)  # torch and the network loaded: timed apart
                seconds[f"cluster_start_{workers}_workers"] = time.perf_counter() - start
                with parallel_backend("dask"):
                    key = f"search_{workers}_workers"
                    seconds[key], scores[key] = _search(paths[:n_search], labels, -1)
                if workers == 2:
                    frame = dd.from_pandas(pd.DataFrame({"path": paths[:n_featurize]}), 8)
                    featurizer = PretrainedImageFeaturizer(batch_size=16, progress=False)
                    start = time.perf_counter()
                    featurize_to_parquet(frame, featurizer, str(Path(tmp) / "features"))
                    seconds["featurize_to_parquet_2_workers"] = time.perf_counter() - start
        local = PretrainedImageFeaturizer(batch_size=16, progress=False).fit([])
        start = time.perf_counter()
        features = local.transform(paths[:n_featurize])
        seconds["featurize_in_process"] = time.perf_counter() - start
        written = pd.read_parquet(Path(tmp) / "features").drop(columns="path").to_numpy()
        max_difference = float(np.abs(written - features).max())
    per_s = {
        "featurize_to_parquet_2_workers": n_featurize / seconds["featurize_to_parquet_2_workers"],
        "featurize_in_process": n_featurize / seconds["featurize_in_process"],
    }
    return {
        "search_images": n_search,
        "candidates": 3,
        "folds": 3,
        "featurize_images": n_featurize,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "images_per_s": {k: round(v, 1) for k, v in per_s.items()},
        "best_scores": {k: round(v, 3) for k, v in scores.items()},
        "parquet_vs_in_process_max_abs_difference": max_difference,
        "ratios": {
            "search_2_vs_1_workers": round(
                seconds["search_1_workers"] / seconds["search_2_workers"], 2
            ),
            "search_2_workers_vs_in_process": round(
                seconds["search_in_process"] / seconds["search_2_workers"], 2
            ),
            "parquet_2_workers_vs_in_process": round(
                per_s["featurize_to_parquet_2_workers"] / per_s["featurize_in_process"], 2
            ),
        },
        "targets": {
            "search_2_vs_1_workers": "",
            "search_2_workers_vs_in_process": "",
            "parquet_2_workers_vs_in_process": "",
        },
    }
