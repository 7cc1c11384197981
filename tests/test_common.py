"""sklearn's estimator checks over every public estimator.

Every estimator here declares ``two_d_array=False`` because its input is images (or text),
not a numeric table; ``parametrize_with_checks`` then yields no checks at all, since its
generic checks feed random 2-D float arrays. So this module runs, by name, each of
sklearn's checks that needs no data, and image versions of the checks that need data.
"""

import pickle

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks

from sktransfer import PretrainedImageFeaturizer

ESTIMATORS = [PretrainedImageFeaturizer(progress=False)]

API_CHECKS = [
    checks.check_estimator_cloneable,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
    checks.check_estimator_repr,
    checks.check_no_attributes_set_in_init,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_mixin_order,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
]


def _ids(value):
    return getattr(value, "__name__", None) or type(value).__name__


@pytest.mark.parametrize("check", API_CHECKS, ids=_ids)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_sklearn_api_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.fixture(scope="module")
def images(photos):
    return np.stack([np.asarray(Image.fromarray(p).resize((64, 64))) for p in photos.values()])


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_input_tags_are_declared_honestly(estimator):
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    with pytest.raises(ValueError, match="ambiguous"):
        clone(estimator).fit(np.random.default_rng(0).random((5, 3)))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_fit_returns_self_and_leaves_params_alone(estimator, images):
    est = clone(estimator)
    before = pickle.dumps(est.get_params())
    assert est.fit(images) is est
    assert pickle.dumps(est.get_params()) == before
    assert not [k for k in vars(est) if k.endswith("_") and k in est.get_params()]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_unfitted_estimator_raises_not_fitted(estimator, images):
    with pytest.raises(NotFittedError):
        clone(estimator).transform(images)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_sample_order_and_subset_invariance(estimator, images):
    est = clone(estimator).fit(images)
    full = est.transform(images)
    order = np.random.default_rng(0).permutation(len(images))
    np.testing.assert_allclose(est.transform(images[order]), full[order], atol=1e-5)
    np.testing.assert_allclose(est.transform(images[:2]), full[:2], atol=1e-5)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_read_only_memmap_input(estimator, images, tmp_path):
    np.save(tmp_path / "images.npy", images)
    readonly = np.load(tmp_path / "images.npy", mmap_mode="r")
    est = clone(estimator).fit(readonly)
    np.testing.assert_allclose(est.transform(readonly), est.transform(images), atol=1e-6)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_fitted_estimator_pickles_and_predicts_identically(estimator, images):
    est = clone(estimator).fit(images)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(images), est.transform(images))
