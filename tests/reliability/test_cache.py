"""The feature cache under reuse and faults: corrupt entries, shared writers, read-only."""

import errno
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from joblib import Memory
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import PretrainedImageFeaturizer
from sktransfer.exceptions import SktransferWarning


@pytest.fixture(scope="module")
def images(photos):
    return [np.asarray(Image.fromarray(p).resize((96, 96))) for p in photos.values()]


def _entries(folder):
    return sorted(folder.rglob("*.f32"))


def _count_forwards(monkeypatch):
    seen = []
    forward = PretrainedImageFeaturizer._forward
    monkeypatch.setattr(
        PretrainedImageFeaturizer,
        "_forward",
        lambda self, extractor, batch: seen.append(len(batch)) or forward(self, extractor, batch),
    )
    return seen


def test_second_pass_is_served_from_the_cache(images, tmp_path, monkeypatch):
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit(images)
    first = featurizer.transform(images)
    assert len(_entries(tmp_path)) == len(images)
    seen = _count_forwards(monkeypatch)
    np.testing.assert_array_equal(featurizer.transform(images[::-1]), first[::-1])
    assert seen == []
    uncached = PretrainedImageFeaturizer(progress=False).fit_transform(images)
    np.testing.assert_array_equal(first, uncached)


def test_settings_that_change_features_do_not_share_entries(images, tmp_path, monkeypatch):
    PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit_transform(images[:2])
    seen = _count_forwards(monkeypatch)
    for params in ({"pooling": "max"}, {"layer": "blocks5"}, {"image_size": 192}):
        PretrainedImageFeaturizer(cache=tmp_path, progress=False, **params).fit_transform(
            images[:2]
        )
    assert sum(seen) == 6 and len(_entries(tmp_path)) == 8


def test_corrupt_and_truncated_entries_are_recomputed(images, tmp_path, caplog):
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit(images)
    expected = featurizer.transform(images[:2])
    flipped, cut = _entries(tmp_path)
    data = bytearray(flipped.read_bytes())
    data[10] ^= 0xFF
    flipped.write_bytes(bytes(data))
    cut.write_bytes(cut.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="sktransfer"):
        np.testing.assert_array_equal(featurizer.transform(images[:2]), expected)
    assert caplog.text.count("corrupt feature cache entry") == 2
    assert all(len(p.read_bytes()) == 1280 * 4 + 32 for p in _entries(tmp_path))  # repaired


def test_unwritable_cache_warns_once_and_still_returns_features(images, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be created below a file")
    featurizer = PretrainedImageFeaturizer(cache=blocker / "cache", progress=False).fit(images)
    with pytest.warns(SktransferWarning, match="not writable") as record:
        features = featurizer.transform(images)
    assert len(record) == 1
    np.testing.assert_array_equal(
        features, PretrainedImageFeaturizer(progress=False).fit_transform(images)
    )


def test_joblib_memory_is_accepted_as_the_cache(images, tmp_path):
    PretrainedImageFeaturizer(cache=Memory(tmp_path, verbose=0), progress=False).fit_transform(
        images[:3]
    )
    assert len(_entries(tmp_path)) == 3
    PretrainedImageFeaturizer(cache=Memory(None), progress=False).fit_transform(images[:1])


@pytest.mark.slow
def test_two_processes_sharing_one_cache_leave_it_consistent(photo_files, tmp_path, feature_atol):
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        from sktransfer import PretrainedImageFeaturizer
        paths = {[str(p) for p in photo_files]!r} * 3
        f = PretrainedImageFeaturizer(cache={str(tmp_path)!r}, batch_size=2, progress=False)
        np.save(sys.argv[1], f.fit_transform(paths))
        """
    )
    outputs = [tmp_path / f"out{i}.npy" for i in range(2)]
    workers = [subprocess.Popen([sys.executable, "-c", script, str(o)]) for o in outputs]
    assert [w.wait(timeout=300) for w in workers] == [0, 0]
    reference = PretrainedImageFeaturizer(progress=False).fit_transform(photo_files)
    for output in outputs:
        np.testing.assert_allclose(np.load(output), np.tile(reference, (3, 1)), atol=feature_atol)
    assert len(_entries(tmp_path)) == len(photo_files)
    assert not list(tmp_path.rglob("*.tmp"))
    cached = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit_transform(photo_files)
    np.testing.assert_allclose(cached, reference, atol=feature_atol)


def test_a_read_only_cache_serves_its_entries_and_warns_once(images, tmp_path, monkeypatch):
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit(images)
    known = featurizer.transform(images[:2])
    folders = [tmp_path, *(p for p in tmp_path.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    if os.geteuid() == 0:  # root ignores permission bits: fail where a read-only mount would

        def read_only(src, dst):
            raise OSError(errno.EROFS, "Read-only file system", str(dst))

        monkeypatch.setattr(os, "replace", read_only)
    seen = _count_forwards(monkeypatch)
    try:
        with pytest.warns(SktransferWarning, match="not writable") as record:
            features = featurizer.transform(images)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert len(record) == 1
    assert sum(seen) == len(images) - 2  # the two stored features were read, not recomputed
    np.testing.assert_array_equal(features[:2], known)
    np.testing.assert_array_equal(
        features, PretrainedImageFeaturizer(progress=False).fit_transform(images)
    )
    assert len(_entries(tmp_path)) == 2 and not list(tmp_path.rglob("*.tmp"))


@pytest.mark.slow
def test_a_grid_search_on_two_processes_leaves_the_shared_cache_consistent(
    lfw, tmp_path, feature_atol, caplog
):
    images, labels = lfw
    index = np.r_[0:20, 100:120]
    X, y = images[index], labels[index]
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, batch_size=8, progress=False)
    search = GridSearchCV(
        make_pipeline(featurizer, LogisticRegression(max_iter=1000)),
        {"logisticregression__C": [0.1, 1.0]},
        cv=2,
        n_jobs=2,  # two loky processes featurize the same training folds at the same time
    ).fit(X, y)
    assert search.best_score_ > 0.9
    assert len(_entries(tmp_path)) == len(X) and not list(tmp_path.rglob("*.tmp"))
    reference = PretrainedImageFeaturizer(progress=False).fit_transform(X)
    with caplog.at_level(logging.WARNING, logger="sktransfer"):
        cached = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit_transform(X)
    assert "corrupt" not in caplog.text  # every entry passed its digest check
    np.testing.assert_allclose(cached, reference, atol=feature_atol)


@pytest.mark.timeout(60)
def test_a_fifo_or_a_huge_file_at_an_entry_is_recomputed_not_read(images, tmp_path, caplog):
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit(images)
    expected = featurizer.transform(images[:2])
    fifo, huge = _entries(tmp_path)
    fifo.unlink()
    os.mkfifo(fifo)  # a plain open() would wait for a writer forever
    with open(huge, "r+b") as entry:
        entry.truncate(2**40)  # a 1 TiB sparse file: never read whole
    with caplog.at_level(logging.WARNING, logger="sktransfer"):
        np.testing.assert_array_equal(featurizer.transform(images[:2]), expected)
    assert "not a regular file" in caplog.text and "at most 5152 are read" in caplog.text
    assert all(p.stat().st_size == 1280 * 4 + 32 for p in _entries(tmp_path))  # replaced
