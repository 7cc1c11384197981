import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sktransfer.backbones import load_backbone
from sktransfer.finetune import FineTunedImageClassifier
from sktransfer.finetune._callbacks import cut_and_paste
from sktransfer.model_selection import LeakageSafeKFold

FAST_SEED = {"random_state": 0, "progress": False}
FAST = {"max_epochs": 3, **FAST_SEED}


@pytest.fixture(scope="module")
def faces(lfw):
    """LFW subset with string labels, shuffled once and split in halves (100 + 100)."""
    images, labels = lfw
    order = np.random.default_rng(0).permutation(len(images))
    images, names = images[order], np.where(labels[order] == 1, "face", "not a face")
    return images[:100], names[:100], images[100:], names[100:]


@pytest.fixture(scope="module")
def probe(faces):
    X_train, y_train, _, _ = faces
    return FineTunedImageClassifier(max_epochs=5, random_state=0, progress=False).fit(
        X_train, y_train
    )


def test_linear_probe_classifies_real_faces_with_string_labels(probe, faces):
    _, _, X_test, y_test = faces
    assert probe.classes_.tolist() == ["face", "not a face"]
    assert set(probe.predict(X_test)) == {"face", "not a face"}
    assert probe.score(X_test, y_test) >= 0.95
    proba = probe.predict_proba(X_test)
    assert proba.shape == (100, 2)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-6)
    assert probe.trainable_groups_ == [] and probe.featurizer_.pooling == "avg"


def test_frozen_groups_stay_bit_identical_and_get_no_optimizer_state(faces):
    X_train, y_train, _, _ = faces
    model = FineTunedImageClassifier(unfreeze=1, augment="default", **FAST)
    model.fit(X_train[:32], y_train[:32])
    module = model.net_.module_
    pretrained = load_backbone().trunk
    n = len(pretrained)
    for name, tensor in pretrained[: n - 1].state_dict().items():  # BN statistics included
        assert torch.equal(module.frozen.state_dict()[name].cpu(), tensor), name
    top_before = pretrained[n - 1].state_dict()
    top_after = module.top.trunk.head_conv.state_dict()
    assert any(not torch.equal(top_after[k].cpu(), v) for k, v in top_before.items())
    optimized = {id(p) for group in model.net_.optimizer_.param_groups for p in group["params"]}
    assert not any(id(p) in optimized for p in module.frozen.parameters())
    assert all(p in model.net_.optimizer_.state for p in module.top.parameters())
    assert model.featurizer_ is None  # augmented inputs are never cached


def test_an_augmented_linear_probe_pools_the_frozen_map(faces):
    X_train, y_train, X_test, y_test = faces
    model = FineTunedImageClassifier(augment="default", max_epochs=3, lr=1e-2, **FAST_SEED)
    model.fit(X_train[:48], y_train[:48])  # the frozen part's 1280x7x7 map, pooled for the head
    assert model.trainable_groups_ == [] and model.featurizer_ is None
    assert model.score(X_test, y_test) > 0.9


def test_discriminative_learning_rates_land_in_the_param_groups(faces):
    X_train, y_train, _, _ = faces
    model = FineTunedImageClassifier(unfreeze=3, lr=1e-3, lr_decay=0.5, max_epochs=1)
    model.set_params(random_state=0, progress=False).fit(X_train[:16], y_train[:16])
    assert model.trainable_groups_ == ["blocks5", "blocks6", "head_conv"]
    module = model.net_.module_
    expected = {
        id(p): lr
        for part, lr in [
            (module.trunk.head_conv, 1e-3),
            (module.trunk.blocks6, 5e-4),
            (module.trunk.blocks5, 2.5e-4),
            (module.head, 1e-3),
        ]
        for p in part.parameters()
    }
    seen = {}
    for group in model.net_.optimizer_.param_groups:
        for p in group["params"]:
            seen[id(p)] = group["initial_lr"]  # the scheduler's starting (peak) rate
    assert seen == pytest.approx(expected)


def test_lite2_fine_tunes_its_top_group_on_real_faces(faces):
    X_train, y_train, X_test, y_test = faces
    model = FineTunedImageClassifier("efficientnet_lite2", unfreeze=1, **FAST).fit(X_train, y_train)
    assert model.trainable_groups_ == ["head_conv"]
    assert model.featurizer_.preprocessing_.input_size == 260  # the frozen part's cache
    assert model.score(X_test, y_test) >= 0.95


def test_frozen_activations_come_from_the_shared_cache(faces, tmp_path, monkeypatch):
    from sktransfer.image import PretrainedImageFeaturizer

    X_train, y_train, _, _ = faces
    model = FineTunedImageClassifier(unfreeze=1, cache=tmp_path, **FAST)
    model.fit(X_train[:20], y_train[:20])
    assert len(list(tmp_path.rglob("*.f32"))) == 20
    calls = []
    forward = PretrainedImageFeaturizer._forward
    monkeypatch.setattr(
        PretrainedImageFeaturizer,
        "_forward",
        lambda self, *a: calls.append(1) or forward(self, *a),
    )
    again = clone(model).fit(X_train[:20], y_train[:20])
    assert calls == []  # every activation read back from the cache
    np.testing.assert_allclose(
        again.predict_proba(X_train[:20]), model.predict_proba(X_train[:20]), atol=1e-6
    )


def test_early_stopping_keeps_a_validation_split_and_stops(faces):
    X_train, y_train, _, _ = faces
    model = FineTunedImageClassifier(
        early_stopping=2, max_epochs=40, lr=3e-2, random_state=0, progress=False
    ).fit(X_train, y_train)
    assert "valid_loss" in model.history_[-1]
    assert len(model.history_) < 40
    losses = model.history_[:, "valid_loss"]
    assert min(losses) == pytest.approx(min(losses[: len(losses) - 2]))


def test_same_random_state_same_predictions_and_pickle_round_trip(probe, faces):
    X_train, y_train, X_test, _ = faces
    twin = clone(probe).fit(X_train, y_train)
    np.testing.assert_array_equal(twin.predict_proba(X_test), probe.predict_proba(X_test))
    restored = pickle.loads(pickle.dumps(probe))
    np.testing.assert_array_equal(restored.predict_proba(X_test), probe.predict_proba(X_test))


def test_grid_search_over_freezing_depth_end_to_end(faces, tmp_path):
    X_train, y_train, _, _ = faces
    search = GridSearchCV(
        FineTunedImageClassifier(cache=tmp_path, **FAST),
        {"unfreeze": [0, 1]},
        cv=LeakageSafeKFold(2, kind="image"),
    ).fit(X_train[:40], y_train[:40])
    assert search.best_params_["unfreeze"] in (0, 1)
    assert search.cv_results_["mean_test_score"].min() >= 0.8
    assert search.predict(X_train[:3]).dtype.kind in "OU"


def test_too_deep_unfreezing_names_the_layer_groups(faces):
    X_train, y_train, _, _ = faces
    with pytest.raises(ValueError, match="exceeds the 9 layer groups"):
        FineTunedImageClassifier(unfreeze=12, **FAST).fit(X_train[:4], y_train[:4])


def test_gradual_unfreezing_adds_one_group_per_stage(faces):
    X_train, y_train, _, _ = faces
    model = FineTunedImageClassifier(unfreeze=2, gradual_unfreeze=2, max_epochs=5, **FAST_SEED)
    model.fit(X_train[:24], y_train[:24])
    assert model.history_[:, "trainable_groups"] == [0, 0, 1, 1, 2]
    # stopped one stage early: the lower group never trained, the upper one did
    short = FineTunedImageClassifier(unfreeze=2, gradual_unfreeze=2, max_epochs=3, **FAST_SEED)
    short.fit(X_train[:24], y_train[:24])
    pretrained = load_backbone().trunk
    trained = short.net_.module_.trunk
    assert all(
        torch.equal(a.cpu(), b)
        for a, b in zip(
            trained.blocks6.state_dict().values(),
            pretrained.blocks6.state_dict().values(),
            strict=True,
        )
    )
    assert not all(
        torch.equal(a.cpu(), b)
        for a, b in zip(
            trained.head_conv.state_dict().values(),
            pretrained.head_conv.state_dict().values(),
            strict=True,
        )
    )


def test_mixup_trains_a_working_probe(faces):
    X_train, y_train, X_test, y_test = faces
    model = FineTunedImageClassifier(mixup=0.4, max_epochs=8, **FAST_SEED).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.9


def test_cutmix_pastes_a_box_of_the_partner_weighted_by_its_area():
    x = torch.arange(4.0)[:, None, None, None].expand(4, 3, 7, 7).reshape(4, -1)
    partner = torch.tensor([1, 2, 3, 0])
    torch.manual_seed(3)
    mixed, weight = cut_and_paste(x, partner, 1.0, (3, 7, 7))
    maps = mixed.view(4, 3, 7, 7)
    own = maps == torch.arange(4.0)[:, None, None, None]
    pasted = maps == torch.arange(4.0)[partner][:, None, None, None]
    assert torch.all(own | pasted) and 0 < weight < 1
    box = pasted[0, 0]  # one rectangle, the same in every channel and sample
    rows, cols = box.any(1).nonzero().ravel(), box.any(0).nonzero().ravel()
    assert box.sum() == len(rows) * len(cols) == box[rows[0] : rows[-1] + 1].sum()
    assert torch.equal(pasted, box.expand_as(pasted))
    assert weight == pytest.approx(1 - box.float().mean().item())
    with pytest.raises(ValueError, match="spatial"):
        cut_and_paste(x, partner, 1.0, None)


def test_cutmix_on_cached_maps_and_on_pixels_trains_working_models(faces):
    X_train, y_train, X_test, y_test = faces
    on_maps = FineTunedImageClassifier(unfreeze=1, cutmix=1.0, max_epochs=5, **FAST_SEED)
    assert on_maps.fit(X_train, y_train).score(X_test, y_test) >= 0.9
    assert on_maps.featurizer_ is not None  # the frozen part stays cached
    plain = FineTunedImageClassifier(unfreeze=1, max_epochs=5, **FAST_SEED).fit(X_train, y_train)
    assert not np.allclose(plain.predict_proba(X_test), on_maps.predict_proba(X_test))
    both = FineTunedImageClassifier(
        unfreeze=1, cutmix=1.0, mixup=0.4, augment="default", **FAST
    ).fit(X_train[:32], y_train[:32])
    assert both.featurizer_ is None and len(both.history_) == 3
    with pytest.raises(ValueError, match="pooled features"):
        FineTunedImageClassifier(cutmix=1.0, **FAST).fit(X_train, y_train)


def test_partial_fit_trains_epoch_by_epoch_with_the_first_labels(faces):
    X_train, y_train, X_test, y_test = faces
    model = FineTunedImageClassifier(scheduler=None, **FAST_SEED)
    for _ in range(3):
        model.partial_fit(X_train, y_train, classes=["face", "not a face"])
    assert len(model.history_) == 3 and model.score(X_test, y_test) >= 0.9
    with pytest.raises(ValueError, match="not seen in the first fit"):
        model.partial_fit(X_train[:2], ["cat", "dog"])


def test_trained_weights_export_and_load_alone(probe, faces, tmp_path):
    X_train, y_train, X_test, _ = faces
    probe.save_params(tmp_path / "head.pt")
    other = clone(probe).set_params(random_state=1, max_epochs=1).fit(X_train, y_train)
    assert not np.array_equal(other.predict_proba(X_test), probe.predict_proba(X_test))
    other.load_params(tmp_path / "head.pt")
    np.testing.assert_allclose(other.predict_proba(X_test), probe.predict_proba(X_test), atol=1e-6)


def test_file_paths_in_a_pandas_column_work_like_arrays(photo_files):
    import pandas as pd

    frame = pd.DataFrame({"path": [str(p) for p in photo_files]})
    labels = ["animal", "object", "object", "person", "object", "space"]
    model = FineTunedImageClassifier(max_epochs=2, batch_size=4, **FAST_SEED)
    model.fit(frame[["path"]], labels)
    assert model.predict(frame["path"]).shape == (6,)
    assert set(model.predict(frame["path"])) <= set(labels)
