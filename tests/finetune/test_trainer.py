"""The trainer every fine-tuner shares: freezing depth, schedules, partial_fit, failures."""

import io

import numpy as np
import pytest
import torch
from PIL import Image
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback
from torch import nn

from sktransfer import FineTunedImageClassifier, FineTunedTextClassifier, ImageLoadError
from sktransfer.backbones import load_backbone
from sktransfer.finetune._trainer import lr_schedule


def test_unfreezing_every_group_by_number_trains_the_whole_network(lfw):
    """``unfreeze=len(groups)`` is ``"all"``: nothing frozen, so nothing is cached."""
    images, labels = lfw
    n_groups = len(load_backbone().layer_groups)
    model = FineTunedImageClassifier(
        unfreeze=n_groups, max_epochs=1, batch_size=16, random_state=0, progress=False
    ).fit(images[::10], labels[::10])
    assert model.featurizer_ is None
    assert model.trainable_groups_ == load_backbone().layer_groups
    assert len(model.net_.module_.frozen) == 0
    assert model.predict_proba(images[:3]).shape == (3, 2)


class _RecordLR(Callback):
    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            net.history.record_batch("lrs", [g["lr"] for g in net.optimizer_.param_groups])


@pytest.mark.parametrize("kind", ["cosine", "onecycle"])
def test_the_schedule_peaks_at_each_group_rate_and_restarts_with_partial_fit(kind):
    torch.manual_seed(0)
    X, y = torch.randn(64, 4).numpy(), torch.randn(64, 1).numpy()
    net = NeuralNetRegressor(
        nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1)),
        lr=0.1,
        optimizer=torch.optim.SGD,
        optimizer__param_groups=[("0.*", {"lr": 0.01})],
        max_epochs=2,
        batch_size=8,
        train_split=None,
        callbacks=[("schedule", lr_schedule(kind, 2 * 8)), ("record", _RecordLR())],
    )
    net.fit(X, y)
    net.partial_fit(X, y, epochs=2)  # the same schedule again, from its start
    for calls in (net.history[:2], net.history[2:]):
        lrs = np.array([b["lrs"] for epoch in calls for b in epoch["batches"]])
        assert len(lrs) == 16
        np.testing.assert_allclose(lrs.max(0), [0.01, 0.1], rtol=0.05)  # each group's peak
        assert (lrs[-1] < 0.2 * lrs.max(0)).all()  # and it anneals
    first = np.array([b["lrs"] for e in net.history[:2] for b in e["batches"]])
    again = np.array([b["lrs"] for e in net.history[2:] for b in e["batches"]])
    np.testing.assert_allclose(again, first)


def test_text_partial_fit_builds_the_vocabulary_once_then_trains_one_epoch_per_call(sms):
    texts, labels = sms["text"][:300].tolist(), sms["label"][:300].to_numpy()
    model = FineTunedTextClassifier(encoder="mean", lr=3e-2, random_state=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        model.partial_fit(texts[:5], ["ham"] * 5)
    model.partial_fit(texts[:150], labels[:150], classes=["ham", "spam"])
    vocabulary = dict(model.vocabulary_)
    head = model.net_.module_.head.weight.detach().clone()
    model.partial_fit(texts[150:], labels[150:])
    assert model.vocabulary_ == vocabulary and len(model.history_) == 2
    assert model.classes_.tolist() == ["ham", "spam"]
    assert not torch.equal(model.net_.module_.head.weight, head)  # the same net trained on
    first, second = model.history_[:, "train_loss"]
    assert second < 0.8 * first


def test_a_broken_image_is_named_by_its_index_in_the_input_under_early_stopping(lfw, tmp_path):
    images, labels = lfw
    samples = [np.asarray(image) for image in images[:40]]
    broken = tmp_path / "broken.png"
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30)).save(buffer, "PNG")
    broken.write_bytes(buffer.getvalue()[:50])
    samples[33] = str(broken)
    model = FineTunedImageClassifier(
        augment="default", early_stopping=2, max_epochs=2, random_state=0, progress=False
    )
    with pytest.raises(ImageLoadError) as info:
        model.fit(samples, np.r_[labels[:20], labels[-20:]])
    assert info.value.failures[0][0] == 33 and str(broken) in str(info.value)
