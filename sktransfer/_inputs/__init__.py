"""Input handling shared by every subpackage: one place, imported by all, importing none.

What users pass in becomes what the estimators work on here: image samples (paths, bytes,
PIL images, arrays) decoded to RGB, collections of them as lists, texts validated and
tokenized, files opened safely, failures recorded with the sample's index and path, and
the number of decoding threads. ``image``, ``text``, ``finetune``, ``model_selection``,
``serving`` and ``cli`` import from here; nothing here imports any of them.
"""

from ._files import image_endings, is_hidden, list_images, open_regular_file, same_path
from ._images import (
    as_sample_list,
    center_crop_resize,
    content_digest,
    describe_sample,
    load_failure,
    open_rgb,
)
from ._kinds import samples_and_kind
from ._texts import as_text_list, normalize_text, tokenize, tokenize_many
from ._threads import n_workers
from ._views import TTA_SETS, SeededAugment, View, resolve_views

__all__ = [
    "TTA_SETS",
    "SeededAugment",
    "View",
    "as_sample_list",
    "as_text_list",
    "center_crop_resize",
    "content_digest",
    "describe_sample",
    "image_endings",
    "is_hidden",
    "list_images",
    "load_failure",
    "n_workers",
    "normalize_text",
    "open_regular_file",
    "open_rgb",
    "resolve_views",
    "same_path",
    "samples_and_kind",
    "tokenize",
    "tokenize_many",
]
