"""
Quickstart: pretrained features in a scikit-learn pipeline
==========================================================

A pretrained network turns each photo into a 1280-number vector that already separates
what ImageNet taught it to see. Here it tells faces from non-faces in scikit-image's LFW
subset (200 real 25x25 photos) far better than the raw pixels do, with a plain
``LogisticRegression`` on top, under 5-fold cross-validation.

Run: ``python examples/plot_quickstart.py`` (writes ``quickstart.png``).
"""

# %%
# Data: 100 faces, then 100 non-faces.
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from skimage.data import lfw_subset
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sktransfer import PretrainedImageFeaturizer

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
images = lfw_subset()
labels = np.array(["face"] * 100 + ["not face"] * 100)
if FAST:
    images, labels = images[::4], labels[::4]

# %%
# Two pipelines, the same classifier: raw pixels vs pretrained features. The feature
# cache featurizes each image once, however many folds see it.
cache = tempfile.mkdtemp(prefix="sktransfer-quickstart-")
raw = make_pipeline(
    FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1)),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
)
pretrained = make_pipeline(
    PretrainedImageFeaturizer(cache=cache, progress=False), LogisticRegression(max_iter=2000)
)
cv = StratifiedKFold(5, shuffle=True, random_state=0)
scores = {
    "raw pixels": cross_val_score(raw, images, labels, cv=cv),
    "efficientnet_lite0 features": cross_val_score(pretrained, images, labels, cv=cv),
}
for name, s in scores.items():
    print(f"{name:>28}: accuracy {s.mean():.3f} ± {s.std():.3f}")

# %%
# What the features look like: a 2-D PCA projection of the pretrained features beside the
# cross-validated accuracies.
features = pretrained[0].fit_transform(images)
projected = PCA(2, random_state=0).fit_transform(features)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
for label, marker in (("face", "o"), ("not face", "x")):
    mask = labels == label
    left.scatter(projected[mask, 0], projected[mask, 1], marker=marker, label=label, alpha=0.7)
left.set(title="Pretrained features, first two principal components", xlabel="PC 1", ylabel="PC 2")
left.legend()
names = list(scores)
right.bar(names, [scores[n].mean() for n in names], yerr=[scores[n].std() for n in names])
right.set(ylim=(0.5, 1.0), title="5-fold cross-validated accuracy", ylabel="accuracy")
fig.tight_layout()
fig.savefig("quickstart.png", dpi=100)
print("wrote quickstart.png")
