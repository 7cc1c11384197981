"""
Fine-tuning word vectors: a spam classifier that starts from GloVe
==================================================================

``FineTunedTextClassifier`` builds an embedding of the training vocabulary, initialised
from pretrained GloVe vectors, and trains an encoder and a linear head on top with skorch.
This example trains the three encoders ("mean", Kim's "cnn", "bilstm") with the vectors
frozen and fine-tuned on the SMS Spam Collection, split so that repeated messages never
straddle train and test, follows the validation accuracy epoch by epoch, and looks at what
fine-tuning did to the vectors: which words moved, and what "free" is now close to.

Run: ``python examples/plot_text_finetuning.py`` (writes ``text_finetuning.png``).
"""

# %%
# Data: the SMS Spam Collection, installed with sktransfer (``load_sms_spam``), split 80/20
# without leaking duplicates.
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sktransfer.datasets import load_sms_spam
from sktransfer.finetune import FineTunedTextClassifier
from sktransfer.model_selection import leakage_safe_train_test_split
from sktransfer.text import load_vectors

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"  # the test suite's quick mode
sms = load_sms_spam()
if FAST:
    sms = sms.sample(600, random_state=0)
X_train, X_test, y_train, y_test = leakage_safe_train_test_split(
    sms["text"], sms["label"], test_size=0.2, stratify=sms["label"], random_state=0
)
print(f"{len(X_train)} training and {len(X_test)} test messages")

# %%
# Every encoder, with GloVe frozen and fine-tuned. ``early_stopping`` holds out a
# stratified tenth of the training messages, stops after 3 epochs without progress on its
# loss and restores the best weights; skorch's history records the validation accuracy.
encoders = ["mean", "cnn"] if FAST else ["mean", "cnn", "bilstm"]
models, scores = {}, {}
for encoder in encoders:
    for freeze in (True, False):
        name = f"{encoder}, {'frozen' if freeze else 'fine-tuned'}"
        models[name] = FineTunedTextClassifier(
            encoder=encoder,
            freeze_embeddings=freeze,
            max_epochs=3 if FAST else 20,
            early_stopping=3,
            random_state=0,
        ).fit(X_train, y_train)
        scores[name] = models[name].score(X_test, y_test)
        print(f"{name:20s} test accuracy {scores[name]:.4f}")
cnn = models["cnn, fine-tuned"]
print(f"vocabulary {len(cnn.vocabulary_):,} words, {cnn.coverage_:.1%} of tokens in GloVe")

# %%
# What fine-tuning changed: the distance each word's vector travelled from its GloVe
# starting point, and the nearest training-vocabulary neighbours of "free" before and after.
glove = load_vectors()
words = [w for w in cnn.vocabulary_ if w in glove.key_to_index]
rows = [cnn.vocabulary_[w] for w in words]
tuned = cnn.net_.module_.embedding.weight.detach().cpu().numpy()[rows]
start = glove[words]
moved = np.linalg.norm(tuned - start, axis=1) / np.linalg.norm(start, axis=1)
top = np.argsort(moved)[::-1][:12]
print("moved most:", ", ".join(f"{words[i]} ({moved[i]:.2f})" for i in top))


def neighbours(matrix: np.ndarray, word: str, k: int = 8) -> list[str]:
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    similarity = unit @ unit[words.index(word)]
    return [words[i] for i in np.argsort(similarity)[::-1][1 : k + 1]]


if "free" in words:
    print("'free' near, GloVe:     ", ", ".join(neighbours(start, "free")))
    print("'free' near, fine-tuned:", ", ".join(neighbours(tuned, "free")))

# %%
# Validation accuracy per epoch, test accuracy of each model, and the words that moved most.
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.5))
for name, model in models.items():
    history = model.history_
    left.plot(
        history[:, "epoch"],
        history[:, "valid_acc"],
        marker="o",
        linestyle="-" if "fine-tuned" in name else "--",
        label=name,
    )
left.set_xlabel("epoch")
left.set_ylabel("validation accuracy")
left.legend(fontsize=8)
names = list(scores)
middle.barh(names, [scores[n] for n in names], color="tab:blue")
middle.set_xlim(min(scores.values()) - 0.02, 1.0)
middle.set_xlabel("test accuracy (leakage-safe 80/20 split)")
middle.invert_yaxis()
right.barh([words[i] for i in top], moved[top], color="tab:orange")
right.set_xlabel("relative distance from the GloVe vector")
right.set_title("words fine-tuning moved most (cnn)")
right.invert_yaxis()
fig.tight_layout()
fig.savefig("text_finetuning.png", dpi=120)
print("wrote text_finetuning.png")
