"""GPU out of memory: the featurizer halves the batch and retries, keeping every row.

The first test fills a real GPU (it runs where one exists; CI has none). The second
raises the same ``torch.cuda.OutOfMemoryError`` from the network on the CPU for batches
above a size, so the halving runs in every CI run.
"""

import logging

import numpy as np
import pytest
import torch

from sktransfer import PretrainedImageFeaturizer


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_out_of_memory_halves_the_batch_and_keeps_every_row(
    small_photos, caplog, feature_atol
):
    images = [small_photos[i % len(small_photos)] for i in range(512)]
    reference = PretrainedImageFeaturizer(batch_size=16, progress=False).fit_transform(images)
    torch.cuda.empty_cache()
    # ~0.6 GB: the 512-image input (0.3 GB) fits, its first activations (0.8 GB) do not.
    fraction = 0.6e9 / torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(fraction)
    try:
        with caplog.at_level(logging.WARNING, logger="sktransfer"):
            features = PretrainedImageFeaturizer(batch_size=512, progress=False).fit_transform(
                images
            )
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    assert "out of memory at batch size 512" in caplog.text
    np.testing.assert_allclose(features, reference, atol=feature_atol)


def test_out_of_memory_splits_batches_until_they_fit(small_photos, caplog, monkeypatch):
    images = [small_photos[i % len(small_photos)] for i in range(10)]
    reference = PretrainedImageFeaturizer(batch_size=10, progress=False).fit_transform(images)
    featurizer = PretrainedImageFeaturizer(batch_size=10, progress=False).fit([])
    extractor = featurizer._get_extractor()
    sizes = []

    def forward_that_fits_three(x):
        sizes.append(len(x))
        if len(x) > 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return extractor(x)

    monkeypatch.setattr(featurizer, "_extractor", forward_that_fits_three)
    with caplog.at_level(logging.WARNING, logger="sktransfer"):
        features = featurizer.transform(images)
    np.testing.assert_allclose(features, reference, atol=1e-5)
    assert sizes == [10, 5, 2, 3, 5, 2, 3]  # 10 -> 5 + 5 -> (2 + 3) + (2 + 3)
    assert caplog.text.count("out of memory at batch size") == 3


def test_out_of_memory_on_a_single_image_is_raised(small_photos, monkeypatch):
    featurizer = PretrainedImageFeaturizer(batch_size=2, progress=False).fit([])

    def never_fits(x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(featurizer, "_extractor", never_fits)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        featurizer.transform(small_photos[:2])
