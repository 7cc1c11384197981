import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from joblib import Memory
from PIL import Image

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
