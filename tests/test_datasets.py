import numpy as np
import pytest

from sktransfer.datasets import fetch_mnist_test, fetch_sms_spam


def test_sms_spam_is_the_real_collection(sms):
    assert sms.shape == (5574, 2)
    assert sms["label"].value_counts().to_dict() == {"ham": 4827, "spam": 747}
    assert sms["text"][0].startswith("Go until jurong point")


def test_mnist_test_set_is_the_real_one(mnist):
    images, labels = mnist
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize("fetch", [fetch_sms_spam, fetch_mnist_test])
def test_missing_files_without_download_name_the_path(fetch, tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        fetch(tmp_path, download_if_missing=False)
