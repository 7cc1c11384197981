"""PretrainedImageFeaturizer throughput on JPEG files, against the limit and naive code.

All figures come from one run on one machine, as medians of ``repeats`` timings:

- ceiling: the bare forward pass of the same backbone on tensors decoded beforehand
  (same batch size, channels-last, inference mode): the best any loader could reach;
- naive: the per-image loop tutorials write (open, transform, forward one image, no_grad);
- featurizer: ``PretrainedImageFeaturizer.transform`` on the file paths, cold and cached;
- peers, when installed (the bench extra installs them):
  embetter's ``make_pipeline(ImageLoader(), TimmEncoder("tf_efficientnet_lite0"))`` on the
  same network and weights (timm's ``create_model`` is pointed at them, as it cannot
  download here); img2vec-pytorch's ``Img2Vec(model="efficientnet_b0").get_vec`` on lists of
  ``batch_size`` opened images, against the featurizer on the same torchvision
  efficientnet_b0 (seeded random weights put in the torch hub cache for both: img2vec
  offers no EfficientNet-Lite0, and speed does not depend on the weights' values);
- peak memory each adds while it runs (resident set, sampled).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _timing import median_seconds, peak_rss_mb
from PIL import Image


def write_jpegs(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` JPEGs cut from scikit-image's real photos at 400-1200 px (phone/web sizes)."""
    from skimage import data

    photos = [getattr(data, name)() for name in ("chelsea", "coffee", "rocket", "astronaut")]
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        photo = Image.fromarray(photos[i % len(photos)])
        width = int(rng.integers(400, 1200))
        image = photo.resize((width, int(width * photo.height / photo.width)), Image.BICUBIC)
        if rng.random() < 0.5:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        path = folder / f"img{i:04d}.jpg"
        image.save(path, quality=int(rng.integers(75, 95)))
        paths.append(path)
    return paths


def run(
    n_images: int = 256,
    n_naive: int = 48,
    repeats: int = 3,
    batch_size: int = 32,
    device: str = "cpu",
) -> dict:
    from sktransfer import PretrainedImageFeaturizer
    from sktransfer._inputs import open_rgb
    from sktransfer.backbones import load_backbone

    def settings(**extra):
        return dict(batch_size=batch_size, progress=False, device=device, **extra)

    def sync():
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_jpegs(Path(tmp), n_images)
        featurizer = PretrainedImageFeaturizer(**settings()).fit(paths)
        extractor = featurizer._get_extractor()
        transform = featurizer.preprocessing_.transform()
        tensors = torch.stack([transform(open_rgb(p)) for p in paths])  # decoded beforehand
        tensors = tensors.to(device).contiguous(memory_format=torch.channels_last)

        def ceiling():
            with torch.inference_mode():
                for k in range(0, n_images, batch_size):
                    extractor(tensors[k : k + batch_size])
            sync()

        backbone = load_backbone(featurizer.backbone)
        model = torch.nn.Sequential(backbone.trunk, torch.nn.AdaptiveAvgPool2d(1))
        model = model.to(device).eval()

        def naive():
            with torch.no_grad():
                for p in paths[:n_naive]:
                    x = transform(Image.open(p).convert("RGB")).unsqueeze(0).to(device)
                    model(x).flatten().cpu().numpy()

        ceiling()  # warm-up: allocator, oneDNN/cuDNN kernels
        naive()
        t_ceiling = median_seconds(ceiling, repeats)
        t_featurizer = median_seconds(lambda: featurizer.transform(paths), repeats)
        t_naive = median_seconds(naive, repeats) * n_images / n_naive

        cached = PretrainedImageFeaturizer(**settings(cache=Path(tmp) / "cache")).fit(paths)
        start = time.perf_counter()
        cached.transform(paths)  # cold: computes and writes every entry
        t_cold = time.perf_counter() - start
        t_warm = median_seconds(lambda: cached.transform(paths), repeats)
        memory = {
            "featurizer_jpeg_files": peak_rss_mb(lambda: featurizer.transform(paths)),
            "naive_per_image_loop": peak_rss_mb(naive),
        }
        peers, peer_memory, missing = _peers(
            paths, n_naive, repeats, batch_size, backbone, Path(tmp)
        )
        memory.update(peer_memory)

    def rate(seconds: float) -> float:
        return round(n_images / seconds, 2)

    peer_ratios = {}
    if "embetter_timm_encoder" in peers:
        peer_ratios["featurizer_vs_embetter"] = round(
            peers["embetter_timm_encoder"] / t_featurizer, 2
        )
    if "img2vec_efficientnet_b0" in peers:
        peer_ratios["featurizer_b0_vs_img2vec_b0"] = round(
            peers["img2vec_efficientnet_b0"] / peers["featurizer_efficientnet_b0"], 2
        )
    return {
        "backbone": featurizer.backbone,
        "device": str(torch.device(device)),
        "images": n_images,
        "batch_size": batch_size,
        "images_per_s": {
            "ceiling_forward_only": rate(t_ceiling),
            "featurizer_jpeg_files": rate(t_featurizer),
            "naive_per_image_loop": rate(t_naive),
            "featurizer_cold_cache": rate(t_cold),
            "featurizer_warm_cache": rate(t_warm),
            **{k: rate(v) for k, v in peers.items()},
        },
        "peak_memory_mb": memory,
        "peers_missing": missing,
        "ratios": {
            "featurizer_vs_ceiling": round(t_ceiling / t_featurizer, 3),
            "featurizer_vs_naive": round(t_naive / t_featurizer, 2),
            "warm_cache_vs_cold": round(t_cold / t_warm, 1),
            **peer_ratios,
        },
        "targets": {
            "featurizer_vs_ceiling": ">= 0.80",
            "featurizer_vs_naive": ">= 10",
            "warm_cache_vs_cold": ">= 20",
            "featurizer_vs_embetter": "",
            "featurizer_b0_vs_img2vec_b0": "",
        },
    }


def _lite0_in_timm(backbone) -> torch.nn.Module:
    """timm's ``tf_efficientnet_lite0`` without classifier, holding ``backbone``'s weights."""
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    own, trunk = model.state_dict(), backbone.trunk.state_dict()
    if [v.shape for v in own.values()] != [v.shape for v in trunk.values()]:
        raise RuntimeError("the backbone's trunk does not line up with timm's model")
    model.load_state_dict(dict(zip(own, trunk.values(), strict=True)))
    return model.eval()


def _peers(paths, n_naive, repeats, batch_size, backbone, tmp: Path) -> tuple[dict, dict, dict]:
    """Seconds per ``len(paths)`` images and peak MiB of each installed peer; the missing ones."""
    from unittest import mock

    from sktransfer import PretrainedImageFeaturizer

    seconds, memory, missing = {}, {}, {}
    scale = len(paths) / n_naive
    try:
        from embetter.vision import ImageLoader, TimmEncoder
    except ImportError as error:
        missing["embetter"] = f"not installed: {error}"
    else:
        model = _lite0_in_timm(backbone)
        with mock.patch("timm.create_model", lambda name, **kwargs: model):
            encoder = TimmEncoder("tf_efficientnet_lite0")
        loader = ImageLoader()

        def embetter():
            encoder.transform(loader.transform(paths[:n_naive]))

        embetter()  # warm-up
        seconds["embetter_timm_encoder"] = median_seconds(embetter, repeats) * scale
        memory["embetter_timm_encoder"] = peak_rss_mb(embetter)
    try:
        from img2vec_pytorch import Img2Vec
    except ImportError as error:
        missing["img2vec_pytorch"] = f"not installed: {error}"
    else:
        from torchvision.models import EfficientNet_B0_Weights, efficientnet_b0

        hub = torch.hub.get_dir()
        torch.hub.set_dir(str(tmp / "hub"))
        try:
            torch.manual_seed(0)
            checkpoints = tmp / "hub" / "checkpoints"
            checkpoints.mkdir(parents=True)
            url = EfficientNet_B0_Weights.DEFAULT.url
            torch.save(efficientnet_b0().state_dict(), checkpoints / url.rsplit("/", 1)[1])
            img2vec = Img2Vec(model="efficientnet_b0")
            ours = PretrainedImageFeaturizer(
                "efficientnet_b0", batch_size=batch_size, progress=False
            ).fit(paths)
        finally:
            torch.hub.set_dir(hub)

        def img2vec_loop():
            for k in range(0, len(paths), batch_size):
                img2vec.get_vec([Image.open(p).convert("RGB") for p in paths[k : k + batch_size]])

        img2vec_loop()  # warm-up
        ours.transform(paths)
        seconds["img2vec_efficientnet_b0"] = median_seconds(img2vec_loop, repeats)
        seconds["featurizer_efficientnet_b0"] = median_seconds(
            lambda: ours.transform(paths), repeats
        )
        memory["img2vec_efficientnet_b0"] = peak_rss_mb(img2vec_loop)
        memory["featurizer_efficientnet_b0"] = peak_rss_mb(lambda: ours.transform(paths))
    return seconds, memory, missing
