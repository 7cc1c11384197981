"""sklearn's own ensembles over several backbones: soft voting and stacking, one cache."""

import numpy as np
import pytest
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import FineTunedImageClassifier, LeakageSafeKFold, PretrainedImageFeaturizer

BACKBONES = ("efficientnet_lite0", "efficientnet_lite1")


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    return list(images), np.where(labels == 1, "face", "other")


def _members(cache):
    probes = [
        (
            name,
            make_pipeline(
                PretrainedImageFeaturizer(name, cache=cache, progress=False),
                LogisticRegression(C=0.1, max_iter=2000),
            ),
        )
        for name in BACKBONES
    ]
    # a probe's features and the fine-tuner's frozen Lite0 trunk are the same cache entries
    tuned = FineTunedImageClassifier(max_epochs=3, cache=cache, random_state=0, progress=False)
    return [*probes, ("lite0_tuned", tuned)]


def test_soft_voting_and_stacking_across_backbones_share_one_cache(
    faces, tmp_path, forward_batches
):
    X, y = faces
    vote = VotingClassifier(_members(tmp_path), voting="soft").fit(X[::2], y[::2])
    members = np.stack([m.predict_proba(X[1::2]) for m in vote.estimators_])
    np.testing.assert_allclose(vote.predict_proba(X[1::2]), members.mean(0), atol=1e-6)
    assert list(vote.classes_) == ["face", "other"]
    assert vote.score(X[1::2], y[1::2]) >= 0.95
    computed = len(forward_batches)
    assert sum(forward_batches) == 2 * len(X)  # Lite0 and Lite1, each image once
    stack = StackingClassifier(
        _members(tmp_path),
        cv=LeakageSafeKFold(3, shuffle=True, random_state=0, method="hash"),
    ).fit(X[::2], y[::2])
    # every backbone's features of every image, in every fold, came from the one cache
    assert len(forward_batches) == computed
    assert stack.final_estimator_.coef_.shape == (1, 3)
    assert stack.score(X[1::2], y[1::2]) >= 0.95
