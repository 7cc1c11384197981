"""The same estimators on a real Dask LocalCluster (2 worker processes, loopback only) and
on a local Ray instance: identical results to the single-process run."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from sktransfer import PretrainedImageFeaturizer
from sktransfer._shared_backbones import _cached

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, mnist):
    """120 real MNIST digits written as PNG files, with their labels."""
    images, labels = mnist
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i in range(120):
        paths.append(str(folder / f"{i}.png"))
        Image.fromarray(images[i]).save(paths[-1])
    return pd.DataFrame({"path": paths, "label": labels[:120]})


def _search(n_jobs):
    featurizer = PretrainedImageFeaturizer(batch_size=16, progress=False)
    return GridSearchCV(
        make_pipeline(featurizer, LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [0.1, 1.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )


def _assert_same_search(distributed_search, local_search):
    assert distributed_search.best_params_ == local_search.best_params_
    np.testing.assert_array_equal(
        distributed_search.cv_results_["mean_test_score"],
        local_search.cv_results_["mean_test_score"],
    )


@pytest.fixture(scope="module")
def local_search(lfw):
    images, labels = lfw
    index = np.r_[0:30, 100:130]
    return _search(n_jobs=1).fit(images[index], labels[index]), (images[index], labels[index])


def test_featurize_to_parquet_on_the_cluster_equals_the_local_run(
    client, digit_files, tmp_path, feature_atol
):
    from sktransfer.dask import featurize, featurize_to_parquet

    frame = dd.from_pandas(digit_files, npartitions=6)
    featurizer = PretrainedImageFeaturizer(batch_size=16, progress=False)
    featurize_to_parquet(frame, featurizer, str(tmp_path / "features"), write_index=False)
    written = pd.read_parquet(tmp_path / "features")
    local = PretrainedImageFeaturizer(batch_size=16, progress=False).fit(digit_files["path"])
    names = list(local.get_feature_names_out())
    assert list(written.columns) == ["path", "label", *names]
    assert written["path"].tolist() == digit_files["path"].tolist()  # order and labels kept
    assert written["label"].tolist() == digit_files["label"].tolist()
    np.testing.assert_allclose(
        written[names].to_numpy(), local.transform(digit_files["path"]), atol=feature_atol
    )
    # each worker process loaded the network once, for all the partitions it featurized
    loads = client.run(_cached.cache_info)
    assert sorted(info.misses for info in loads.values()) == [1, 1]

    only = featurize(frame["path"], featurizer, keep_columns=False).compute()
    assert list(only.columns) == names and len(only) == 120


def test_a_text_column_featurizes_on_the_cluster_as_locally(client, sms):
    from sktransfer import TransformerTextEmbedder
    from sktransfer.dask import featurize

    messages = sms.iloc[:120].reset_index(drop=True)
    frame = dd.from_pandas(messages, npartitions=4)
    embedder = TransformerTextEmbedder(batch_size=16, progress=False)
    features = featurize(frame, embedder, column="text").compute()
    names = [f"transformertextembedder{i}" for i in range(384)]
    assert list(features.columns) == ["label", "text", *names]
    assert features["text"].tolist() == messages["text"].tolist()
    local = TransformerTextEmbedder(progress=False).fit_transform(messages["text"])
    np.testing.assert_allclose(features[names].to_numpy(), local, atol=1e-5)


def test_grid_search_under_the_dask_joblib_backend_equals_the_local_run(client, local_search):
    local, (X, y) = local_search
    with parallel_backend("dask"):
        search = _search(n_jobs=-1).fit(X, y)
    _assert_same_search(search, local)
    assert search.best_score_ > 0.9
    # the fits ran on the workers: each loaded the network there (once)
    assert all(info.misses == 1 for info in client.run(_cached.cache_info).values())


def test_grid_search_under_ray_equals_the_local_run(local_search):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    local, (X, y) = local_search
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with parallel_backend("ray"):
            search = _search(n_jobs=-1).fit(X, y)
    finally:
        ray.shutdown()
    _assert_same_search(search, local)
