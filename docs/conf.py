"""Sphinx configuration: numpydoc docstrings, the examples gallery, MyST user guide."""

import os
import sys
from pathlib import Path

import sktransfer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "sktransfer"
author = "The sktransfer developers"
copyright = "2026, the sktransfer developers"
version = release = sktransfer.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples"]
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
myst_heading_anchors = 3

# No network while building: intersphinx inventories would be downloaded.
intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "backreferences_dir": "generated",
    "doc_module": ("sktransfer",),
    "reference_url": {"sktransfer": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
}
# The gallery runs each example in its fast mode (fewer folds, epochs and samples).
os.environ.setdefault("SKTRANSFER_EXAMPLES_FAST", "1")

html_theme = "pydata_sphinx_theme"
html_title = f"sktransfer {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path = []


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """sklearn's generated ``set_*_request`` methods: documented by sklearn, not here."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
