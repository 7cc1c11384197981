"""Domain-adversarial fine-tuning on a real shift: MNIST digits against the same kind of
digits blended onto real photo patches (the MNIST-M construction)."""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sktransfer import SktransferWarning
from sktransfer.datasets import blend_onto_photos
from sktransfer.finetune import DomainAdversarialClassifier, FineTunedImageClassifier
from sktransfer.finetune._modules import reverse_gradient
from sktransfer.model_selection import LeakageSafeKFold, adaptation_scores

N = 150  # digits per domain


@pytest.fixture(scope="module")
def shift(mnist, tmp_path_factory):
    """Source digits (labelled) and other digits blended onto photos (the target)."""
    images, labels = mnist
    source, target = list(images[:N]), list(blend_onto_photos(images[N : 2 * N], random_state=0))
    return source, labels[:N].astype(np.int64), target, labels[N : 2 * N].astype(np.int64)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("dann-cache")


def _model(cache, **params):
    options = {"max_epochs": 4, "random_state": 0, "progress": False, "cache": cache}
    return DomainAdversarialClassifier(**{**options, **params})


def _rows(shift):
    source, y_source, target, _ = shift
    return source + target, np.concatenate([y_source, np.full(len(target), -1)])


@pytest.fixture(scope="module")
def adapted(shift, cache):
    return _model(cache).fit(*_rows(shift))


def test_the_reversal_follows_the_papers_schedule_and_the_domain_loss_is_recorded(adapted):
    history = adapted.history_
    steps = 4 * math.ceil(2 * N / 32)
    for epoch, coefficient in enumerate(history[:, "reversal"], 1):
        progress = (epoch * steps // 4 - 1) / steps  # the last batch of the epoch
        assert coefficient == pytest.approx(2 / (1 + math.exp(-10 * progress)) - 1)
    assert history[-1, "reversal"] > 0.99
    assert all(loss > 0 for loss in history[:, "domain_loss"])
    assert adapted.domain_accuracy_ == history[-1, "domain_acc"]
    assert 0.0 <= adapted.domain_accuracy_ <= 1.0
    assert adapted.domains_.tolist() == [0, 1] and adapted.classes_.tolist() == list(range(10))


def test_the_reversal_layer_negates_and_scales_the_gradient_alone():
    x = torch.randn(4, 3, requires_grad=True)
    (reverse_gradient(x, 0.7) * torch.arange(3.0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -0.7 * np.tile(np.arange(3.0), (4, 1)))
    np.testing.assert_array_equal(reverse_gradient(x, 0.7).detach().numpy(), x.detach().numpy())


def test_the_adversary_pulls_the_domains_together_in_feature_space(shift, cache, adapted):
    X, y = _rows(shift)
    ignored = _model(cache, adaptation_weight=0.0).fit(X, y)  # same net, domain loss off
    domains = np.repeat([0, 1], N)

    def separability(model):  # how well the two main axes of the features tell the domains
        probe = make_pipeline(PCA(2), LogisticRegression(max_iter=2000))
        return cross_val_score(probe, model.embed(X), domains, cv=3).mean()

    # measured: 0.80 adapted against 0.92 without the adversary (150 digits a side)
    assert separability(adapted) < separability(ignored) - 0.05


def test_without_unlabelled_rows_it_warns_and_trains_as_the_plain_fine_tuner(shift, cache):
    source, y_source, target, _ = shift
    with pytest.warns(SktransferWarning, match="no -1"):
        model = _model(cache).fit(source, y_source)
    assert model.domain_accuracy_ is None and "domain_loss" not in model.history_[-1]
    plain = FineTunedImageClassifier(
        unfreeze=2, lr=3e-4, max_epochs=4, random_state=0, progress=False, cache=cache
    ).fit(source, y_source)
    np.testing.assert_allclose(model.predict_proba(target), plain.predict_proba(target), atol=1e-6)
    with pytest.raises(ValueError, match="has no domain classifier to adapt with"):
        model.partial_fit(*_rows(shift))  # unlabelled rows need the domain head of a fit


def test_interleaving_the_target_rows_does_not_change_the_model(shift, cache, adapted):
    X, y = _rows(shift)
    labelled, unlabelled = np.flatnonzero(y >= 0), np.flatnonzero(y < 0)
    # the labelled rows at random places, each side in its own order
    slots = np.sort(np.random.default_rng(1).choice(len(X), len(labelled), replace=False))
    mixed = np.empty(len(X), dtype=np.int64)
    mixed[slots], mixed[np.setdiff1d(np.arange(len(X)), slots)] = labelled, unlabelled
    refit = _model(cache).fit([X[i] for i in mixed], y[mixed])
    _, _, target, _ = shift
    np.testing.assert_allclose(refit.predict_proba(target), adapted.predict_proba(target))


def test_bad_targets_get_clear_errors(shift, cache):
    source, y_source, target, _ = shift
    with pytest.raises(ValueError, match="All 150 labels are -1"):
        _model(cache).fit(target, np.full(N, -1))
    with pytest.raises(ValueError, match="nothing below the label head trains"):
        _model(cache, unfreeze=0).fit(*_rows(shift))
    with pytest.raises(ValueError, match="mixup"):
        _model(cache, mixup=0.2).fit(*_rows(shift))
    with pytest.raises(ValueError, match="cutmix"):
        _model(cache, cutmix=1.0).fit(*_rows(shift))
    with pytest.raises(ValueError, match="one label per sample"):
        _model(cache).fit(source, [[1, 2]] * N)
    with pytest.raises(ValueError, match="X has 300 samples but y has 150"):
        _model(cache).fit(source + target, y_source)
    assert not hasattr(_model(cache), "domain_accuracy_")  # unfitted


def test_string_labels_several_domains_and_partial_fit(shift, cache):
    source, y_source, target, y_target = shift
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    y = np.concatenate([names[y_source].astype(object), np.full(N, -1, dtype=object)])
    model = _model(cache, max_epochs=2).fit(source + target, y)
    assert set(model.classes_) == set(names) and set(model.predict(target)) <= set(names)
    # three domains: plain and blended digits labelled, another photo blend unlabelled
    third = list(blend_onto_photos(np.asarray(source)[:50], random_state=1))
    X = source + target + third
    labels = np.concatenate([y_source, y_target, np.full(50, -1)])
    domain = np.repeat(["plain", "photo", "other photo"], [N, N, 50])
    several = _model(cache, max_epochs=2).fit(X, labels, domain=domain)
    assert several.domains_.tolist() == ["other photo", "photo", "plain"]
    assert several.net_.module_.domain_head[-1].out_features == 3
    with pytest.raises(ValueError, match="partial_fit takes the -1 convention"):
        several.partial_fit(X, labels)
    growing = _model(cache).partial_fit(*_rows(shift))
    epochs = len(growing.history_)
    growing.partial_fit(*_rows(shift))
    assert len(growing.history_) == epochs + 1 and "domain_acc" in growing.history_[-1]


def test_clones_pickles_and_searches_over_the_adaptation_weight(shift, cache, adapted):
    _, _, target, y_target = shift
    copy = pickle.loads(pickle.dumps(adapted))
    np.testing.assert_allclose(copy.predict_proba(target), adapted.predict_proba(target), atol=1e-6)
    assert clone(adapted).get_params()["adaptation_weight"] == 1.0
    X, y = _rows(shift)
    search = GridSearchCV(
        _model(cache, max_epochs=2),
        {"adaptation_weight": [0.0, 1.0]},
        cv=LeakageSafeKFold(2, near_duplicates=False),
        error_score="raise",
    )
    # the folds score the labelled rows (unlabelled ones score as wrong; the search is
    # only to show it runs: adaptation_scores is the honest evaluation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    assert set(search.cv_results_["param_adaptation_weight"]) == {0.0, 1.0}


def test_adaptation_scores_split_the_target_and_score_the_source_only_baseline(shift, cache):
    source, y_source, target, y_target = shift
    scores = adaptation_scores(
        _model(cache, max_epochs=2), source, y_source, target, y_target, random_state=0
    )
    assert list(scores.index) == ["adapted", "source only"]
    assert scores.attrs == {"n_source": N, "n_seen": 75, "n_unseen": 75}
    assert scores.loc["adapted"].notna().all() and np.isnan(
        scores.loc["source only", "domain_accuracy"]
    )
    assert (scores[["transductive", "inductive"]].to_numpy() > 0.1).all()  # above chance
    odd = y_target.copy()
    odd[:2] = 42  # a class the source never shows
    with pytest.warns(SktransferWarning, match=r"Target labels \[42\]"):
        adaptation_scores(
            _model(cache, max_epochs=1),
            source,
            y_source,
            target,
            odd,
            baseline=False,
            random_state=0,
        )
