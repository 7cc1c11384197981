"""Weights faults: no network, nothing cached, truncated or malicious files.

Every case fails fast with one clear error (``WeightsNotFoundError`` lists the offline
options) and never leaves a half-loaded model or a partial download behind. Every weights
file goes through ``torch.load(..., weights_only=True)``: a pickle that would run code is
refused before it runs.
"""

import email.message
import io
import pickle
import urllib.error
import urllib.response

import numpy as np
import pytest
import timm
import torch
import torchvision

from sktransfer import PretrainedImageFeaturizer
from sktransfer.backbones import load_backbone, load_state_dict_file
from sktransfer.exceptions import SktransferError, WeightsNotFoundError
from sktransfer.finetune import FineTunedImageClassifier


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    """An empty hub cache and a network that fails at once (it does here; never hang in CI)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_offline_with_nothing_cached_names_every_option(empty_torch_home):
    with pytest.raises(WeightsNotFoundError) as info:
        load_backbone("resnet18", weights="DEFAULT")
    message = str(info.value)
    assert str(empty_torch_home / "resnet18-f37072fd.pth") in message
    assert "weights='/path/to/state_dict.pth'" in message and "efficientnet_lite0" in message
    assert not list(empty_torch_home.glob("*.partial"))


def test_weights_found_in_the_torch_hub_cache(empty_torch_home):
    reference = torchvision.models.resnet18().eval()
    empty_torch_home.mkdir(parents=True)
    torch.save(reference.state_dict(), empty_torch_home / "resnet18-f37072fd.pth")
    backbone = load_backbone("resnet18", weights="IMAGENET1K_V1")
    assert backbone.weights == "IMAGENET1K_V1" and len(backbone.categories) == 1000
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        torch.testing.assert_close(backbone.head(backbone.trunk(x)), reference(x))


def test_a_download_that_does_not_match_its_hash_is_refused_and_not_kept(tmp_path, monkeypatch):
    """torch.hub checks the hash prefix in the file name (``resnet18-f37072fd.pth``)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    forged = tmp_path / "forged.pth"
    torch.save(torchvision.models.resnet18().state_dict(), forged)
    headers = email.message.Message()
    served = urllib.response.addinfourl(io.BytesIO(forged.read_bytes()), headers, "forged")
    monkeypatch.setattr(torch.hub, "urlopen", lambda request: served)
    with pytest.raises(SktransferError, match="invalid hash value"):
        load_backbone("resnet18", weights="IMAGENET1K_V1")
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    assert not list(checkpoints.iterdir())  # neither the file nor a partial download


def test_malicious_pickle_is_refused_without_running(malicious_weights):
    path, marker = malicious_weights
    with pytest.raises(SktransferError, match="Refused to load"):
        load_state_dict_file(path)
    with pytest.raises(SktransferError, match="Refused to load"):
        load_backbone("resnet18", weights=path)
    assert not marker.exists()


def test_truncated_and_missing_weights_files_give_clear_errors(tmp_path):
    path = tmp_path / "cut.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(SktransferError, match="truncated"):
        load_backbone("resnet18", weights=path)
    featurizer = PretrainedImageFeaturizer("resnet18", weights=path, progress=False)
    with pytest.raises(SktransferError, match="truncated"):
        featurizer.fit([])
    assert vars(featurizer) == featurizer.get_params(deep=False)  # nothing half-loaded
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        load_backbone("resnet18", weights=tmp_path / "missing.pth")


@pytest.fixture
def hf_home(tmp_path, monkeypatch):
    """An empty Hugging Face cache with the hub host unresolvable (as it is here)."""
    import socket

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    real = socket.getaddrinfo

    def no_dns(host, *args, **kwargs):
        if host == "huggingface.co":
            raise socket.gaierror(-2, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return tmp_path / "hub"


@pytest.mark.timeout(60)  # must fail fast, never sit in the hub client's retries
def test_timm_default_weights_offline_and_uncached_fail_fast(hf_home):
    with pytest.raises(WeightsNotFoundError, match="Offline options"):
        load_backbone("timm:resnet10t")


def test_timm_default_weights_offline_come_from_the_hub_cache(hf_home):
    from safetensors.torch import save_file

    reference = timm.create_model("resnet10t")
    repo = hf_home / ("models--" + reference.pretrained_cfg["hf_hub_id"].replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    (repo / "snapshots" / "0123abcd").mkdir(parents=True)
    state = {k: v.contiguous() for k, v in reference.state_dict().items()}
    save_file(state, repo / "snapshots" / "0123abcd" / "model.safetensors")
    backbone = load_backbone("timm:resnet10t")
    assert backbone.weights == "timm:resnet10t.c3_in1k" and len(backbone.categories) == 1000
    torch.testing.assert_close(
        backbone.trunk.layer4[0].conv1.weight, reference.layer4[0].conv1.weight
    )


def test_load_params_refuses_a_malicious_pickle(lfw, malicious_weights):
    path, marker = malicious_weights
    images, labels = lfw
    index = np.r_[0:4, 100:104]
    model = FineTunedImageClassifier(max_epochs=1, random_state=0, progress=False)
    model.fit(images[index], labels[index])
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        model.load_params(path)
    assert not marker.exists()
