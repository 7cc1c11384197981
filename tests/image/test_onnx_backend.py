"""``PretrainedImageFeaturizer(backend="onnxruntime")``: same features, exported once, int8."""

import logging
import pickle
import shutil
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from sktransfer import PretrainedImageFeaturizer
from sktransfer.image import BACKEND_TOLERANCE, _featurizer


def _onnx_files(folder):
    return sorted((folder / "sktransfer-onnx").glob("*.onnx"))


def test_features_equal_the_torch_backend_within_the_tolerance(default_featurizer, photo_files):
    onnx = PretrainedImageFeaturizer(backend="onnxruntime", progress=False).fit(photo_files)
    assert 0 < onnx.backend_difference_ <= BACKEND_TOLERANCE
    expected = default_featurizer.transform(photo_files)
    found = onnx.transform(photo_files)
    assert found.dtype == np.float32 and found.shape == expected.shape
    np.testing.assert_allclose(found, expected, atol=BACKEND_TOLERANCE * np.abs(expected).max())


def test_the_export_is_cached_by_key_and_the_feature_cache_shared(
    photo_files, default_featurizer, tmp_path, forward_batches, monkeypatch
):
    PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit_transform(photo_files)
    onnx = PretrainedImageFeaturizer(backend="onnxruntime", cache=tmp_path, progress=False)
    onnx.fit(photo_files)
    n_fitted = len(forward_batches)  # fit compares the backends on a probe batch
    onnx.transform(photo_files)
    assert len(forward_batches) == n_fitted  # every feature came from the torch entries
    (stored,) = _onnx_files(tmp_path)
    # A new process finds the exported graph in the cache folder: nothing is exported.
    _featurizer._float_graph.cache_clear()
    monkeypatch.setattr(_featurizer, "module_to_onnx", _refuse)
    assert len(pickle.dumps(onnx)) < 10_000  # neither the graph nor the session is pickled
    again = pickle.loads(pickle.dumps(onnx))
    upside_down = [np.asarray(Image.open(path))[::-1] for path in photo_files[:2]]  # uncached
    np.testing.assert_allclose(
        again.transform(upside_down), default_featurizer.transform(upside_down), atol=1e-4
    )
    fresh = PretrainedImageFeaturizer(backend="onnxruntime", cache=tmp_path, progress=False)
    assert fresh.fit(photo_files).backend_difference_ == onnx.backend_difference_


def _refuse(*args, **kwargs):
    raise AssertionError("exported again")


def test_a_corrupt_or_mismatched_exported_file_is_detected_and_rebuilt(
    small_photos, tmp_path, caplog
):
    pooled = PretrainedImageFeaturizer(backend="onnxruntime", cache=tmp_path, progress=False)
    expected = pooled.fit(small_photos).transform(small_photos)
    (path,) = _onnx_files(tmp_path)
    path.write_bytes(path.read_bytes()[:5000])  # truncated
    with caplog.at_level(logging.WARNING, logger="sktransfer"):
        rebuilt = PretrainedImageFeaturizer(
            backend="onnxruntime", cache=tmp_path, progress=False
        ).fit(small_photos)
    assert "Ignoring corrupt exported graph" in caplog.text
    np.testing.assert_array_equal(rebuilt.transform(small_photos), expected)
    # Another layer's graph planted under this key: found by the key in its metadata.
    other = PretrainedImageFeaturizer(
        layer=-2, backend="onnxruntime", cache=tmp_path / "other", progress=False
    ).fit(small_photos)
    shutil.copy(_onnx_files(tmp_path / "other")[0], path)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sktransfer"):
        again = PretrainedImageFeaturizer(
            backend="onnxruntime", cache=tmp_path, progress=False
        ).fit(small_photos)
    assert "was exported for" in caplog.text
    assert again.transform(small_photos).shape[1] == 1280 != other.n_features_out_


@pytest.mark.slow
def test_static_int8_keeps_a_real_linear_probe_and_caches_apart(lfw, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    images, labels = lfw
    X, y = images[::2], labels[::2]
    float32 = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit(X)
    int8 = PretrainedImageFeaturizer(
        backend="onnxruntime", quantize="static", cache=tmp_path, progress=False
    ).fit(X)
    features, quantized = float32.transform(X), int8.transform(X)
    assert int8.backend_difference_ > BACKEND_TOLERANCE
    assert not np.allclose(features, quantized, atol=1e-3)  # its own cache entries
    correlation = np.corrcoef(features.ravel(), quantized.ravel())[0, 1]
    assert correlation > 0.8  # 0.86 measured
    probe = LogisticRegression(max_iter=2000)
    accuracy = cross_val_score(probe, features, y, cv=5).mean()
    accuracy_int8 = cross_val_score(probe, quantized, y, cv=5).mean()
    assert accuracy_int8 >= accuracy - 0.05 and accuracy_int8 >= 0.9
    # The calibrated graph travels with the featurizer: no cache, no fit images needed.
    clone = pickle.loads(pickle.dumps(int8))
    clone.cache = None
    np.testing.assert_allclose(clone.transform(X[:8]), quantized[:8], atol=1e-6)
    assert list(work.iterdir()) == []  # the quantizer left nothing in the working folder


def test_dynamic_int8_runs_and_stays_close(small_photos, default_featurizer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    int8 = PretrainedImageFeaturizer(backend="onnxruntime", quantize="dynamic", progress=False).fit(
        small_photos
    )
    features = default_featurizer.transform(small_photos)
    quantized = int8.transform(small_photos)
    assert np.isfinite(quantized).all()
    # Each photo's int8 features are closer to its own float32 features than to any other's.
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    unit_int8 = quantized / np.linalg.norm(quantized, axis=1, keepdims=True)
    similarity = unit_int8 @ unit.T
    assert (similarity.argmax(1) == np.arange(len(features))).all()
    assert list(tmp_path.iterdir()) == []


def test_quantize_needs_the_onnx_backend_and_the_extra_is_named(small_photos, monkeypatch):
    with pytest.raises(ValueError, match="needs backend='onnxruntime'"):
        PretrainedImageFeaturizer(quantize="static").fit(small_photos)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"pip install 'sktransfer\[onnx\]'"):
        PretrainedImageFeaturizer(backend="onnxruntime", progress=False).fit(small_photos)
