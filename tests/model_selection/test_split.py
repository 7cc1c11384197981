import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sktransfer.model_selection import (
    LeakageSafeKFold,
    cv_leakage_report,
    find_duplicates,
    leakage_report,
    leakage_safe_train_test_split,
)


@pytest.fixture(scope="module")
def sms_sample(sms):
    """2,000 real messages with their real duplicates (both classes)."""
    return sms["text"].to_numpy(object)[:2000], sms["label"].to_numpy(object)[:2000]


def test_folds_cover_every_sample_once_and_copies_never_straddle(sms_sample):
    texts, labels = sms_sample
    groups = find_duplicates(texts)
    tests = []
    for train, test in LeakageSafeKFold(5).split(texts, labels):
        assert not set(groups[train]) & set(groups[test])
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(texts)
        tests.append(test)
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(len(texts)))


def test_stratification_keeps_the_spam_rate_in_every_fold(sms_sample):
    texts, labels = sms_sample
    overall = (labels == "spam").mean()
    for _, test in LeakageSafeKFold(5, shuffle=True, random_state=0).split(texts, labels):
        assert abs((labels[test] == "spam").mean() - overall) < 0.02


def test_user_groups_are_kept_together_too(sms_sample):
    texts, labels = sms_sample
    users = np.arange(len(texts)) // 7  # say each user sent 7 consecutive messages
    duplicates = find_duplicates(texts)
    for train, test in LeakageSafeKFold(4).split(texts, labels, groups=users):
        assert not set(users[train]) & set(users[test])
        assert not set(duplicates[train]) & set(duplicates[test])


def test_groups_found_once_split_as_split_does(sms_sample):
    texts, labels = sms_sample
    cv = LeakageSafeKFold(5, shuffle=True, random_state=0)
    groups = cv.duplicate_groups(texts)
    np.testing.assert_array_equal(groups, find_duplicates(texts))
    for (train, test), (train2, test2) in zip(
        cv.split(texts, labels), cv.split_groups(groups, labels), strict=True
    ):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        next(LeakageSafeKFold(1).split_groups(groups))


def test_dataframe_columns_name_what_is_compared(sms_sample, lfw):
    texts, labels = sms_sample
    frame = pd.DataFrame(
        {
            "text": texts[:400],
            "image": [lfw[0][i % 200] for i in range(400)],  # row i and i + 200: one image
            "length": [len(t) for t in texts[:400]],
        }
    )
    by_text = find_duplicates(frame["text"])
    # 25-px gray faces all look alike to a pretrained CNN: the perceptual hash compares them
    by_image = find_duplicates(frame["image"], method="hash")
    cv = LeakageSafeKFold(4, column=["text", "image"], method="hash")
    for train, test in cv.split(frame, labels[:400]):
        assert not set(by_text[train]) & set(by_text[test])
        assert not set(by_image[train]) & set(by_image[test])
    one = LeakageSafeKFold(4, column="text").split(frame, labels[:400])
    alone = LeakageSafeKFold(4).split(frame["text"], labels[:400])
    for (_, test), (_, test_alone) in zip(one, alone, strict=True):
        assert np.array_equal(test, test_alone)
    with pytest.raises(ValueError, match="pass column="):
        next(LeakageSafeKFold(4).split(frame, labels[:400]))
    with pytest.raises(KeyError, match="'path' is not in X"):
        next(LeakageSafeKFold(4, column="path").split(frame, labels[:400]))
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        next(LeakageSafeKFold(4, column="text").split(texts, labels))
    train, test = leakage_safe_train_test_split(frame, column=1, method="hash", random_state=0)
    assert not {i % 200 for i in train.index} & {i % 200 for i in test.index}


def test_plain_kfold_leaks_copies_and_leakage_safe_kfold_does_not(sms_sample):
    texts, labels = sms_sample
    plain = cv_leakage_report(texts, KFold(5, shuffle=True, random_state=0), labels)
    assert plain["exact"].sum() > 50 and plain["near"].sum() > 5
    safe = cv_leakage_report(texts, LeakageSafeKFold(5), labels)
    assert safe["leaked"].sum() == 0
    assert safe["n_test"].sum() == len(texts)


def test_exact_only_mode_still_lets_near_copies_straddle(sms_sample):
    texts, labels = sms_sample
    report = cv_leakage_report(texts, LeakageSafeKFold(5, near_duplicates=False), labels)
    assert report["exact"].sum() == 0 and report["near"].sum() > 0


def test_digit_masking_is_forwarded_to_the_splits(sms_sample):
    # Spam made from one template with other phone numbers: masked digits keep them together.
    texts, labels = sms_sample
    for mask_digits in (True, False):
        cv = LeakageSafeKFold(5, mask_digits=mask_digits)
        report = cv_leakage_report(texts, cv, labels, mask_digits=True)
        assert (report["near"].sum() == 0) == mask_digits
    X_train, X_test = leakage_safe_train_test_split(texts, random_state=0, mask_digits=False)
    assert not leakage_report(X_train, X_test, mask_digits=True).empty
    X_train, X_test = leakage_safe_train_test_split(texts, random_state=0)
    assert leakage_report(X_train, X_test, mask_digits=True).empty


def test_drops_into_cross_val_score_and_grid_search(sms_sample):
    texts, labels = sms_sample
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    scores = cross_val_score(model, texts, labels, cv=LeakageSafeKFold(3))
    assert scores.shape == (3,) and scores.min() > 0.9
    search = GridSearchCV(
        model, {"logisticregression__C": [1.0, 10.0]}, cv=LeakageSafeKFold(3)
    ).fit(texts, labels)
    assert search.best_score_ > 0.9 and len(search.cv_results_["split2_test_score"]) == 2


def test_regression_targets_are_split_by_groups_without_stratification(sms_sample):
    texts, _ = sms_sample
    target = np.linspace(0, 1, len(texts))
    folds = list(LeakageSafeKFold(3).split(texts, target))
    assert len(folds) == 3


def test_splitter_parameters_are_checked_and_shown():
    cv = LeakageSafeKFold(3, shuffle=True, random_state=0)
    assert "LeakageSafeKFold(" in repr(cv) and "n_splits=3" in repr(cv)
    assert cv.get_n_splits() == 3
    with pytest.raises(ValueError, match="n_splits"):
        next(LeakageSafeKFold(1).split(["a", "b"]))


def test_train_test_split_keeps_copies_on_one_side(sms_sample):
    texts, labels = sms_sample
    X_train, X_test, y_train, y_test = leakage_safe_train_test_split(
        texts, labels, test_size=0.25, random_state=0, stratify=labels
    )
    assert len(X_train) + len(X_test) == len(texts)
    assert 0.2 < len(X_test) / len(texts) < 0.3
    assert leakage_report(X_train, X_test).empty
    assert abs((y_test == "spam").mean() - (labels == "spam").mean()) < 0.02
    X_train, X_test = leakage_safe_train_test_split(texts, test_size=0.3, random_state=0)
    assert leakage_report(X_train, X_test).empty


def test_report_finds_every_message_that_repeats_an_earlier_one(sms):
    report = leakage_report(sms["text"])
    repeats = np.flatnonzero(sms["text"].duplicated().to_numpy())
    assert len(repeats) == 403  # the dataset's own count of exact repeats
    exact = report.loc[report["kind"] == "exact", "index"]
    assert set(repeats) <= set(exact)
    first = report.set_index("index").loc[repeats[0]]
    assert sms["text"][first["match_index"]] == sms["text"][repeats[0]]
    assert first["match_index"] < repeats[0]
    # near templates: the same prize message with another phone number
    near = report[report["kind"] == "near"]
    assert len(near) > 50 and (near["method"] == "hash").all()
    assert near["similarity"].between(0.75, 1).all()  # 5-gram Jaccard >= 0.8 or word edits
    assert report.attrs["summary"].startswith(f"{len(report)} of 5574 samples")


def test_report_between_train_and_test_names_the_closest_copy(photo_files, tmp_path):
    from PIL import Image

    small = tmp_path / "small.png"
    Image.open(photo_files[0]).resize((128, 96)).save(small)
    report = leakage_report([str(p) for p in photo_files[:3]], [str(small), str(photo_files[4])])
    assert report[["index", "match_index", "kind"]].to_dict("records") == [
        {"index": 0, "match_index": 0, "kind": "near"}
    ]
    assert report["match"][0] == str(photo_files[0]) and report["sample"][0] == str(small)
    assert report["similarity"][0] >= 0.88
