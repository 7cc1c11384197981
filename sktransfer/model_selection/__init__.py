"""Leakage-safe model selection: duplicate-aware splitters and a leakage report.

Copies of one sample on both sides of a split inflate every score. :func:`find_duplicates`
labels exact and near copies of images or texts; :class:`LeakageSafeKFold` and
:func:`leakage_safe_train_test_split` keep each group of copies on one side;
:func:`leakage_report` and :func:`cv_leakage_report` show what a split leaks, and
:func:`plot_leakage_pairs` draws the pairs for a human to check. :func:`adaptation_scores`
scores domain adaptation on target images seen unlabelled and never seen.
"""

from ._adaptation import adaptation_scores
from ._duplicates import find_duplicates
from ._plot import plot_leakage_pairs
from ._report import cv_leakage_report, leakage_report
from ._split import LeakageSafeKFold, leakage_safe_train_test_split

__all__ = [
    "LeakageSafeKFold",
    "adaptation_scores",
    "cv_leakage_report",
    "find_duplicates",
    "leakage_report",
    "leakage_safe_train_test_split",
    "plot_leakage_pairs",
]
