"""
Word vectors for text classification: SMS spam
==============================================

Pretrained GloVe vectors turn each SMS into a 50-number vector that carries what its words
mean, including words the classifier never saw in training. This example compares them with
TF-IDF on the SMS Spam Collection (5,574 real messages, 13% spam) under 5-fold stratified
cross-validation, tries each pooling, combines both feature sets in a ``FeatureUnion``, and
shows where pretrained vectors help most: when labelled data is scarce.

Run: ``python examples/plot_text_spam.py`` (writes ``text_spam.png``).
"""

# %%
# Data: the SMS Spam Collection, installed with sktransfer (``load_sms_spam``).
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, learning_curve
from sklearn.pipeline import make_pipeline, make_union

from sktransfer import Word2VecEmbedder
from sktransfer.datasets import load_sms_spam

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
sms = load_sms_spam()
if FAST:
    sms = sms.sample(1000, random_state=0)
texts, labels = sms["text"], sms["label"]
print(f"{len(sms)} messages, {labels.eq('spam').mean():.1%} spam")

# %%
# The same classifier on five feature sets. ``fit`` of the embedder learns only from each
# training fold (idf for "tfidf", word frequencies and the common component for "sif").
classifier = LogisticRegression(max_iter=1000)
models = {
    "TF-IDF": make_pipeline(TfidfVectorizer(), classifier),
    "GloVe mean": make_pipeline(Word2VecEmbedder(), classifier),
    "GloVe tfidf-weighted": make_pipeline(Word2VecEmbedder(pooling="tfidf"), classifier),
    "GloVe SIF": make_pipeline(Word2VecEmbedder(pooling="sif"), classifier),
    "TF-IDF + GloVe mean": make_pipeline(
        make_union(TfidfVectorizer(), Word2VecEmbedder()), classifier
    ),
}
cv = StratifiedKFold(5, shuffle=True, random_state=0)
scores = {name: cross_val_score(model, texts, labels, cv=cv) for name, model in models.items()}
for name, s in scores.items():
    print(f"{name:22s} {s.mean():.3f} ± {s.std():.3f}")

# %%
# Where transfer pays off: with few labelled messages, the pretrained vectors know words the
# training set has never shown TF-IDF. A learning curve, on the same folds.
sizes = np.array([0.1, 0.25, 0.5, 1.0] if FAST else [0.02, 0.05, 0.1, 0.25, 0.5, 1.0])
curves = {}
for name in ("TF-IDF", "GloVe mean", "TF-IDF + GloVe mean"):
    n_train, _, test_scores = learning_curve(
        models[name], texts, labels, train_sizes=sizes, cv=cv, shuffle=True, random_state=0
    )
    curves[name] = (n_train, test_scores.mean(axis=1))
    print(f"{name:22s}", " ".join(f"{n}:{a:.3f}" for n, a in zip(*curves[name], strict=True)))

# %%
# What the embedder sees: the mean GloVe vectors projected on their first two principal
# components. Spam gathers on one side without any training on labels.
embedded = Word2VecEmbedder(normalize=True).fit_transform(texts)
projected = PCA(2, random_state=0).fit_transform(embedded)

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.2))
names = list(scores)
means = [scores[n].mean() for n in names]
left.barh(names, means, xerr=[scores[n].std() for n in names], color="tab:blue")
left.set_xlim(min(means) - 0.03, 1.0)
left.set_xlabel("accuracy, 5-fold stratified CV")
left.set_title(f"always 'ham' would score {labels.eq('ham').mean():.3f}")
left.invert_yaxis()
for name, (n_train, accuracy) in curves.items():
    middle.plot(n_train, accuracy, marker="o", label=name)
middle.set_xscale("log")
middle.set_xlabel("labelled training messages")
middle.set_ylabel("accuracy")
middle.legend()
for label, color in (("ham", "tab:gray"), ("spam", "tab:red")):
    mask = (labels == label).to_numpy()
    right.scatter(*projected[mask].T, s=6, alpha=0.5, color=color, label=label)
right.set_title("GloVe mean embeddings, PCA")
right.legend()
fig.tight_layout()
fig.savefig("text_spam.png", dpi=120)
print("wrote text_spam.png")
