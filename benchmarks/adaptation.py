"""Domain adaptation: the domain-adversarial fine-tuner against source-only training.

Two real shifts. MNIST-M style: 500 MNIST digits labelled (the source), 500 other digits
blended onto patches of scikit-image's colour photos (the target, ``blend_onto_photos``).
Pets: 300 of the cat and dog photos of ``../shared/data/pets`` labelled, 300 others as
pencil sketches (gray, colour-dodged with their blurred negative: lines on white, no
colour or texture), byte-identical copies set aside first so no photo is on both sides.
``adaptation_scores`` gives half of the target images to ``fit`` unlabelled
(transductive accuracy) and keeps the other half unseen (inductive), with the same
network trained on the source alone as the baseline, same seeds; mean over 3 seeds. The
domain classifier's balanced accuracy near 0.5 means the features no longer tell the
domains apart. Cost: seconds per epoch from skorch's history (the frozen activations,
computed once per image and cached, are not in it).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

SEEDS = (0, 1, 2)


def _pets_sketch_shift(n: int) -> tuple | None:
    import hashlib

    import pandas as pd
    from diagnosis import _pets_or_faces
    from PIL import Image, ImageFilter, ImageOps

    name, paths, labels = _pets_or_faces()
    if name != "pets":
        return None
    digests = pd.Series([hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths])
    distinct = np.flatnonzero(~digests.duplicated().to_numpy())
    pick = distinct[np.random.default_rng(0).permutation(len(distinct))[: 2 * n]]
    paths, labels = np.asarray(paths, dtype=object)[pick], np.asarray(labels)[pick]

    def sketch(path: str) -> np.ndarray:
        gray = ImageOps.grayscale(Image.open(path).convert("RGB"))
        blurred = ImageOps.invert(gray).filter(ImageFilter.GaussianBlur(4))
        g, b = (np.asarray(im, dtype=np.float32) for im in (gray, blurred))
        dodged = np.minimum(255.0, g * 255.0 / np.maximum(1.0, 255.0 - b))
        return np.repeat(dodged.astype(np.uint8)[..., None], 3, axis=2)

    return list(paths[:n]), labels[:n], [sketch(p) for p in paths[n:]], labels[n:]


def _mnist_m_shift(n: int) -> tuple:
    from sktransfer.datasets import blend_onto_photos, load_mnist_sample

    digits, labels = load_mnist_sample()
    target = blend_onto_photos(digits[n : 2 * n], random_state=0)
    return list(digits[:n]), labels[:n], list(target), labels[n : 2 * n]


def run(n_digits: int = 500, n_pets: int = 300, **params) -> dict:
    shifts = {
        f"mnist_to_photos_{n_digits}": _mnist_m_shift(n_digits),
        f"pets_photos_to_sketches_{n_pets}": _pets_sketch_shift(n_pets),
    }
    return {name: _compare(*data, params) for name, data in shifts.items() if data is not None}


def _compare(X_source, y_source, X_target, y_target, params: dict) -> dict:
    from sktransfer.finetune import DomainAdversarialClassifier
    from sktransfer.model_selection import adaptation_scores

    runs = []
    with tempfile.TemporaryDirectory() as cache:
        for seed in SEEDS:
            model = DomainAdversarialClassifier(
                cache=cache, random_state=seed, progress=False, **params
            )
            scores, fitted = adaptation_scores(
                model,
                X_source,
                y_source,
                X_target,
                y_target,
                random_state=seed,
                return_estimators=True,
            )
            epoch = {name: float(np.mean(m.history_[:, "dur"])) for name, m in fitted.items()}
            runs.append(
                {
                    "seed": seed,
                    **{
                        f"{name} {kind}": float(scores.loc[name, kind])
                        for name in scores.index
                        for kind in ("transductive", "inductive")
                    },
                    "domain_accuracy": float(scores.loc["adapted", "domain_accuracy"]),
                    "epoch_seconds_adapted": epoch["adapted"],
                    "epoch_seconds_source_only": epoch["source only"],
                }
            )
            n_seen = scores.attrs["n_seen"]
    mean = {key: float(np.mean([r[key] for r in runs])) for key in runs[0] if key != "seed"}
    return {
        "n_source": len(y_source),
        "n_target_seen": n_seen,
        "n_target_unseen": len(y_target) - n_seen,
        "params": {k: repr(v) for k, v in params.items()},
        "mean": mean,
        "gain_inductive": mean["adapted inductive"] - mean["source only inductive"],
        "gain_transductive": mean["adapted transductive"] - mean["source only transductive"],
        "epoch_cost_ratio": mean["epoch_seconds_adapted"] / mean["epoch_seconds_source_only"],
        "runs": runs,
    }
