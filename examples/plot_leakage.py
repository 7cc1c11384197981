"""
Leakage-safe cross-validation: copies must not straddle folds
=============================================================

The SMS Spam Collection holds 403 messages that repeat an earlier one word for word, and
many more made from one template with another phone number. A plain (stratified) KFold
puts copies on both sides of a split, so the model is tested on messages it has already
seen. This example measures that leak with ``cv_leakage_report``, then scores two models
under ``StratifiedKFold`` and under ``LeakageSafeKFold``, which keeps every group of copies
in one fold. A nearest-neighbour model, which memorises, gains the most from the leak.

Run: ``python examples/plot_leakage.py`` (writes ``leakage.png``).
"""

# %%
# Data: the SMS Spam Collection, installed with sktransfer (``load_sms_spam``).
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from sktransfer.datasets import load_sms_spam
from sktransfer.model_selection import LeakageSafeKFold, cv_leakage_report, leakage_report

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
sms = load_sms_spam()
if FAST:
    sms = sms.iloc[:1500]
texts, labels = sms["text"], sms["label"]

# %%
# Which messages copy an earlier one? Exact copies are equal after case folding and
# punctuation/whitespace normalisation; near copies share >= 80% of their character
# 5-grams once digits are masked, or (8 words or more) differ by a few words.
report = leakage_report(texts)
print(report.attrs["summary"])
print(report[report["kind"] == "near"][["sample", "match", "similarity"]].head(3).to_string())

# %%
# How much of each test fold has a copy in its training folds?
splitters = {
    "StratifiedKFold": StratifiedKFold(5, shuffle=True, random_state=0),
    "LeakageSafeKFold": LeakageSafeKFold(5, shuffle=True, random_state=0),
}
leaks = {name: cv_leakage_report(texts, cv, labels) for name, cv in splitters.items()}
for name, leak in leaks.items():
    print(f"{name}: {leak['leaked'].sum()} test messages with a copy in training")

# %%
# Scores under each splitter. Every transformer (here TF-IDF's vocabulary and idf) is fit
# inside each training fold by the pipeline, so the copies are the only leak left.
models = {
    "TF-IDF + logistic regression": make_pipeline(
        TfidfVectorizer(), LogisticRegression(max_iter=1000)
    ),
    "TF-IDF + 1-nearest neighbour": make_pipeline(TfidfVectorizer(), KNeighborsClassifier(1)),
}
scores = pd.DataFrame(
    {
        name: {
            model_name: cross_val_score(model, texts, labels, cv=cv).mean()
            for model_name, model in models.items()
        }
        for name, cv in splitters.items()
    }
)
print(scores.round(4).to_string())

# %%
# Plot: the leak per fold, and what it does to the scores.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
width = 0.38
for k, (name, leak) in enumerate(leaks.items()):
    left.bar(leak["fold"] + (k - 0.5) * width, 100 * leak["leaked_fraction"], width, label=name)
top = 100 * max(leak["leaked_fraction"].max() for leak in leaks.values())
left.set(xlabel="fold", ylabel="test messages with a copy in training (%)", ylim=(0, 1.35 * top))
left.set_title("Copies on both sides of the split")
left.legend(loc="upper center", ncol=2)
scores.plot.barh(ax=right, xlim=(0.85, 1.0), title="5-fold accuracy")
right.set(xlabel="accuracy")
fig.tight_layout()
fig.savefig("leakage.png", dpi=120)
