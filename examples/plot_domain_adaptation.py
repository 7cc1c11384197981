"""
Domain adaptation: digits on photos, learned from plain digits and unlabelled photos
====================================================================================

A model trained on one kind of image often meets another at prediction time. Here the
labelled *source* domain is handwritten MNIST digits; the *target* domain is other digits
blended onto patches of real colour photos (the MNIST-M construction of Ganin &
Lempitsky, 2015, with scikit-image's photos): same task, other looks, and no labels.

:class:`~sktransfer.finetune.DomainAdversarialClassifier` fine-tunes the top of a pretrained
backbone on the labelled digits while a domain classifier, behind a gradient-reversal
layer, pushes the features of both domains together. Unlabelled target images are rows
of ``X`` labelled -1. :func:`~sktransfer.model_selection.adaptation_scores` scores it
honestly: on target images it saw unlabelled (transductive) and on target images it never
saw (inductive), beside the same network trained on the source alone. A 2-D projection
of the features shows the two domains before and after adaptation.

Run: ``python examples/plot_domain_adaptation.py`` (writes ``domain_adaptation.png``).
"""

# %%
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from sktransfer.datasets import blend_onto_photos, load_mnist_sample
from sktransfer.finetune import DomainAdversarialClassifier
from sktransfer.model_selection import adaptation_scores

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
digits, labels = load_mnist_sample()
n = 100 if FAST else 1000
source, y_source = digits[:n], labels[:n]
target = blend_onto_photos(digits[n : 2 * n], random_state=0)  # other digits, on photos
y_target = labels[n : 2 * n]  # used only to score

# %%
# Half of the target images are given to ``fit`` unlabelled; the other half are never seen.
model = DomainAdversarialClassifier(
    max_epochs=2 if FAST else 10,
    cache=tempfile.mkdtemp(prefix="sktransfer-example-"),  # both models share the trunk
    random_state=0,
    progress=False,
)
scores, fitted = adaptation_scores(
    model,
    list(source),
    y_source,
    list(target),
    y_target,
    random_state=0,
    return_estimators=True,
)
print(scores.round(3).to_string())

# %%
# The features both heads read, projected on the same two principal axes.
sample = np.random.default_rng(0).choice(n, min(n, 300), replace=False)
images = list(source[sample]) + list(target[sample])
domain = np.repeat([0, 1], len(sample))
embedded = {name: m.embed(images) for name, m in fitted.items()}

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
kinds = ["transductive", "inductive"]
width = 0.38
for k, name in enumerate(["source only", "adapted"]):
    axes[0].bar(np.arange(2) + (k - 0.5) * width, scores.loc[name, kinds], width, label=name)
axes[0].set(
    xticks=range(2),
    xticklabels=kinds,
    ylim=(0, 1),
    ylabel="target accuracy",
    title="Digits on photos, no target labels",
)
axes[0].legend()
for ax, name in zip(axes[1:], ["source only", "adapted"], strict=True):
    points = PCA(2, random_state=0).fit_transform(embedded[name])
    for d, (label, colour) in enumerate([("MNIST", "tab:blue"), ("on photos", "tab:orange")]):
        ax.scatter(*points[domain == d].T, s=6, alpha=0.6, c=colour, label=label)
    ax.set(title=f"Features, {name}", xticks=[], yticks=[])
    ax.legend(markerscale=3)
fig.tight_layout()
fig.savefig("domain_adaptation.png", dpi=100)
