"""ONNX Runtime against torch on the CPU, int8 quantization, and the exported pipeline.

All figures come from one run on one machine, side by side:

- featurizer end to end on JPEG files (decode, preprocess, forward, no cache) with
  ``backend="torch"``, ``backend="onnxruntime"`` and ``quantize="static"``, for
  EfficientNet-Lite0 and Lite2 (bundled weights) and torchvision's resnet18 (seeded random
  weights: they cannot be downloaded here, and speed does not depend on their values); the
  forward-only ceiling of each runtime on tensors decoded beforehand; the bound that
  decoding on the same CPUs puts on it (decoding's one-thread CPU time shared over the
  CPUs, added to the forward time); the export's cost;
- int8: the accuracy of a linear probe (LogisticRegression, leakage-safe 5-fold CV) on
  float32 and on statically quantized features of real datasets (LFW, MNIST digits, and the
  pets photos when ``../shared/data/pets`` is there), and dynamic quantization's speed;
- the exported pipeline (featurizer, scaler, LogisticRegression): parity on real held-out
  images, file size, and the cold start of a fresh process that loads the model and
  predicts one image, from the skops file (torch) and from the ONNX file (no torch).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from _timing import median_seconds
from featurizer import write_jpegs

PETS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pets"


def run(n_images: int = 256, repeats: int = 3, batch_size: int = 32) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        paths = write_jpegs(Path(folder), n_images)
        speed = {
            name: _speed(name, weights, paths, repeats, batch_size)
            for name, weights in (
                ("efficientnet_lite0", "DEFAULT"),
                ("efficientnet_lite2", "DEFAULT"),
                ("resnet18", None),
            )
        }
        export = _export(Path(folder))
    return {
        "text": _text(repeats),
        "n_images": n_images,
        "batch_size": batch_size,
        "torch_threads": torch.get_num_threads(),
        "speed": speed,
        "int8_accuracy": _int8_accuracy(),
        "export": export,
    }


def _speed(name: str, weights, paths: list, repeats: int, batch_size: int) -> dict:
    from sktransfer import PretrainedImageFeaturizer
    from sktransfer._inputs import open_rgb

    def featurizer(**options):
        return PretrainedImageFeaturizer(
            name, weights=weights, batch_size=batch_size, progress=False, **options
        )

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        eager = featurizer().fit(paths)
    start = time.perf_counter()
    fp32 = featurizer(backend="onnxruntime").fit(paths)
    export_seconds = time.perf_counter() - start
    start = time.perf_counter()
    int8 = featurizer(backend="onnxruntime", quantize="static").fit(paths)
    quantize_seconds = time.perf_counter() - start
    dynamic = featurizer(backend="onnxruntime", quantize="dynamic").fit(paths[:4])

    transform = eager.preprocessing_.transform()
    size = eager.preprocessing_.resize_size

    def preprocess():
        return [transform(open_rgb(p, size)) for p in paths]

    with torch.random.fork_rng(devices=[]):  # one thread: the decoding cost in CPU time
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            preprocess_seconds = median_seconds(preprocess, repeats)
        finally:
            torch.set_num_threads(threads)
    tensors = torch.stack(preprocess())
    batches = list(torch.split(tensors, batch_size))
    extractor = eager._get_extractor()

    def torch_forward():
        with torch.inference_mode():
            for batch in batches:
                extractor(batch.contiguous(memory_format=torch.channels_last))

    def ort_forward(model):
        session = model._get_session()
        return lambda: [session.run(None, {"images": b.numpy()}) for b in batches]

    seconds = {
        "torch_forward": median_seconds(torch_forward, repeats),
        "onnxruntime_forward": median_seconds(ort_forward(fp32), repeats),
        "int8_static_forward": median_seconds(ort_forward(int8), repeats),
        "int8_dynamic_forward_one_batch": median_seconds(
            lambda: dynamic._get_session().run(None, {"images": batches[0].numpy()}), 1
        ),
        "torch_end_to_end": median_seconds(lambda: eager.transform(paths), repeats),
        "onnxruntime_end_to_end": median_seconds(lambda: fp32.transform(paths), repeats),
        "int8_static_end_to_end": median_seconds(lambda: int8.transform(paths), repeats),
    }
    n = len(paths)
    rate = {k: n / v for k, v in seconds.items() if "one_batch" not in k}
    rate["int8_dynamic_forward"] = len(batches[0]) / seconds["int8_dynamic_forward_one_batch"]
    expected, found = eager.transform(paths[:64]), fp32.transform(paths[:64])
    # Decoding and the forward pass share the CPUs: with the forward pass using all of
    # them, no loader can beat one image per (forward time + decoding CPU time / CPUs).
    cpus = joblib.cpu_count()
    bound = 1 / (1 / rate["onnxruntime_forward"] + preprocess_seconds / n / cpus)
    return {
        "images_per_second": {k: round(v, 1) for k, v in rate.items()},
        "onnxruntime_over_torch_end_to_end": rate["onnxruntime_end_to_end"]
        / rate["torch_end_to_end"],
        "onnxruntime_over_torch_forward": rate["onnxruntime_forward"] / rate["torch_forward"],
        "onnxruntime_end_to_end_over_its_ceiling": rate["onnxruntime_end_to_end"]
        / rate["onnxruntime_forward"],
        "preprocess_ms_per_image_one_thread": 1000 * preprocess_seconds / n,
        "cpu_bound_over_ceiling": bound / rate["onnxruntime_forward"],
        "onnxruntime_end_to_end_over_cpu_bound": rate["onnxruntime_end_to_end"] / bound,
        "int8_over_fp32_onnxruntime_end_to_end": rate["int8_static_end_to_end"]
        / rate["onnxruntime_end_to_end"],
        "int8_over_fp32_onnxruntime_forward": rate["int8_static_forward"]
        / rate["onnxruntime_forward"],
        "int8_dynamic_over_fp32_forward": rate["int8_dynamic_forward"]
        / rate["onnxruntime_forward"],
        "max_abs_feature_difference": float(np.abs(expected - found).max()),
        "max_abs_feature": float(np.abs(expected).max()),
        "backend_difference": fp32.backend_difference_,
        "export_seconds": export_seconds,
        "static_quantization_seconds": quantize_seconds,
    }


def _text(repeats: int, n_texts: int = 2000) -> dict:
    """TransformerTextEmbedder (all-MiniLM-L6-v2) on real SMS messages: speed of each
    backend, and a spam probe on float32 and on dynamic int8 embeddings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from sktransfer import LeakageSafeKFold, TransformerTextEmbedder
    from sktransfer.datasets import load_sms_spam

    sms = load_sms_spam()
    texts, labels = list(sms["text"][:n_texts]), sms["label"].to_numpy()[:n_texts]
    embedders = {
        "torch": TransformerTextEmbedder(progress=False),
        "onnxruntime": TransformerTextEmbedder(backend="onnxruntime", progress=False),
        "int8_dynamic": TransformerTextEmbedder(
            backend="onnxruntime", quantize="dynamic", progress=False
        ),
    }
    seconds, embeddings = {}, {}
    for name, embedder in embedders.items():
        embedder.fit(texts)
        seconds[name] = median_seconds(lambda e=embedder: e.transform(texts), repeats)
        embeddings[name] = embedder.transform(texts)
    splits = list(LeakageSafeKFold(5, shuffle=True, random_state=0).split(texts, labels))
    probe = LogisticRegression(C=10, max_iter=3000)
    accuracy = {
        name: float(cross_val_score(probe, vectors, labels, cv=splits).mean())
        for name, vectors in embeddings.items()
    }
    cosine = np.sum(embeddings["int8_dynamic"] * embeddings["torch"], axis=1)
    return {
        "n_texts": n_texts,
        "texts_per_second": {k: round(n_texts / v, 1) for k, v in seconds.items()},
        "onnxruntime_over_torch": seconds["torch"] / seconds["onnxruntime"],
        "int8_over_fp32_onnxruntime": seconds["onnxruntime"] / seconds["int8_dynamic"],
        "max_abs_difference": float(np.abs(embeddings["onnxruntime"] - embeddings["torch"]).max()),
        "probe_accuracy": accuracy,
        "int8_cosine_min": float(cosine.min()),
        "int8_cosine_median": float(np.median(cosine)),
    }


def _datasets() -> dict:
    from skimage.data import lfw_subset

    from sktransfer.datasets import load_image_folder, load_mnist_sample

    digits, labels = load_mnist_sample()
    sets = {
        "lfw": (list(lfw_subset()), np.array([1] * 100 + [0] * 100)),
        "mnist_1000": (list(digits[:1000]), labels[:1000]),
    }
    if PETS.is_dir():
        frame = load_image_folder(PETS)
        sets["pets"] = (frame["path"].tolist(), frame["label"].to_numpy())
    return sets


def _int8_accuracy() -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer

    results = {}
    for name, (X, y) in _datasets().items():
        y = np.asarray(y)
        fp32 = PretrainedImageFeaturizer(backend="onnxruntime", progress=False).fit(X)
        int8 = PretrainedImageFeaturizer(
            backend="onnxruntime", quantize="static", progress=False
        ).fit(X)
        features, quantized = fp32.transform(X), int8.transform(X)
        splits = list(LeakageSafeKFold(5, shuffle=True, random_state=0).split(X, y))
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
        accuracy = cross_val_score(probe, features, y, cv=splits).mean()
        accuracy_int8 = cross_val_score(probe, quantized, y, cv=splits).mean()
        results[name] = {
            "n_images": len(X),
            "fp32_accuracy": float(accuracy),
            "int8_static_accuracy": float(accuracy_int8),
            "change": float(accuracy_int8 - accuracy),
            "feature_correlation": float(np.corrcoef(features.ravel(), quantized.ravel())[0, 1]),
        }
    return results


def _export(folder: Path) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import PretrainedImageFeaturizer, io
    from sktransfer.datasets import load_image_folder
    from sktransfer.export import to_onnx

    if PETS.is_dir():
        frame = load_image_folder(PETS)
        X, y = frame["path"].tolist(), frame["label"].to_numpy()
        data = "pets"
    else:
        from skimage.data import lfw_subset

        X, y = list(lfw_subset()), np.array(["face"] * 100 + ["other"] * 100)
        data = "lfw"
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[: len(X) // 2], order[len(X) // 2 :][:300]
    model = make_pipeline(
        PretrainedImageFeaturizer(progress=False), StandardScaler(), LogisticRegression()
    ).fit([X[i] for i in train], np.asarray(y)[train])
    start = time.perf_counter()
    report = to_onnx(model, folder / "model.onnx", X=[X[i] for i in test])
    seconds = time.perf_counter() - start
    io.save(model, folder / "model.skops")
    image = X[test[0]]
    if not isinstance(image, (str, Path)):
        from PIL import Image

        image = folder / "one.png"
        Image.fromarray((np.asarray(X[test[0]]) * 255).astype(np.uint8)).save(image)
    torch_code = (
        "from sktransfer import io; "
        f"io.load({str(folder / 'model.skops')!r}).predict([{str(image)!r}])"
    )
    onnx_code = (
        "import sys; from sktransfer.export import OnnxImageModel; "
        f"OnnxImageModel({str(folder / 'model.onnx')!r}).predict([{str(image)!r}]); "
        "assert 'torch' not in sys.modules"
    )
    return {
        "data": data,
        "n_checked": report.n_samples,
        "max_abs_probability_difference": report.max_abs_difference,
        "argmax_agreement": report.argmax_agreement,
        "onnx_bytes": report.n_bytes,
        "skops_bytes": (folder / "model.skops").stat().st_size,
        "export_seconds": seconds,
        "cold_start_seconds_torch": _cold_start(torch_code),
        "cold_start_seconds_onnxruntime": _cold_start(onnx_code),
    }


def _cold_start(code: str, repeats: int = 3) -> float:
    """Median wall time of a fresh interpreter that loads the model and predicts once."""

    def once() -> None:
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)

    return median_seconds(once, repeats)
