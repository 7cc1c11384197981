"""Run every benchmark and write ``results.json`` and ``RESULTS.md`` beside this file.

Usage: ``python benchmarks/run.py [--quick] [--only SECTION] [--device cuda]``, SECTION one of
featurizer, selection, text, duplicates, finetune, text_finetune, text_transformer,
scale_out, runtime, diagnosis, multilabel, tta, augment, adaptation, finetune_selection,
finetune_defaults (needs
``pip install -e ".[bench]"``).
With ``--only``, the other sections keep their figures from the previous ``results.json``.
``--device cuda`` runs the image section on the GPU and files it as a section of its own,
beside the CPU figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import adaptation  # noqa: E402  (benchmarks are scripts, not a package)
import augment  # noqa: E402
import diagnosis  # noqa: E402
import duplicates  # noqa: E402
import featurizer  # noqa: E402
import finetune  # noqa: E402
import finetune_defaults  # noqa: E402
import finetune_selection  # noqa: E402
import multilabel  # noqa: E402
import runtime  # noqa: E402
import scale_out  # noqa: E402
import selection  # noqa: E402
import text  # noqa: E402
import text_finetune  # noqa: E402
import text_transformer  # noqa: E402
import tta  # noqa: E402

SECTIONS = (
    "featurizer",
    "selection",
    "text",
    "duplicates",
    "finetune",
    "text_finetune",
    "text_transformer",
    "scale_out",
    "runtime",
    "diagnosis",
    "multilabel",
    "tta",
    "augment",
    "adaptation",
    "finetune_selection",
    "finetune_defaults",
)


def machine() -> dict:
    import sktransfer

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "sktransfer": sktransfer.__version__,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def _missing_peers(figures: dict) -> list[str]:
    return [
        f"Peer not measured: {name}: {why}."
        for name, why in figures.get("peers_missing", {}).items()
    ]


def _featurizer_tables(figures: dict) -> list[str]:
    """The throughput, memory and ratio tables of one featurizer run (CPU or GPU)."""
    memory = figures.get("peak_memory_mb", {})
    return [
        "| measurement | images/s |",
        "|---|---|",
        *(f"| {k.replace('_', ' ')} | {v} |" for k, v in figures["images_per_s"].items()),
        "",
        *(
            ["| peak memory added while running | MiB |", "|---|---|"]
            + [f"| {k.replace('_', ' ')} | {v} |" for k, v in memory.items()]
            + [""]
            if memory
            else []
        ),
        "| ratio | measured | target |",
        "|---|---|---|",
        *(
            f"| {k.replace('_', ' ')} | {v} | {figures['targets'][k]} |"
            for k, v in figures["ratios"].items()
        ),
        "",
        *_missing_peers(figures),
    ]


def _transformer_tables(tt: dict) -> list[str]:
    lines = [
        "## Pretrained transformers for text (all-MiniLM-L6-v2, CPU)",
        "",
        "Test accuracy on one leakage-safe 80/20 split per dataset (the same for every model);",
        "the fine-tuned model's `unfreeze` chosen by a 3-fold GridSearchCV on the training part.",
        "",
        "| dataset | model | accuracy | fit s |",
        "|---|---|---|---|",
    ]
    for name, result in tt["accuracy"].items():
        for model, r in result["models"].items():
            extra = (
                f" (unfreeze={r['best_unfreeze']} of {r['grid']}, CV {r['cv_scores']})"
                if "best_unfreeze" in r
                else ""
            )
            lines.append(f"| {name} | {model}{extra} | {r['accuracy']:.4f} | {r['fit_seconds']} |")
    lines.append("")
    for name, result in tt["accuracy"].items():
        lines.append(
            f"- {name}: fine-tuned minus the better baseline "
            f"{result['fine_tuned_minus_best_baseline']:+.4f}; frozen MiniLM minus word "
            f"vectors {result['frozen_minus_word_vectors']:+.4f}."
        )
    th = tt["throughput"]
    rate = th["texts_per_second"]
    gc = tt["grid_cache"]
    lines += [
        "",
        f"Embedding {th['n_texts']:,} SMS messages (texts/s): TransformerTextEmbedder "
        f"{rate['ours']}, SentenceTransformer.encode {rate['sentence_transformers']}, pure "
        f"forward on pre-tokenized length-sorted batches {rate['forward']}: "
        f"{th['ours_vs_sentence_transformers']}x sentence-transformers, "
        f"{th['ours_vs_forward']}x the forward pass. Warm cache {th['warm_vs_cold']}x the "
        f"cold pass ({th['cold_seconds']} s -> {th['warm_seconds']} s).",
        "",
        f"GridSearchCV over unfreeze {gc['grid']} ({gc['n_texts']} CR sentences, 3 folds, "
        f"{gc['max_epochs']} epochs): {gc['cache']['seconds']} s with the frozen-layer cache, "
        f"{gc['no_cache']['seconds']} s with cache=None, {gc['speedup']}x; identical scores: "
        f"{gc['identical_scores']} ({gc['cache']['cv_scores']}). Mean fit seconds per "
        f"candidate: {gc['cache']['fit_seconds']} with, {gc['no_cache']['fit_seconds']} "
        "without.",
        "",
    ]
    return lines


def _runtime_tables(rt: dict | None) -> list[str]:
    if not rt:
        return []
    lines = [
        "## ONNX Runtime, int8 and the exported pipeline (CPU)",
        "",
        f"`PretrainedImageFeaturizer` on {rt['n_images']} JPEG files (400-1200 px), batch "
        f"{rt['batch_size']}, no cache; forward-only ceilings on tensors decoded beforehand; "
        "images/s.",
        "",
        "| backbone | torch e2e | ORT e2e | ORT / torch e2e | ORT / torch forward | "
        "ORT e2e / ORT ceiling (CPU bound) | int8 e2e | int8 / fp32 ORT e2e (forward) | "
        "dynamic int8 / fp32 forward | max abs diff (max feature) | export s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    footnote = [
        "",
        "CPU bound: decoding runs on the same CPUs as the forward pass, so no loader beats "
        "one image per (forward time + one-thread decoding time / CPUs); the column gives "
        "that bound over the forward ceiling.",
    ]
    for name, sp in rt["speed"].items():
        ips = sp["images_per_second"]
        lines.append(
            f"| {name} | {ips['torch_end_to_end']:.1f} | {ips['onnxruntime_end_to_end']:.1f} | "
            f"**{sp['onnxruntime_over_torch_end_to_end']:.2f}x** | "
            f"{sp['onnxruntime_over_torch_forward']:.2f}x | "
            f"{sp['onnxruntime_end_to_end_over_its_ceiling']:.2f} "
            f"({sp['cpu_bound_over_ceiling']:.2f}) | "
            f"{ips['int8_static_end_to_end']:.1f} | "
            f"{sp['int8_over_fp32_onnxruntime_end_to_end']:.2f}x "
            f"({sp['int8_over_fp32_onnxruntime_forward']:.2f}x) | "
            f"{sp['int8_dynamic_over_fp32_forward']:.2f}x | "
            f"{sp['max_abs_feature_difference']:.1e} ({sp['max_abs_feature']:.1f}) | "
            f"{sp['export_seconds']:.1f} |"
        )
    lines += footnote + [
        "",
        'Static int8 (`quantize="static"`, calibrated on the images passed to `fit`): '
        "linear probe (StandardScaler + LogisticRegression, leakage-safe 5-fold CV) on "
        "float32 and int8 features of the same images.",
        "",
        "| data | images | fp32 accuracy | int8 accuracy | change | feature correlation |",
        "|---|---|---|---|---|---|",
    ]
    for name, acc in rt["int8_accuracy"].items():
        lines.append(
            f"| {name} | {acc['n_images']} | {acc['fp32_accuracy']:.3f} | "
            f"{acc['int8_static_accuracy']:.3f} | {acc['change']:+.3f} | "
            f"{acc['feature_correlation']:.3f} |"
        )
    tx = rt["text"]
    tps, acc = tx["texts_per_second"], tx["probe_accuracy"]
    lines += [
        "",
        f"`TransformerTextEmbedder` (all-MiniLM-L6-v2) on {tx['n_texts']} real SMS messages: "
        f"torch {tps['torch']:.0f} texts/s, ONNX Runtime {tps['onnxruntime']:.0f} "
        f"(**{tx['onnxruntime_over_torch']:.2f}x**, largest difference "
        f"{tx['max_abs_difference']:.1e}), dynamic int8 {tps['int8_dynamic']:.0f} "
        f"({tx['int8_over_fp32_onnxruntime']:.2f}x fp32 ONNX Runtime; cosine to the float "
        f"embedding {tx['int8_cosine_min']:.3f} at worst, {tx['int8_cosine_median']:.3f} "
        f"median). Spam probe (LogisticRegression, leakage-safe 5-fold CV): "
        f"{acc['torch']:.4f} torch, {acc['onnxruntime']:.4f} ONNX Runtime, "
        f"{acc['int8_dynamic']:.4f} int8.",
    ]
    ex = rt["export"]
    lines += [
        "",
        f"Exported pipeline (EfficientNet-Lite0, StandardScaler, LogisticRegression, trained "
        f"on half of {ex['data']}): checked on {ex['n_checked']} held-out real images, "
        f"largest probability difference {ex['max_abs_probability_difference']:.1e}, same "
        f"class for {ex['argmax_agreement']:.1%}; {ex['onnx_bytes'] / 2**20:.1f} MiB "
        f"(the skops file: {ex['skops_bytes'] / 2**10:.0f} KiB, the weights install with "
        f"the package); export {ex['export_seconds']:.1f} s. Cold start of a fresh process "
        f"that loads the model and predicts one image: "
        f"{ex['cold_start_seconds_torch']:.2f} s from the skops file (torch), "
        f"**{ex['cold_start_seconds_onnxruntime']:.2f} s** from the ONNX file (no torch).",
        "",
    ]
    return lines


def _diagnosis_tables(dg: dict | None) -> list[str]:
    if not dg:
        return []
    lines = [
        "## Class weights and label issues",
        "",
        "Imbalanced real data: out-of-fold predictions (leakage-safe 5-fold CV) of the same "
        'fine-tuner with and without `class_weight="balanced"`.',
        "",
        "| data | samples (classes) | balanced accuracy, no weights | balanced accuracy, "
        "balanced | accuracy, no weights | accuracy, balanced |",
        "|---|---|---|---|---|---|",
    ]
    for name, task in dg["imbalance"].items():
        plain, balanced = task["scores"]["None"], task["scores"]["balanced"]
        classes = ", ".join(f"{k} {v}" for k, v in task["classes"].items())
        lines.append(
            f"| {name} | {task['n_samples']} ({classes}) | {plain['balanced_accuracy']:.3f} | "
            f"**{balanced['balanced_accuracy']:.3f}** | {plain['accuracy']:.3f} | "
            f"{balanced['accuracy']:.3f} |"
        )
    lines += [
        "",
        "`label_issues` with 5% of the labels flipped at random to another class: the "
        "flipped samples among those flagged (precision) and the flagged among the flipped "
        "(recall); and the precision of the 5% with the lowest out-of-fold probability of "
        "their given label (`top_losses`). Linear probes on EfficientNet-Lite0 features for "
        "images (for the digits also the fine-tuner with `unfreeze=1`, and an SVC on their "
        "pixels), TF-IDF for SMS; out of fold by "
        'leakage-safe 5-fold CV; `label_issues(filter_by="both")`, the default.',
        "",
        "| data | samples | flipped | out-of-fold accuracy | flagged | precision | recall | "
        "top 5% precision | CV s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in dg["label_issues"].items():
        lines.append(
            f"| {name} | {r['n_samples']} | {r['n_flipped']} | {r['out_of_fold_accuracy']:.3f} "
            f"| {r['n_flagged']} | **{r['precision']:.3f}** | **{r['recall']:.3f}** | "
            f"{r['top_5_percent_precision']:.3f} | {r['seconds']:.0f} |"
        )
    lines += [
        "",
        "`lr_find` on `FineTunedImageClassifier(unfreeze=1, max_epochs=10)` (100 batches on "
        "the cached frozen activations) against the best `lr` of a grid (3-fold CV log loss).",
        "",
        "The suggestion is the steepest fall of the loss; `lr_min` is a tenth of the rate "
        "of its lowest point, the older rule.",
        "",
        "| data | samples | lr_find s | suggestion | grid best lr | suggestion / best | "
        "lr_min | lr_min / best | grid s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in dg.get("lr_find", {}).items():
        lines.append(
            f"| {name} | {r['n_samples']} | {r['lr_find_seconds']:.1f} | "
            f"{r['suggestion']:.1e} | {r['grid_best_lr']:.0e} | **{r['ratio']:.2f}** | "
            f"{r['lr_min']:.1e} | {r['lr_min_ratio']:.2f} | {r['grid_seconds']:.0f} |"
        )
    return lines + [""]


def _model_table(datasets: dict, names, cell) -> list[str]:
    """A markdown table of models (rows, ``names``) by datasets (columns, the keys of
    ``datasets``), each cell ``cell(datasets[column], name)``."""
    lines = ["| model | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
    for name in names:
        cells = [cell(r, name) for r in datasets.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _accuracy_and_seconds(r: dict, name: str) -> str:
    return f"{r['accuracy'][name]:.3f} ({r['seconds'][name]:.0f} s)"


def _tta_tables(tt: dict | None) -> list[str]:
    if not tt:
        return []
    names = list(next(iter(tt.values()))["accuracy"])
    lines = [
        "## Test-time augmentation",
        "",
        "Mean accuracy over the same leakage-safe 5 folds. The probe averages the features "
        "of the views in training and prediction; the fine-tuner (`unfreeze=1`, trained once "
        "per fold) averages its probabilities over the views at prediction. Seconds: all "
        "folds, the fine-tuner's training included in each of its rows.",
        "",
        *_model_table(tt, names, _accuracy_and_seconds),
    ]
    return lines + [""]


def _adaptation_tables(ad: dict | None) -> list[str]:
    if not ad:
        return []
    first = next(iter(ad.values()))
    lines = [
        "## Domain adaptation",
        "",
        "`DomainAdversarialClassifier` against the same network trained on the source "
        f"alone ({', '.join(f'{k}={v}' for k, v in first['params'].items()) or 'defaults'}), "
        "`adaptation_scores`: half of the target images given to `fit` unlabelled "
        "(transductive), half never seen (inductive); target accuracy, mean over seeds "
        f"{[r['seed'] for r in first['runs']]}. Domain accuracy: the domain classifier's "
        "balanced accuracy in the last epoch (0.5: the features hide the domain).",
        "",
        "| shift | source / seen / unseen | source only: trans. / ind. | adapted: trans. / "
        "ind. | gain (ind.) | domain acc. | s/epoch ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in ad.items():
        m = r["mean"]
        lines.append(
            f"| {name} | {r['n_source']} / {r['n_target_seen']} / {r['n_target_unseen']} | "
            f"{m['source only transductive']:.3f} / {m['source only inductive']:.3f} | "
            f"{m['adapted transductive']:.3f} / {m['adapted inductive']:.3f} | "
            f"**{r['gain_inductive']:+.3f}** | {m['domain_accuracy']:.3f} | "
            f"{r['epoch_cost_ratio']:.2f}x |"
        )
    return lines + [""]


def _augment_tables(au: dict | None) -> list[str]:
    if not au:
        return []
    first = next(iter(au.values()))
    lines = [
        "## Augmentation at cache speed",
        "",
        f"`FineTunedImageClassifier(unfreeze=1, max_epochs={first['epochs']})`, "
        f"leakage-safe {first['folds']}-fold CV, the same folds for each model: mean "
        "accuracy, and seconds for all folds (the cached views computed in the first fold "
        "and read by the others).",
        "",
        *_model_table(
            au,
            first["models"],
            lambda r, name: (
                f"{r['models'][name]['accuracy']:.3f} ({r['models'][name]['seconds']:.0f} s)"
            ),
        ),
    ]
    speedups = ", ".join(
        f"{data} **{r['speedup_cached_over_on_the_fly']:.1f}x**" for data, r in au.items()
    )
    return lines + ["", f"Cached views against on the fly: {speedups}.", ""]


def _selection_tables(fs: dict | None) -> list[str]:
    if not fs:
        return []
    sets = {k: v for k, v in fs.items() if k != "lite2_grid"}
    first = next(iter(sets.values()))
    lines = [
        "## Cross-validated fine-tuning and ensembles against the linear probe",
        "",
        "Leakage-safe 3-fold outer CV, the same folds for every model: mean accuracy (seconds "
        "for all folds, one feature cache for everything). The fine-tune's depth is chosen by "
        "`GridSearchCV` over `unfreeze` [0, 1, 2] on inner leakage-safe 3-fold CV of each "
        'outer training part (nested). The vote: `VotingClassifier(voting="soft")` over the '
        "three probes.",
        "",
        *_model_table(sets, first["accuracy"], _accuracy_and_seconds),
    ]
    lines += [
        "| depth chosen per outer fold | "
        + " | ".join(", ".join(map(str, r["chosen_unfreeze"])) for r in sets.values())
        + " |",
        "",
        "Fine-tune minus its probe: "
        + ", ".join(f"{k} **{r['fine_tune_minus_probe']:+.3f}**" for k, r in sets.items())
        + "; vote minus the best single probe: "
        + ", ".join(f"{k} **{r['vote_minus_best_single']:+.3f}**" for k, r in sets.items())
        + ".",
    ]
    grid = fs.get("lite2_grid")
    if grid:
        cv = ", ".join(f"unfreeze={d}: {s:.3f}" for d, s in grid["cv_accuracy"].items())
        lines += [
            "",
            f"`GridSearchCV` over `unfreeze` [0, 1, 2] with `efficientnet_lite2` on "
            f"{grid['data']} (3 folds and the refit, cold cache): **{grid['seconds'] / 60:.1f} "
            f"min** ({cv}; chose {grid['best_unfreeze']}).",
        ]
    return lines + [""]


def _defaults_tables(fd: dict | None) -> list[str]:
    if not fd:
        return []
    sizes = ", ".join(f"{k} ({n})" for k, n in fd["data"].items())
    probe = ", ".join(f"{k} {a:.3f}" for k, a in fd["probe"].items())
    first = next(iter(fd["settings"].values()))
    cells = list(first["accuracy"])
    lines = [
        "## Choosing the fine-tuners' defaults (development data)",
        "",
        f"Data kept apart from the section above: {sizes}. `FineTunedImageClassifier` "
        "(`efficientnet_lite0`) at each `unfreeze` in [0, 1, 2], leakage-safe 3-fold CV, "
        f"against the linear probe on the same folds ({probe}). Score: mean accuracy minus "
        "the probe's over the datasets and depths (worst: the lowest of them). Stage 1 "
        "crosses `lr` and `max_epochs`; stage 2 changes one option from the best of stage 1; "
        "stage 3 combines the changes that helped.",
        "",
        "| setting | " + " | ".join(cells) + " | minus probe (worst) | s |",
        "|---|" + "---|" * (len(cells) + 2),
    ]
    for label, r in fd["settings"].items():
        name = f"**{label}**" if label == fd["chosen"] else label
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r['accuracy'][c]:.3f}" for c in cells)
            + f" | {r['minus_probe']:+.3f} ({r['worst_minus_probe']:+.3f}) | {r['seconds']:.0f} |"
        )
    return lines + ["", f"Before: {fd['before']}. Chosen: **{fd['chosen']}**.", ""]


def to_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"{m['date']}, {m['cores']} cores ({m['cpu']}), torch {m['torch']} with "
        f"{m['torch_threads']} threads, device {m['device']}. Throughput and loading "
        f"figures are medians of {results['repeats']} repeats; the training and grid-search "
        "runs (seconds to minutes each) are timed once. Every ratio is "
        "taken against a reference measured in the same run.",
        "",
    ]
    if results.get("rerun"):
        lines += [
            f"Re-run on this date, one at a time: {', '.join(results['rerun'])}; the other "
            "sections are from the previous full run.",
            "",
        ]
    f = results["featurizer"]
    lines += [
        f"## PretrainedImageFeaturizer ({f['backbone']}, {f['images']} JPEG files, "
        f"batch {f['batch_size']})",
        "",
        *_featurizer_tables(f),
        "Missed target: featurizer vs naive >= 10 cannot be reached on a CPU. A batch of one",
        "costs about as much per image as a batch of 32 there (the naive loop runs at",
        f"{f['images_per_s']['naive_per_image_loop']} images/s against a forward-only ceiling of",
        f"{f['images_per_s']['ceiling_forward_only']}), so no loader can be 10x faster than the",
        "naive loop. The gap that target describes is a GPU's, where one image per forward",
        "pass leaves the device idle: see the GPU section below.",
        "",
        "Peers: embetter runs the same network and weights one image at a time (with autograd",
        "on) and decodes every image of the call up front, so its memory grows with the",
        "number of images; img2vec batches like the featurizer but decodes on one thread.",
        "The featurizer's peak memory is its batch in flight (decoded images, input tensor,",
        "activations) and does not grow with the number of images (507 MiB for 128 images",
        "in a --quick run, 597 MiB for 384); `batch_size` trades it against speed.",
        "",
    ]
    gpu = results.get("featurizer_cuda")
    if gpu:
        g, gm = gpu["figures"], gpu["machine"]
        lines += [
            f"## PretrainedImageFeaturizer on a GPU ({gm['device']}, {gm['cores']} CPU cores, "
            f"torch {gm['torch']}, {gm['date']})",
            "",
            f"{g['images']} JPEG files, batch {g['batch_size']}; the ceiling and the naive loop",
            "run on the same GPU.",
            "",
            *_featurizer_tables(g),
            "On the GPU the network is no longer the bottleneck: decoding and resizing JPEGs on",
            "the CPU threads is (the forward pass alone runs about 7x faster than the files",
            "decode), so the ceiling ratio and the warm-cache ratio (bounded by hashing the files)",
            "measure the CPU side. Decoding on the GPU (`torchvision.io.decode_jpeg` on CUDA) is",
            "the way past it and is not built yet. Figures from a lent machine, run with",
            "`python benchmarks/run.py --device cuda`.",
            "",
        ]
    t = results["text"]
    lines += [
        f"## Word2VecEmbedder (GloVe 6B 50-d, mean pooling, {t['texts']} SMS texts of "
        f"{t['words_per_text']} words on average)",
        "",
        "| measurement | texts/s |",
        "|---|---|",
        *(f"| {k.replace('_', ' ')} | {v} |" for k, v in t["docs_per_s"].items()),
        "",
        "| loading 400k x 50 vectors | seconds |",
        "|---|---|",
        *(f"| {k.replace('_', ' ')} | {v} |" for k, v in t["load_seconds"].items()),
        "",
        "| ratio | measured | target |",
        "|---|---|---|",
        *(f"| {k.replace('_', ' ')} | {v} | {t['targets'][k]} |" for k, v in t["ratios"].items()),
        "",
        *_missing_peers(t),
        "embetter 0.9 has no word-vector encoder (its text encoders are sentence-transformers,",
        "model2vec and keras-nlp models), so it has no figure here. zeugma splits on spaces;",
        "the naive loop and the embedder see the same vectors held in memory.",
        "",
    ]
    sel = results.get("selection")
    if sel:
        lines += [
            f"## GridSearchCV downstream of the featurizer ({sel['images']} JPEG files, "
            f"{sel['candidates']} candidates x {sel['folds']} folds + refit)",
            "",
            "| run | seconds |",
            "|---|---|",
            *(f"| {k.replace('_', ' ')} | {v} |" for k, v in sel["seconds"].items()),
            "",
            "| ratio | measured | target |",
            "|---|---|---|",
            *(
                f"| {k.replace('_', ' ')} | {v} | {sel['targets'][k]} |"
                for k, v in sel["ratios"].items()
            ),
            "",
            f"Best cross-validated accuracy {sel['best_score_cache']} with the cache, "
            f"{sel['best_score_no_cache']} without: the cache changes the time, not the result.",
            "",
        ]
    d = results.get("duplicates")
    if d:
        im, tx = d["images"], d["texts"]
        peer = im["imagehash_phash_all_pairs"]
        lines += [
            "## find_duplicates",
            "",
            "| measurement | sktransfer | peer, same run |",
            "|---|---|---|",
            f"| {im['images']:,} MNIST images ({im['planted_copies']:,} planted copies): seconds "
            f"| {im['seconds']} | imagehash pHash + all pairs: {peer['seconds']} |",
            f"| planted image copies found | {im['planted_recall']:.1%} "
            f"| imagehash: {peer['planted_recall']:.1%} |",
            f"| unmodified digits merged with another | {im['originals']['merged_fraction']:.2%}"
            f" (largest group {im['originals']['largest_group']}) "
            f"| imagehash: {peer['originals_merged_fraction']:.1%} |",
            f"| {tx['texts']:,} texts ({tx['planted_copies']:,} planted copies): seconds "
            f"| {tx['seconds']} | datasketch MinHashLSH: {tx['datasketch_minhash_lsh_seconds']};"
            f" exact all-pairs Jaccard: {tx['all_pairs_jaccard_seconds']} |",
            f"| planted text copies found | {tx['planted_recall']:.1%} | |",
            "",
            "imagehash's 64-bit pHash, at its customary 10-bit threshold, puts almost every",
            "MNIST digit within reach of another: small, centred images share their low",
            "frequencies. sktransfer's 256-bit code, taken in a frame fixed by each image's",
            "intensity moments, keeps distinct digits apart. Texts are compared by 5-gram",
            "Jaccard (what datasketch does) and, for 8 words or more, by word edits, which",
            "find the planted copies with a word dropped that the 5-grams miss.",
            "",
        ]
        me = d.get("mnist_edits")
        if me:
            lines += [
                f"MNIST by change: {me['images']:,} digits and copies ({me['planted_copies']:,} "
                f"planted, 10 edits of each source), grouped by hash in {me['seconds']} s:",
                "",
                "| " + " | ".join(me["recall"]) + " |",
                "|" + "---|" * len(me["recall"]),
                "| " + " | ".join(f"{r:.3f}" for r in me["recall"].values()) + " |",
                "",
                "A 0.3x rescale leaves an 8-px digit, too small for a perceptual code: it is",
                "matched as a thumbnail, against the collection scaled down to 8 px (bicubic).",
                "Mirror images and turns are found through probe codes (the code mirrored,",
                "the frame turned by +-2.5 and +-5 degrees).",
                "",
            ]
            th = me.get("thumbnails")
            if th:
                lines += [
                    "8-px shrinks of the 300 sources by each PIL filter, found: "
                    + ", ".join(f"{k} {v:.3f}" for k, v in th.items() if k != "left_out_joined")
                    + f"; shrinks of 300 digits left out of the collection that join one: "
                    f"{th['left_out_joined']:.1%}.",
                    "",
                ]
        pets = d.get("pets")
        if pets:
            methods = ["hash", "embedding", "both"]
            lines += [
                f"{pets['photos']:,} pet photos with {pets['planted_copies']:,} planted copies "
                f"(features computed once: {pets['featurize_seconds']} s), recall by method:",
                "",
                "| change | " + " | ".join(methods) + " |",
                "|---|" + "---|" * len(methods),
                *(
                    f"| {edit} | "
                    + " | ".join(f"{pets[m]['recall'][edit]:.3f}" for m in methods)
                    + " |"
                    for edit in pets["hash"]["recall"]
                ),
                "| photos in a group (the 18 byte-identical pairs are 2.00%) | "
                + " | ".join(f"{pets[m]['originals']['merged_fraction']:.2%}" for m in methods)
                + " |",
                "| seconds, features cached | "
                + " | ".join(str(pets[m]["seconds_cached"]) for m in methods)
                + " |",
                "",
            ]
        for name, st in d.get("sentences", {}).items():
            edits = list(st["default"]["recall"])
            lines += [
                f"{name}: {st['texts']:,} distinct sentences with {st['planted_copies']:,} planted "
                "copies of those of 8+ words, recall by change:",
                "",
                "| measure | " + " | ".join(edits) + " | distinct merged | seconds |",
                "|---|" + "---|" * (len(edits) + 2),
                *(
                    f"| {label} | "
                    + " | ".join(f"{st[label]['recall'][e]:.3f}" for e in edits)
                    + f" | {st[label]['originals']['merged_fraction']:.2%}"
                    + f" | {st[label]['seconds']} |"
                    for label in ["5-grams", "default", "embedding"]
                    if label in st
                ),
                "",
            ]
        sc = d.get("embedding_scale")
        if sc:
            lines += [
                f"Embedding pairs at cosine 0.85 among {sc['vectors']:,} {sc['dimensions']}-d "
                f"vectors (mixtures of two real pet-photo features each, "
                f"{sc['bounded_pairs']:,} pairs): {sc['bounded_seconds']} s with 128-d bounds "
                f"first, {sc['all_products_seconds']} s with all products "
                f"({sc['speedup']}x); pairs found by one and not the other: "
                f"{sc['pairs_differing']}"
                + (
                    f", all within {sc['differing_max_distance_to_threshold']:.0e} of the "
                    "threshold (float32 sums in another order)."
                    if sc.get("differing_max_distance_to_threshold") is not None
                    else "."
                ),
                "",
            ]
    ft = results.get("finetune")
    if ft:
        lines += [
            f"## FineTunedImageClassifier vs plain skorch ({ft['images']} LFW images, "
            "efficientnet_lite0, AdamW, batch 32)",
            "",
            "| run | plain skorch s | sktransfer s | speed-up | target | accuracy plain / ours |",
            "|---|---|---|---|---|---|",
        ]
        for key, label, target in [
            ("unfreeze_0", f"unfreeze=0, {ft['epochs']} epochs", "unfreeze_0"),
            ("unfreeze_1", f"unfreeze=1, {ft['epochs']} epochs", "unfreeze_1"),
            (
                "grid_unfreeze_0_1_2_cv3",
                f"GridSearchCV unfreeze 0/1/2, 3-fold, {ft['grid_epochs']} epochs",
                "grid",
            ),
        ]:
            r = ft[key]
            accuracy = (
                f"{r['plain_skorch_accuracy']} / {r['sktransfer_accuracy']}"
                if "sktransfer_accuracy" in r
                else f"best unfreeze={r['best_unfreeze']}"
            )
            lines.append(
                f"| {label} | {r['plain_skorch_seconds']} | {r['sktransfer_seconds']} | "
                f"{r['speedup']}x | {ft['targets'][target]} | {accuracy} |"
            )
        lines += [
            "",
            "The plain loop runs the frozen trunk on every epoch and leaves its BatchNorm",
            "layers in training mode (their statistics drift on small batches, hence its lower",
            "accuracy); sktransfer computes the frozen part once, in eval mode, through the",
            "featurizer and its cache, and trains only the top.",
            "",
        ]
    tf = results.get("text_finetune")
    if tf:
        lines += [
            f"## FineTunedTextClassifier on SMS spam ({tf['texts']:,} messages, "
            f"{tf['n_splits']}-fold LeakageSafeKFold, {tf['max_epochs']} epochs, CPU)",
            "",
            "| model | accuracy (mean ± sd over folds) | fit s per fold |",
            "|---|---|---|",
            *(
                f"| {name} | {r['accuracy_mean']:.4f} ± {r['accuracy_std']:.4f} "
                f"| {r['fit_seconds_mean']} |"
                for name, r in tf["models"].items()
            ),
            "",
            f"Training the default model (cnn, fine-tuned GloVe) on all {tf['texts']:,} "
            f"messages: {tf['cnn_all_messages_fit_seconds']} s. Targets: cnn fine-tuned "
            f"{tf['targets']['cnn, fine-tuned']}; that fit "
            f"{tf['targets']['cnn_all_messages_fit_seconds']}.",
            "",
        ]
    tt = results.get("text_transformer")
    if tt:
        lines += _transformer_tables(tt)
    lines += _runtime_tables(results.get("runtime"))
    lines += _diagnosis_tables(results.get("diagnosis"))
    ml = results.get("multilabel")
    if ml:
        lines += [
            f"## Multi-label: MNIST digit pairs ({ml['n_train']} training, {ml['n_test']} test "
            "images; the labels: the digits present)",
            "",
            "| model | micro-F1 | subset accuracy | fit s |",
            "|---|---|---|---|",
            *(
                f"| {name} | **{r['micro_f1']:.3f}** | {r['subset_accuracy']:.3f} | "
                f"{r['fit_seconds']:.0f} |"
                for name, r in ml["models"].items()
            ),
            "",
        ]
    lines += _tta_tables(results.get("tta"))
    lines += _augment_tables(results.get("augment"))
    lines += _adaptation_tables(results.get("adaptation"))
    lines += _selection_tables(results.get("finetune_selection"))
    lines += _defaults_tables(results.get("finetune_defaults"))
    so = results.get("scale_out")
    if so:
        lines += [
            "## On a Dask LocalCluster (worker processes of one thread each)",
            "",
            f"Grid search: {so['search_images']} JPEG files, {so['candidates']} candidates x "
            f"{so['folds']} folds + refit, `GridSearchCV(n_jobs=-1)` under "
            f'`parallel_backend("dask")`. Featurizing: {so["featurize_images"]} JPEG files '
            "in 8 partitions through `sktransfer.dask.featurize_to_parquet`.",
            "",
            "| run | seconds |",
            "|---|---|",
            *(f"| {k.replace('_', ' ')} | {v} |" for k, v in so["seconds"].items()),
            "",
            "| featurizing | images/s |",
            "|---|---|",
            *(f"| {k.replace('_', ' ')} | {v} |" for k, v in so["images_per_s"].items()),
            "",
            "| ratio | measured |",
            "|---|---|",
            *(f"| {k.replace('_', ' ')} | {v} |" for k, v in so["ratios"].items()),
            "",
            f"Best scores {so['best_scores']}: the cluster changes the time, not the result;",
            "the parquet features differ from the in-process ones by at most "
            f"{so['parquet_vs_in_process_max_abs_difference']:.1e}. One worker (one torch",
            "thread plus the featurizer's decoding threads) already keeps both cores busy: it",
            "is as fast as the in-process run with torch on both cores. A second worker process",
            "on the same 2 cores only adds contention, a second copy of the network and the",
            "scheduler's round trips, so these ratios are below 1 here; what a cluster adds is",
            "the cores of more machines, which this 2-core machine cannot measure.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    parser.add_argument("--only", choices=SECTIONS, help="run one section, keep the others")
    parser.add_argument("--device", default="cpu", help="cuda: the image section on a GPU")
    args = parser.parse_args()
    repeats = 3
    previous = HERE / "results.json"
    keep = args.only or args.device != "cpu"
    results = json.loads(previous.read_text()) if keep and previous.exists() else {}
    sizes = {"n_images": 128, "n_naive": 32} if args.quick else {"n_images": 384, "n_naive": 64}
    if args.device != "cpu":
        results["featurizer_cuda"] = {
            "machine": machine(),
            "figures": featurizer.run(repeats=repeats, device=args.device, **sizes),
        }
        args.only = "none"  # the CPU sections stay as they were
    else:
        rerun = results.pop("only", None)  # the key of earlier versions of this file
        rerun = [rerun] if isinstance(rerun, str) else results.get("rerun", [])
        rerun = sorted({*rerun, args.only}) if args.only else []
        results.update(
            {"machine": machine(), "quick": args.quick, "repeats": repeats, "rerun": rerun}
        )
    if args.only in (None, "featurizer"):
        results["featurizer"] = featurizer.run(repeats=repeats, **sizes)
    if args.only in (None, "selection"):
        results["selection"] = selection.run(n_images=48 if args.quick else 96)
    if args.only in (None, "text"):
        results["text"] = text.run(copies=1 if args.quick else 4, repeats=repeats)
    if args.only in (None, "finetune"):
        sizes = {"n_images": 32, "epochs": 5, "grid_epochs": 2} if args.quick else {}
        results["finetune"] = finetune.run(**sizes)
    if args.only in (None, "duplicates"):
        results["duplicates"] = duplicates.run(repeats=1 if args.quick else repeats)
    if args.only in (None, "text_finetune"):
        sizes = {"n_splits": 3, "max_epochs": 2, "limit": 1500} if args.quick else {}
        results["text_finetune"] = text_finetune.run(**sizes)
    if args.only in (None, "text_transformer"):
        results["text_transformer"] = text_transformer.run(quick=args.quick)
    if args.only in (None, "scale_out"):
        sizes = {"n_search": 24, "n_featurize": 64} if args.quick else {}
        results["scale_out"] = scale_out.run(**sizes)
    if args.only in (None, "runtime"):
        results["runtime"] = runtime.run(n_images=128 if args.quick else 256, repeats=repeats)
    if args.only in (None, "diagnosis"):
        results["diagnosis"] = diagnosis.run()
    if args.only in (None, "multilabel"):
        results["multilabel"] = multilabel.run()
    if args.only in (None, "tta"):
        results["tta"] = tta.run()
    if args.only in (None, "augment"):
        results["augment"] = augment.run()
    if args.only in (None, "adaptation"):
        results["adaptation"] = adaptation.run()
    if args.only in (None, "finetune_selection"):
        results["finetune_selection"] = finetune_selection.run()
    if args.only in (None, "finetune_defaults"):
        results["finetune_defaults"] = finetune_defaults.run()
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(to_markdown(results))
    print(to_markdown(results))


if __name__ == "__main__":
    main()
