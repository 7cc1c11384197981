"""
Tabular data with an image column: ColumnTransformer in pandas
==============================================================

Images usually arrive as a column of file paths in a table, beside numeric and categorical
columns. ``PretrainedImageFeaturizer`` takes that column in a ``ColumnTransformer`` like
any other transformer, ``set_output(transform="pandas")`` keeps every column named, and
``LeakageSafeKFold(column="path")`` finds copied images through the path column.

Data: handwritten digits from the MNIST test set, written as PNG and JPEG files into a
class-per-folder tree and read back with ``load_image_folder``; the side columns are what
such a table holds about its files (size in kB, format). On 600 digits, size and format
alone reach 0.26 (more ink compresses worse; chance is 0.10), the image column 0.90, and
permutation importance shows the side columns add nothing once the image is in.

Run: ``python examples/plot_tabular_images.py`` (writes ``tabular_images.png``).
"""

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer
from sktransfer.datasets import load_image_folder, load_mnist_sample
from sktransfer.model_selection import leakage_safe_train_test_split

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
digits, targets = load_mnist_sample()
n = 90 if FAST else 600

# %%
# A folder of image files, as a data team would receive it, then the table.
root = Path(tempfile.mkdtemp(prefix="sktransfer-digits-"))
for i in range(n):
    folder = root / str(targets[i])
    folder.mkdir(exist_ok=True)
    Image.fromarray(digits[i]).save(folder / f"{i}.{'png' if i % 3 else 'jpg'}")
table = load_image_folder(root)
table["size_kb"] = [os.path.getsize(p) / 1e3 for p in table["path"]]
table["format"] = table["path"].str.rsplit(".", n=1).str[1]
y = table.pop("label")
print(table.head())

# %%
# One ColumnTransformer: pretrained features for the path column, scaling and one-hot
# encoding for the others. The cache featurizes each file once across folds and models.
cache = tempfile.mkdtemp(prefix="sktransfer-cache-")
blocks = {
    "image": (PretrainedImageFeaturizer(cache=cache, progress=False), "path"),
    "numeric": (StandardScaler(), ["size_kb"]),
    "category": (OneHotEncoder(sparse_output=False), ["format"]),
}


def model(*names):
    columns = ColumnTransformer([(name, *blocks[name]) for name in names])
    return make_pipeline(columns, LogisticRegression(max_iter=2000)).set_output(transform="pandas")


# The splitter finds near copies with the pipeline's own featurizer: one pass, cached.
splitting = {"column": "path", "embedder": blocks["image"][0]}
cv = LeakageSafeKFold(3 if FAST else 5, shuffle=True, random_state=0, **splitting)
scores = {
    "size + format": cross_val_score(model("numeric", "category"), table, y, cv=cv),
    "image only": cross_val_score(model("image"), table, y, cv=cv),
    "image + size + format": cross_val_score(model(*blocks), table, y, cv=cv),
}
for name, fold_scores in scores.items():
    print(f"{name:>22}: accuracy {fold_scores.mean():.3f} ± {fold_scores.std():.3f}")

# %%
# The pandas output names every feature after its block and column; permutation importance
# on a held-out quarter (copies kept on one side) scores each column of the original table.
print(model(*blocks)[0].fit(table, y).get_feature_names_out()[[0, 1, -3, -2, -1]])
X_train, X_test, y_train, y_test = leakage_safe_train_test_split(
    table, y, stratify=y, random_state=0, **splitting
)
full = model(*blocks).fit(X_train, y_train)
importance = permutation_importance(full, X_test, y_test, n_repeats=5, random_state=0)
importance = pd.DataFrame(
    {"mean": importance.importances_mean, "std": importance.importances_std},
    index=table.columns,
)
print(importance.round(3))

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
means, stds = [s.mean() for s in scores.values()], [s.std() for s in scores.values()]
left.barh(list(scores), means, xerr=stds, capsize=4)
left.set(xlabel="leakage-safe CV accuracy", xlim=(0, 1), title="Which columns predict the digit")
right.bar(importance.index, importance["mean"], yerr=importance["std"], capsize=4)
right.set(ylabel="accuracy drop when shuffled", title="Permutation importance per column")
fig.savefig("tabular_images.png", dpi=110)
