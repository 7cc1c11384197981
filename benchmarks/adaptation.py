"""Domain adaptation: the domain-adversarial fine-tuner against source-only training.

Two real shifts. MNIST-M style: 500 MNIST digits labelled (the source), 500 other digits
blended onto patches of scikit-image's colour photos (the target, ``blend_onto_photos``).
LFW: 100 of scikit-image's faces and non-face patches labelled, the other 100 tinted,
blurred and contrast-shifted (the target). ``adaptation_scores`` gives half of the target
images to ``fit`` unlabelled (transductive accuracy) and keeps the other half unseen
(inductive), with the same network trained on the source alone as the baseline, same
seeds; mean over 3 seeds. The domain classifier's balanced accuracy near 0.5 means the
features no longer tell the domains apart. Cost: seconds per epoch from skorch's history
(the frozen activations, computed once per image and cached, are not in it).
"""

from __future__ import annotations

import tempfile

import numpy as np

SEEDS = (0, 1, 2)


def _lfw_shift() -> tuple:
    from PIL import Image, ImageFilter
    from skimage.data import lfw_subset

    faces = (lfw_subset() * 255).astype(np.uint8)
    labels = np.array(["face"] * 100 + ["other"] * 100)
    source, target = np.arange(0, 200, 2), np.arange(1, 200, 2)
    tint = np.array([1.0, 0.75, 0.45])  # a warm colour cast

    def shifted(image: np.ndarray) -> np.ndarray:
        blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.2)))
        coloured = (0.6 * blurred[..., None] + 60) * tint  # lower contrast, tinted
        return np.clip(coloured, 0, 255).astype(np.uint8)

    return (
        list(faces[source]),
        labels[source],
        [shifted(faces[i]) for i in target],
        labels[target],
    )


def _mnist_m_shift(n: int) -> tuple:
    from sktransfer.datasets import blend_onto_photos, load_mnist_sample

    digits, labels = load_mnist_sample()
    target = blend_onto_photos(digits[n : 2 * n], random_state=0)
    return list(digits[:n]), labels[:n], list(target), labels[n : 2 * n]


def run(n_digits: int = 500, **params) -> dict:
    shifts = {
        f"mnist_to_photos_{n_digits}": _mnist_m_shift(n_digits),
        "lfw_gray_to_tinted_blurred": _lfw_shift(),
    }
    return {name: _compare(*data, params) for name, data in shifts.items()}


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
