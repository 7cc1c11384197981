"""Featurize images or texts on a Dask cluster, partition by partition, and write parquet.

Needs ``pip install "sktransfer[dask]"``. A fitted :class:`~sktransfer.PretrainedImageFeaturizer`
or :class:`~sktransfer.TransformerTextEmbedder` pickles to its specification (a few
kilobytes, no weights), so it ships cheaply with every task; each worker process loads the
network once, on the first partition it featurizes, and keeps it for the next ones (the
loaders are memoised per process). The weights must therefore load on every worker: the
default backbone's and transformer's install with sktransfer; others need the hub cache or
a path every worker can read.

Grid searches need nothing from this module: ``GridSearchCV(..., n_jobs=-1)`` inside
``joblib.parallel_backend("dask")`` runs its fits on the cluster (see the user
guide's "Scaling out: Dask and Ray").
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

try:
    import dask.dataframe as dd
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError('sktransfer.dask needs Dask: pip install "sktransfer[dask]"') from exc

__all__ = ["featurize", "featurize_to_parquet"]


def featurize(
    frame: Any, featurizer: Any, *, column: str = "path", keep_columns: bool = True
) -> dd.DataFrame:
    """The features of a dask DataFrame's image or text column, as a lazy dask DataFrame.

    Parameters
    ----------
    frame : dask DataFrame or Series
        Image paths (or encoded bytes), or texts, in ``column``, one per row; a Series is
        taken as that column.
    featurizer : PretrainedImageFeaturizer, TransformerTextEmbedder or Word2VecEmbedder
        Fitted or not (it is then fitted here, which only loads the network). Its
        ``on_error`` and ``cache`` apply on the workers; a cache folder must be one
        every worker can reach. Progress bars are turned off on the workers.
    column : str, default="path"
    keep_columns : bool, default=True
        Keep the input columns (labels, ids) beside the features, or return the
        features alone.

    Returns
    -------
    dask DataFrame
        The input's partitions and index, with one float32 column per feature, named by
        ``featurizer.get_feature_names_out()``.
    """
    if isinstance(frame, dd.Series):
        frame = frame.to_frame(name=column)
    if column not in frame.columns:
        raise KeyError(f"no column {column!r}; the columns are {list(frame.columns)}")
    if not hasattr(featurizer, "n_features_out_"):
        featurizer = clone(featurizer).fit([])
    shipped = copy.copy(featurizer)  # pickles to its specification, without the network
    shipped.progress = False
    names = [str(name) for name in featurizer.get_feature_names_out()]
    meta = _featurize_partition(frame._meta, None, column, names, keep_columns)
    return frame.map_partitions(
        _featurize_partition, shipped, column, names, keep_columns, meta=meta
    )


def featurize_to_parquet(
    frame: Any,
    featurizer: Any,
    path: str,
    *,
    column: str = "path",
    keep_columns: bool = True,
    **to_parquet: Any,
) -> None:
    """Featurize ``frame[column]`` on the cluster and write the result as parquet.

    One parquet file per partition, written by the worker that featurized it: features
    never travel back to the client. ``to_parquet`` goes to
    :meth:`dask.dataframe.DataFrame.to_parquet` (``write_index``, ``compression``,
    ``storage_options`` for s3:// or gs:// paths...).

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> from sktransfer import PretrainedImageFeaturizer
    >>> from sktransfer.dask import featurize_to_parquet
    >>> images = dd.read_csv("images.csv")  # a "path" column, and labels  # doctest: +SKIP
    >>> featurize_to_parquet(images, PretrainedImageFeaturizer(), "features/")  # doctest: +SKIP
    """
    featurize(frame, featurizer, column=column, keep_columns=keep_columns).to_parquet(
        path, **to_parquet
    )


def _featurize_partition(
    part: pd.DataFrame, featurizer: Any, column: str, names: list[str], keep_columns: bool
) -> pd.DataFrame:
    if featurizer is None or not len(part):
        features = np.empty((len(part), len(names)), dtype=np.float32)
    else:
        features = featurizer.transform(part[column])
    out = pd.DataFrame(features, index=part.index, columns=names)
    return pd.concat([part, out], axis=1) if keep_columns else out
