"""PretrainedImageFeaturizer throughput on JPEG files, against the limit and naive code.

All figures come from one run on one machine, as medians of ``repeats`` timings:

- ceiling: the bare forward pass of the same backbone on tensors decoded beforehand
  (same batch size, channels-last, inference mode): the best any loader could reach;
- naive: the per-image loop tutorials write (open, transform, forward one image, no_grad);
- featurizer: ``PretrainedImageFeaturizer.transform`` on the file paths, cold and cached.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _timing import median_seconds
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
    from sktransfer.backbones import load_backbone
    from sktransfer.image import open_rgb, preprocess_transform

    def settings(**extra):
        return dict(batch_size=batch_size, progress=False, device=device, **extra)

    def sync():
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_jpegs(Path(tmp), n_images)
        featurizer = PretrainedImageFeaturizer(**settings()).fit(paths)
        extractor = featurizer._get_extractor()
        transform = preprocess_transform(featurizer.preprocessing_)
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

    def rate(seconds: float) -> float:
        return round(n_images / seconds, 2)

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
        },
        "ratios": {
            "featurizer_vs_ceiling": round(t_ceiling / t_featurizer, 3),
            "featurizer_vs_naive": round(t_naive / t_featurizer, 2),
            "warm_cache_vs_cold": round(t_cold / t_warm, 1),
        },
        "targets": {
            "featurizer_vs_ceiling": ">= 0.80",
            "featurizer_vs_naive": ">= 10",
            "warm_cache_vs_cold": ">= 20",
        },
    }
