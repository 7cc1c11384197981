"""
Linear probe, partial and full fine-tuning: a grid search over freezing depth
=============================================================================

``FineTunedImageClassifier(unfreeze=k)`` trains the top ``k`` layer groups of a pretrained
backbone with a new head; ``k=0`` is a linear probe on frozen features. Without
augmentation the frozen part runs once per image (and is cached on disk across grid points
and folds), so a ``GridSearchCV`` over ``unfreeze`` costs little more than the probe.
Data: 300 handwritten digits from the MNIST test set, far from the photos the backbone
was trained on, scored under leakage-safe 3-fold cross-validation; the learning curves
come from skorch's history. Full fine-tuning (``unfreeze="all"``) joins the grid when a GPU
is present; on a CPU it alone would take several minutes per fold.

Run: ``python examples/plot_finetuning.py`` (writes ``finetuning.png``).
"""

# %%
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV

from sktransfer import FineTunedImageClassifier, LeakageSafeKFold
from sktransfer.datasets import load_mnist_sample

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
digits, targets = load_mnist_sample()
n = 60 if FAST else 300
images, labels = digits[:n], targets[:n].astype(str)
depths = [0, 1] if FAST else [0, 1, 2, 3] + (["all"] if torch.cuda.is_available() else [])
epochs = 2 if FAST else 10

# %%
# One grid search over the freezing depth. ``cache`` shares the frozen activations
# between the folds and the final refit.
cache = tempfile.mkdtemp(prefix="sktransfer-example-")
search = GridSearchCV(
    FineTunedImageClassifier(max_epochs=epochs, cache=cache, random_state=0, progress=False),
    {"unfreeze": depths},
    # ImageNet features of 28-px digits put most digits near another: copies by hash alone
    cv=LeakageSafeKFold(3, shuffle=True, random_state=0, method="hash"),
).fit(images, labels)
results = pd.DataFrame(search.cv_results_)[
    ["param_unfreeze", "mean_test_score", "std_test_score", "mean_fit_time"]
]
print(results.round(3).to_string(index=False))
print("best:", search.best_params_)

# %%
# Learning curves: the training loss per epoch of each depth, fit on all images.
curves = {
    depth: FineTunedImageClassifier(
        unfreeze=depth, max_epochs=epochs, cache=cache, random_state=0, progress=False
    )
    .fit(images, labels)
    .history_[:, "train_loss"]
    for depth in depths
}

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
positions = range(len(depths))
left.errorbar(
    positions,
    results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
    capsize=4,
)
left.set(
    xlabel="unfreeze (layer groups trained)",
    ylabel="3-fold accuracy",
    title="Cross-validated accuracy by freezing depth",
    xticks=positions,
    xticklabels=[str(depth) for depth in depths],
)
for depth, losses in curves.items():
    right.plot(range(1, len(losses) + 1), losses, marker=".", label=f"unfreeze={depth}")
right.set(xlabel="epoch", ylabel="training loss", title="Learning curves", yscale="log")
right.legend()
fig.tight_layout()
fig.savefig("finetuning.png", dpi=120)
