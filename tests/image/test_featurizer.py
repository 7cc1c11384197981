import pickle

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import PretrainedImageFeaturizer
from sktransfer.exceptions import ImageLoadError, SktransferWarning, UnknownBackboneError


def test_features_of_real_photos_are_shaped_finite_and_distinct(default_featurizer, small_photos):
    features = default_featurizer.transform(small_photos)
    assert features.shape == (len(small_photos), 1280) and features.dtype == np.float32
    assert np.isfinite(features).all()
    assert np.linalg.matrix_rank(features) == len(small_photos)
    assert (features >= 0).mean() > 0.95  # pooled ReLU6 activations are non-negative


def test_every_input_kind_gives_the_same_features(default_featurizer, small_photos, tmp_path):
    pixels = small_photos[0]
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    kinds = [
        [pixels],
        [pixels / 255.0],
        [Image.fromarray(pixels)],
        [path],
        [str(path)],
        [path.read_bytes()],
        pd.Series([str(path)]),
        pd.DataFrame({"image": [str(path)]}),
        np.array([[str(path)]], dtype=object),
        pixels[None],
    ]
    reference = default_featurizer.transform([pixels])
    for X in kinds:
        np.testing.assert_allclose(default_featurizer.transform(X), reference, atol=1e-5)


def test_jpeg_files_decode_in_draft_mode_with_close_features(default_featurizer, photo_files):
    from_files = default_featurizer.transform(photo_files)
    from_pixels = default_featurizer.transform([np.asarray(Image.open(p)) for p in photo_files])
    cosine = (from_files * from_pixels).sum(1) / (
        np.linalg.norm(from_files, axis=1) * np.linalg.norm(from_pixels, axis=1)
    )
    assert cosine.min() > 0.97


def test_layer_pooling_and_image_size_options(small_photos):
    def width(**params):
        return PretrainedImageFeaturizer(progress=False, **params).fit(small_photos).n_features_out_

    assert width(layer="blocks3") == 80 and width(layer=4) == 80
    assert width(pooling="avgmax") == 2560
    last = PretrainedImageFeaturizer(layer=-1, progress=False).fit_transform(small_photos[:2])
    default = PretrainedImageFeaturizer(progress=False).fit_transform(small_photos[:2])
    np.testing.assert_array_equal(last, default)
    avg, mx = (
        PretrainedImageFeaturizer(pooling=p, progress=False).fit_transform(small_photos[:2])
        for p in ("avg", "max")
    )
    assert (mx >= avg - 1e-6).all() and not np.allclose(mx, avg)
    small = PretrainedImageFeaturizer(image_size=160, progress=False).fit(small_photos)
    assert small.preprocessing_.input_size == 160 and small.preprocessing_.resize_size == 183
    with pytest.raises(UnknownBackboneError, match="Did you mean 'blocks3'"):
        width(layer="block3")
    with pytest.raises(ValueError, match="needs a vision transformer"):
        width(pooling="token")


def test_invalid_parameters_are_rejected_by_sklearn_validation():
    with pytest.raises(ValueError, match="pooling"):
        PretrainedImageFeaturizer(pooling="mean").fit([])
    with pytest.raises(ValueError, match="batch_size"):
        PretrainedImageFeaturizer(batch_size=0).fit([])


def test_on_error_raise_names_the_sample_index_and_path(default_featurizer, small_photos, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    with pytest.raises(ImageLoadError, match=r"sample 1 \(path '.*broken.jpg'\)") as info:
        default_featurizer.transform([small_photos[0], broken])
    assert info.value.failures[0][0] == 1


def test_on_error_warn_gives_nan_rows_and_one_warning_listing_all(small_photos, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"")
    missing = tmp_path / "missing.png"
    featurizer = PretrainedImageFeaturizer(on_error="warn", progress=False).fit([])
    with pytest.warns(SktransferWarning, match="2 of 4 images") as record:
        features = featurizer.transform([small_photos[0], broken, small_photos[1], missing])
    assert len(record) == 1 and "broken.jpg" in str(record[0].message)
    assert "missing.png" in str(record[0].message)
    assert np.isnan(features[[1, 3]]).all() and np.isfinite(features[[0, 2]]).all()
    np.testing.assert_allclose(features[[0, 2]], featurizer.transform(small_photos[:2]), atol=1e-5)


def test_pickles_small_clones_and_round_trips(default_featurizer, small_photos):
    blob = pickle.dumps(default_featurizer)
    assert len(blob) < 4096
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(
        restored.transform(small_photos[:2]), default_featurizer.transform(small_photos[:2])
    )
    twin = clone(default_featurizer).set_params(pooling="max")
    assert twin.get_params()["pooling"] == "max" and not hasattr(twin, "n_features_out_")


def test_feature_names_and_pandas_output(small_photos):
    featurizer = PretrainedImageFeaturizer(progress=False).set_output(transform="pandas")
    frame = pd.DataFrame({"image": list(small_photos[:3])}, index=[7, 8, 9])
    out = featurizer.fit_transform(frame)
    assert isinstance(out, pd.DataFrame) and list(out.index) == [7, 8, 9]
    assert list(out.columns[:2]) == ["pretrainedimagefeaturizer0", "pretrainedimagefeaturizer1"]
    assert len(featurizer.get_feature_names_out()) == 1280


def test_image_path_column_in_a_column_transformer(photo_files):
    frame = pd.DataFrame(
        {
            "path": [str(p) for p in photo_files],
            "size_kb": [p.stat().st_size / 1e3 for p in photo_files],
        }
    )
    columns = ColumnTransformer(
        [
            ("image", PretrainedImageFeaturizer(progress=False), "path"),
            ("numeric", StandardScaler(), ["size_kb"]),
        ]
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame)
    assert out.shape == (len(photo_files), 1281)
    assert (
        out.columns[0] == "image__pretrainedimagefeaturizer0"
        and out.columns[-1] == "numeric__size_kb"
    )


def test_grid_search_with_cache_featurizes_each_image_once(lfw, tmp_path, forward_batches):
    images, labels = lfw[0][::5], lfw[1][::5]  # 40 real images, both classes
    pipe = make_pipeline(
        PretrainedImageFeaturizer(cache=tmp_path, progress=False), LogisticRegression(max_iter=500)
    )
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=3).fit(images, labels)
    # 2 params x 3 folds + refit, each image computed once
    assert sum(forward_batches) == len(images)
    assert search.best_score_ > 0.8


@pytest.mark.slow
def test_lfw_faces_vs_non_faces_cross_validated_accuracy(lfw, tmp_path):
    images, labels = lfw
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, progress=False)  # 1 pass, not 5
    pipe = make_pipeline(featurizer, LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, images, labels, cv=cv)
    assert scores.mean() >= 0.97, scores


def test_unpooled_features_are_the_flattened_map_whose_mean_is_the_pooled_one(
    small_photos, feature_atol
):
    unpooled = PretrainedImageFeaturizer(layer="blocks6", pooling="none", progress=False)
    unpooled.fit(small_photos)
    assert unpooled.output_shape_ == (320, 7, 7) and unpooled.n_features_out_ == 320 * 49
    maps = unpooled.transform(small_photos[:2]).reshape(2, 320, 7, 7)
    pooled = PretrainedImageFeaturizer(layer="blocks6", progress=False).fit_transform(
        small_photos[:2]
    )
    np.testing.assert_allclose(maps.mean((2, 3)), pooled, atol=feature_atol)
