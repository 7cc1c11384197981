"""Property-based tests (hypothesis): generated inputs never crash, hang or change shape.

Each property runs under a per-example deadline (no input may take long) and the suite's
timeout. Failures hypothesis finds are shrunk to a minimal input and replayed first on the
next run (its example database).
"""

import io
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from PIL import Image

from sktransfer import PretrainedImageFeaturizer, Word2VecEmbedder
from sktransfer._inputs import open_rgb, tokenize_many
from sktransfer.exceptions import SktransferWarning
from sktransfer.model_selection import find_duplicates
from sktransfer.model_selection._text_hashing import normalize_text
from sktransfer.text import normalize_text as unicode_normalize
from sktransfer.text import tokenize

# PIL notes what it skips in a damaged TIFF ("Corrupt EXIF data", "Tag data larger than file").
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
QUICK = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

# -- the image loader ------------------------------------------------------------------

any_array = arrays(
    dtype=st.sampled_from(
        [np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_]
    ),
    shape=array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=12),
)


@QUICK
@given(any_array)
def test_any_array_decodes_to_rgb_of_its_size_or_is_refused(array):
    try:
        image = open_rgb(array)
    except ValueError:
        return  # a documented refusal: shape, NaN/inf, range or dtype, explained
    assert image.mode == "RGB" and image.size == (array.shape[1], array.shape[0])


@QUICK
@given(
    arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.bool_]),
        shape=st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3, 4])),
        elements={"allow_nan": False, "min_value": 0, "max_value": 1},
    )
)
def test_any_valid_array_decodes_to_rgb_of_its_size(array):
    image = open_rgb(array)
    assert image.mode == "RGB" and image.size == (array.shape[1], array.shape[0])


def _encoded(format_):
    pixels = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format_)
    return buffer.getvalue()


ENCODED = {f: _encoded(f) for f in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")}


@st.composite
def damaged_files(draw):
    """A real encoded image, cut short and with a few bytes overwritten."""
    data = bytearray(ENCODED[draw(st.sampled_from(sorted(ENCODED)))])
    data = data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(0, 4))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@QUICK
@given(st.one_of(damaged_files(), st.binary(max_size=256)))
def test_damaged_or_random_bytes_decode_or_raise_never_hang(data):
    try:
        image = open_rgb(data)
    except Exception:  # the featurizer reports any exception as that sample's failure
        return
    assert image.mode == "RGB" and min(image.size) >= 1


@pytest.fixture(scope="module")
def featurizer():
    return PretrainedImageFeaturizer(
        image_size=64, batch_size=4, on_error="warn", n_jobs=1, progress=False
    ).fit([])


@settings(max_examples=15, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(damaged_files(), any_array), min_size=1, max_size=5))
def test_featurizer_output_is_always_n_by_features_with_whole_rows(featurizer, samples):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = featurizer.transform(samples)
    assert features.shape == (len(samples), featurizer.n_features_out_)
    finite = np.isfinite(features)
    assert (finite.all(axis=1) | (~finite).all(axis=1)).all()  # a row is whole or all NaN
    ours = [w for w in caught if issubclass(w.category, SktransferWarning)]
    assert len(ours) == int(not finite.all())  # one warning when anything failed


# -- the tokenizer and the embedder ----------------------------------------------------


@QUICK
@given(st.text(max_size=200))
def test_tokens_are_non_empty_unspaced_pieces_of_the_text_in_order(text):
    tokens = tokenize(text)
    normalised = unicode_normalize(text).replace("\u2019", "'")
    position = 0
    for token in tokens:
        assert token and not any(c.isspace() for c in token)
        position = normalised.index(token, position) + len(token)


@QUICK
@given(st.lists(st.text(max_size=60), max_size=8), st.booleans())
def test_batched_tokenizing_equals_one_text_at_a_time(texts, lowercase):
    tokens, lengths = tokenize_many(texts, lowercase, None)
    expected = [tokenize(unicode_normalize(t).lower() if lowercase else t) for t in texts]
    assert lengths.tolist() == [len(e) for e in expected]
    assert tokens == [token for each in expected for token in each]


@pytest.fixture(scope="module")
def embedder():
    return Word2VecEmbedder().fit(["the cat sat on the mat"])


@QUICK
@given(st.lists(st.one_of(st.none(), st.text(max_size=80)), max_size=8))
def test_embedder_output_is_always_n_by_50_and_finite(embedder, texts):
    out = embedder.transform(texts)
    assert out.shape == (len(texts), 50) and np.isfinite(out).all()


# -- the duplicate finder --------------------------------------------------------------

texts_with_copies = st.lists(
    st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["Call 0800 now!", "See you"])),
    max_size=12,
)


def _assert_dense_by_first_appearance(groups):
    seen = -1
    for g in groups:
        assert 0 <= g <= seen + 1
        seen = max(seen, g)


@QUICK
@given(texts_with_copies, st.randoms(use_true_random=False))
def test_text_groups_are_dense_keep_copies_together_and_ignore_order(texts, random):
    groups = find_duplicates(texts, kind="text")
    assert groups.shape == (len(texts),)
    _assert_dense_by_first_appearance(groups)
    for i, a in enumerate(texts):
        for j, b in enumerate(texts):
            # texts that normalise to nothing (":", "  ") are documented never to merge
            if a is not None and a == b and normalize_text(a) and groups[i] != groups[j]:
                pytest.fail(f"equal texts {a!r} at {i} and {j} in different groups")
    order = list(range(len(texts)))
    random.shuffle(order)
    shuffled = find_duplicates([texts[i] for i in order], kind="text")
    same = groups[order][:, None] == groups[order][None, :]
    np.testing.assert_array_equal(shuffled[:, None] == shuffled[None, :], same)


@settings(max_examples=25, deadline=5000)
@given(
    st.lists(
        arrays(np.uint8, st.tuples(st.integers(8, 40), st.integers(8, 40), st.just(3))),
        min_size=1,
        max_size=6,
    ),
    st.data(),
)
def test_image_groups_keep_planted_copies_together(images, data):
    source = data.draw(st.integers(0, len(images) - 1))
    samples = [*images, images[source].copy()]
    groups = find_duplicates(samples, kind="image", method="hash", progress=False)
    assert groups.shape == (len(samples),)
    _assert_dense_by_first_appearance(groups)
    assert groups[-1] == groups[source]
