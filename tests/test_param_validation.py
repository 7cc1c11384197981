"""Public functions check their parameters with sklearn's ``validate_params``.

A wrong value raises sklearn's ``InvalidParameterError`` (a ValueError and a TypeError)
that names the parameter and what it accepts, before any work is done.
"""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import (
    LeakageSafeKFold,
    PretrainedImageFeaturizer,
    cv_leakage_report,
    find_duplicates,
    leakage_report,
    leakage_safe_train_test_split,
    load_backbone,
    make_server,
)

MODEL = make_pipeline(PretrainedImageFeaturizer(), LogisticRegression())
TEXTS = ["call 0800 1 now", "CALL 0800 2 NOW!", "hi", "lunch?"]


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: find_duplicates(TEXTS, kind="audio"), "kind"),
        (lambda: find_duplicates(TEXTS, similarity=1.5), "similarity"),
        (lambda: find_duplicates(TEXTS, similarity=0), "similarity"),
        (lambda: find_duplicates(TEXTS, mask_digits="yes"), "mask_digits"),
        (lambda: find_duplicates(TEXTS, n_jobs=1.5), "n_jobs"),
        (lambda: find_duplicates(TEXTS, method="cnn"), "method"),
        (lambda: find_duplicates(TEXTS, word_similarity=0), "word_similarity"),
        (lambda: find_duplicates(TEXTS, embedding_similarity=2), "embedding_similarity"),
        (lambda: find_duplicates(TEXTS, embedder="efficientnet"), "embedder"),
        (lambda: list(LeakageSafeKFold(2, method="cnn").split(TEXTS)), "method"),
        (
            lambda: list(LeakageSafeKFold(2, embedding_similarity=-2).split(TEXTS)),
            "embedding_similarity",
        ),
        (lambda: leakage_report(TEXTS, TEXTS, kind="table"), "kind"),
        (lambda: cv_leakage_report(TEXTS, cv="five"), "cv"),
        (lambda: cv_leakage_report(TEXTS, cv=2, similarity=-1), "similarity"),
        (lambda: leakage_safe_train_test_split(TEXTS, test_size=1.0), "test_size"),
        (lambda: leakage_safe_train_test_split(TEXTS, near_duplicates=None), "near_duplicates"),
        (lambda: load_backbone(50), "name"),
        (lambda: load_backbone("resnet18", weights=3), "weights"),
        (lambda: make_server(object()), "model"),
        (lambda: make_server(MODEL, port=70000), "port"),
        (lambda: make_server(MODEL, max_bytes=0), "max_bytes"),
        (lambda: make_server(MODEL, timeout=0), "timeout"),
    ],
)
def test_a_bad_parameter_is_named(call, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter"):
        call()
