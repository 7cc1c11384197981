"""Test-time augmentation: views of real photos, averaged, each cached apart."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from sklearn.base import clone
from torchvision.transforms import v2

from sktransfer import PretrainedImageFeaturizer, SktransferWarning
from sktransfer._inputs import content_digest
from sktransfer.backbones import Preprocessing


def test_the_crops_are_torchvisions_five_crop_after_the_resize(photos):
    """A corner anchor crops the corner of the resized image, as Resize -> FiveCrop does."""
    image = Image.fromarray(photos["chelsea"])  # 451 x 300: not square
    settings = Preprocessing(224, 256, "bilinear", (0.0,) * 3, (1 / 255,) * 3)
    reference = v2.Compose([v2.PILToTensor(), v2.Resize(256, antialias=True), v2.FiveCrop(224)])
    crops = reference(image)  # top-left, top-right, bottom-left, bottom-right, center
    anchors = [(0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5)]
    for crop, anchor in zip(crops, anchors, strict=True):
        ours = settings.transform(anchor=anchor)(image)
        # one resampling of the crop box against a resize then a crop: a few grey levels
        assert torch.mean(torch.abs(ours - crop.float())) < 3.0
    left = settings.transform(anchor=(0, 0))(image)
    assert torch.mean(torch.abs(left - crops[1].float())) > 10  # the corners do differ


def test_flip_is_the_mean_of_the_plain_and_the_mirrored_features(small_photos):
    plain = PretrainedImageFeaturizer(progress=False).fit([]).transform(small_photos)
    mirrored = PretrainedImageFeaturizer(tta=["hflip"], progress=False).fit([])
    flipped = mirrored.transform(small_photos)
    mirror_images = [np.ascontiguousarray(p[:, ::-1]) for p in small_photos]
    # the mirrored view is the plain view of the mirrored photo
    np.testing.assert_allclose(
        flipped,
        PretrainedImageFeaturizer(progress=False).fit([]).transform(mirror_images),
        atol=1e-5,
    )
    both = PretrainedImageFeaturizer(tta="flip", progress=False).fit([])
    np.testing.assert_allclose(both.transform(small_photos), (plain + flipped) / 2, atol=1e-5)
    assert np.abs(flipped - plain).max() > 0.1  # ImageNet features are not mirror-invariant


def test_each_view_is_cached_apart_and_the_plain_view_shares_the_plain_entries(
    small_photos, tmp_path, forward_batches
):
    n = len(small_photos)
    plain = PretrainedImageFeaturizer(cache=tmp_path, progress=False).fit([])
    expected = plain.transform(small_photos)
    assert forward_batches == [n]
    ten = PretrainedImageFeaturizer(cache=tmp_path, tta="ten_crop", progress=False).fit([])
    first = ten.transform(small_photos)
    assert forward_batches[1:] == [n] * 9  # the plain view came from the cache
    forward_batches.clear()
    np.testing.assert_array_equal(ten.transform(small_photos), first)
    assert forward_batches == []
    single = PretrainedImageFeaturizer(cache=tmp_path, tta=["original"], progress=False)
    np.testing.assert_array_equal(single.fit([]).transform(small_photos), expected)
    views = [
        PretrainedImageFeaturizer(cache=tmp_path, tta=[name], progress=False)
        .fit([])
        .transform(small_photos)
        for name in ("top_left", "bottom_right", "hflip_top_left")
    ]
    assert forward_batches == []  # each read its own entries, which all differ
    assert min(np.abs(a - b).max() for i, a in enumerate(views) for b in views[i + 1 :]) > 0.05


def test_views_come_unaveraged_from_transform_views_each_image_hashed_once(
    small_photos, tmp_path, monkeypatch
):
    import sktransfer.image._featurizer as featurizer_module

    hashed = []

    def counting(sample):
        hashed.append(1)
        return content_digest(sample)

    monkeypatch.setattr(featurizer_module, "content_digest", counting)
    five = PretrainedImageFeaturizer(cache=tmp_path, tta="five_crop", progress=False).fit([])
    views = five.transform_views(small_photos)
    assert views.shape == (5, len(small_photos), five.n_features_out_)
    assert len(hashed) == len(small_photos)  # once per image, not once per view
    np.testing.assert_allclose(five.transform(small_photos), views.mean(axis=0), atol=1e-5)
    assert len(hashed) == 2 * len(small_photos)
    center = PretrainedImageFeaturizer(progress=False).fit([]).transform(small_photos)
    np.testing.assert_allclose(views[0], center, atol=1e-5)  # "original" comes first
    assert np.abs(views[1] - views[0]).max() > 0.1  # a corner crop sees another picture


def test_a_callable_view_is_applied_to_the_pil_image_and_cached_under_its_hash(
    small_photos, tmp_path, forward_batches
):
    mirror = PretrainedImageFeaturizer(cache=tmp_path, tta=[ImageOps.mirror], progress=False)
    named = PretrainedImageFeaturizer(cache=tmp_path, tta=["hflip"], progress=False)
    np.testing.assert_allclose(
        mirror.fit([]).transform(small_photos), named.fit([]).transform(small_photos), atol=1e-5
    )
    assert len(forward_batches) == 2  # a callable is not mistaken for a named view
    forward_batches.clear()
    mirror.transform(small_photos)
    assert forward_batches == []


def test_unknown_views_and_unhashable_callables_are_refused_at_fit(small_photos):
    with pytest.raises(ValueError, match="tta"):
        PretrainedImageFeaturizer(tta="rotate").fit([])
    with pytest.raises(ValueError, match=r"tta\[1\]='sideways'.*hflip"):
        PretrainedImageFeaturizer(tta=["original", "sideways"]).fit([])
    with pytest.raises(ValueError, match="non-empty"):
        PretrainedImageFeaturizer(tta=[]).fit([])
    with pytest.raises(TypeError, match=r"tta\[0\]=3 is neither"):
        PretrainedImageFeaturizer(tta=[3]).fit([])
    with pytest.raises(TypeError, match=r"tta\[0\].*picklable"):
        PretrainedImageFeaturizer(tta=[lambda image: image]).fit([])


def test_a_failed_sample_is_reported_once_across_views(small_photos, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"")
    featurizer = PretrainedImageFeaturizer(tta="five_crop", on_error="warn", progress=False)
    with pytest.warns(SktransferWarning, match="1 of 2 images") as record:
        features = featurizer.fit([]).transform([small_photos[0], broken])
    assert len(record) == 1 and str(record[0].message).count("broken.jpg") == 1
    assert np.isnan(features[1]).all() and np.isfinite(features[0]).all()


def test_tta_clones_pickles_and_searches_like_any_parameter(small_photos):
    featurizer = PretrainedImageFeaturizer(tta="flip", progress=False).fit([])
    assert clone(featurizer).get_params()["tta"] == "flip"
    restored = pickle.loads(pickle.dumps(featurizer))
    np.testing.assert_array_equal(
        restored.transform(small_photos[:2]), featurizer.transform(small_photos[:2])
    )
