import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sktransfer._inputs import as_sample_list, open_rgb


@pytest.fixture(scope="module")
def coffee_small(photos):
    return photos["coffee"][::4, ::4].copy()  # 100 x 150 real photo


def test_containers_become_sample_lists(coffee_small):
    paths = ["a.jpg", "b.jpg"]
    assert as_sample_list(paths) == paths
    assert as_sample_list(tuple(paths)) == paths
    assert as_sample_list(pd.Series(paths, index=[10, 11])) == paths
    assert as_sample_list(pd.DataFrame({"path": paths})) == paths
    assert as_sample_list(np.array(paths, dtype=object).reshape(-1, 1)) == paths
    batch = np.stack([coffee_small] * 3)
    assert len(as_sample_list(batch)) == 3 and as_sample_list(batch)[0].shape == (100, 150, 3)
    assert len(as_sample_list(batch[..., 0])) == 3  # NHW grayscale batch


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ("one.jpg", "wrap it in a list"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), "exactly one column"),
        (np.zeros((4, 5)), "ambiguous"),
        (np.array([["a", "b"]], dtype=object), r"\(n, 1\) column"),
    ],
)
def test_bad_containers_are_explained(X, match):
    with pytest.raises((TypeError, ValueError), match=match):
        as_sample_list(X)


def test_every_pixel_layout_decodes_to_the_same_rgb(coffee_small):
    rgb = coffee_small
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(np.asarray(open_rgb(rgb)), rgb)
    assert np.array_equal(np.asarray(open_rgb(rgb / 255.0)), rgb)
    assert np.array_equal(np.asarray(open_rgb(rgb.astype(np.uint16) * 257)), rgb)
    opaque = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    assert np.array_equal(np.asarray(open_rgb(opaque)), rgb)
    for layout in (gray, gray[..., None]):
        assert np.array_equal(np.asarray(open_rgb(layout)), np.dstack([gray] * 3))
    assert np.asarray(open_rgb(np.eye(4, dtype=bool)))[0, 0].tolist() == [255, 255, 255]


def test_encoded_bytes_paths_and_pil_agree(tmp_path, coffee_small):
    path = tmp_path / "coffee.png"
    Image.fromarray(coffee_small).save(path)
    expected = coffee_small
    assert np.array_equal(np.asarray(open_rgb(path)), expected)
    assert np.array_equal(np.asarray(open_rgb(str(path))), expected)
    assert np.array_equal(np.asarray(open_rgb(path.read_bytes())), expected)
    assert np.array_equal(np.asarray(open_rgb(Image.open(path))), expected)


def test_transparent_pixels_become_white():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    assert np.asarray(open_rgb(rgba)).min() == 255
    palette = Image.new("P", (4, 4), 0)
    palette.info["transparency"] = 0
    assert np.asarray(open_rgb(palette)).min() == 255


def test_draft_mode_decodes_large_jpegs_at_reduced_scale(tmp_path, photos):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.tile(photos["chelsea"], (3, 3, 1))).save(path)  # 1353 x 900
    assert open_rgb(path).size == (1353, 900)
    small = open_rgb(path, min_size=256)
    assert min(small.size) >= 256 and small.size[0] < 1353
