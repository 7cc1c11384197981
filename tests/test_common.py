"""sklearn's estimator checks over every public estimator.

Every estimator here declares ``two_d_array=False`` because its input is images or texts,
not a numeric table; ``parametrize_with_checks`` then yields no checks at all, since its
generic checks feed random 2-D float arrays. So this module runs, by name, each of
sklearn's checks that needs no data, and image or text versions of the checks that need data.
"""

import pickle

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks

from sktransfer import PretrainedImageFeaturizer, TransformerTextEmbedder, Word2VecEmbedder
from sktransfer.finetune import (
    DomainAdversarialClassifier,
    FineTunedImageClassifier,
    FineTunedImageRegressor,
    FineTunedTextClassifier,
    FineTunedTransformerClassifier,
    FineTunedTransformerRegressor,
)

ESTIMATORS = [
    PretrainedImageFeaturizer(progress=False),
    Word2VecEmbedder(progress=False),
    Word2VecEmbedder(pooling="sif", normalize=True, progress=False),
    TransformerTextEmbedder(progress=False),
]
# Predictors take the API checks here; their data checks (fit/predict, string labels,
# pickling, determinism, GridSearchCV) live in tests/finetune.
PREDICTORS = [
    DomainAdversarialClassifier(progress=False),
    FineTunedImageClassifier(progress=False),
    FineTunedImageRegressor(progress=False),
    FineTunedTextClassifier(),
    FineTunedTransformerClassifier(progress=False),
    FineTunedTransformerRegressor(progress=False),
]

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
@pytest.mark.parametrize("estimator", ESTIMATORS + PREDICTORS, ids=_ids)
def test_sklearn_api_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.fixture(scope="module")
def images(photos):
    return np.stack([np.asarray(Image.fromarray(p).resize((64, 64))) for p in photos.values()])


@pytest.fixture(scope="module")
def texts(sms):
    return sms["text"].to_numpy()[:40].astype(str)


@pytest.fixture
def samples(estimator, request):
    """The kind of data the estimator takes, as an ndarray (images or texts)."""
    return request.getfixturevalue("texts" if _is_text(estimator) else "images")


def _is_text(estimator) -> bool:
    return isinstance(estimator, (Word2VecEmbedder, TransformerTextEmbedder))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_input_tags_are_declared_honestly(estimator):
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True
    numeric_table = np.random.default_rng(0).random((5, 3))
    with pytest.raises(
        ValueError, match="1-D collection of texts" if _is_text(estimator) else "ambiguous"
    ):
        clone(estimator).fit(numeric_table)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_fit_returns_self_and_leaves_params_alone(estimator, samples):
    est = clone(estimator)
    before = pickle.dumps(est.get_params())
    assert est.fit(samples) is est
    assert pickle.dumps(est.get_params()) == before
    assert not [k for k in vars(est) if k.endswith("_") and k in est.get_params()]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_unfitted_estimator_raises_not_fitted(estimator, samples):
    with pytest.raises(NotFittedError):
        clone(estimator).transform(samples)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_sample_order_and_subset_invariance(estimator, samples):
    est = clone(estimator).fit(samples)
    full = est.transform(samples)
    order = np.random.default_rng(0).permutation(len(samples))
    np.testing.assert_allclose(est.transform(samples[order]), full[order], atol=1e-5)
    np.testing.assert_allclose(est.transform(samples[:2]), full[:2], atol=1e-5)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_read_only_memmap_input(estimator, samples, tmp_path):
    np.save(tmp_path / "samples.npy", samples)
    readonly = np.load(tmp_path / "samples.npy", mmap_mode="r")
    est = clone(estimator).fit(readonly)
    np.testing.assert_allclose(est.transform(readonly), est.transform(samples), atol=1e-6)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_fitted_estimator_pickles_and_predicts_identically(estimator, samples):
    est = clone(estimator).fit(samples)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(samples), est.transform(samples))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_feature_names_and_pandas_output(estimator, samples):
    est = clone(estimator).set_output(transform="pandas").fit(samples)
    frame = est.transform(samples[:3])
    names = est.get_feature_names_out()
    assert list(frame.columns) == names.tolist() and len(names) == est.n_features_out_
