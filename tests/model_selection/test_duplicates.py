import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance

from sktransfer.exceptions import ImageLoadError
from sktransfer.model_selection import find_duplicates
from sktransfer.model_selection._duplicates import fingerprint
from sktransfer.model_selection._image_hashing import perceptual_code
from sktransfer.model_selection._text_hashing import jaccard, normalize_text, shingle_sets


def jpeg(image: Image.Image, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def planted_copies(digits: np.ndarray) -> tuple[list[np.ndarray], list[str]]:
    """One edited copy per digit, cycling through the edits the issue names."""
    edits = {
        "resize": lambda im: im.resize((56, 56), Image.BICUBIC),
        "shrink": lambda im: im.resize((20, 20), Image.BICUBIC),
        "jpeg50": lambda im: jpeg(im, 50),
        "jpeg90": lambda im: jpeg(im, 90),
        "crop2": lambda im: im.crop((2, 2, 26, 26)),
        "crop_offset": lambda im: im.crop((0, 3, 25, 28)),
        "brighter": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
        "darker": lambda im: ImageEnhance.Brightness(im).enhance(0.7),
    }
    names = list(edits)
    copies = [
        np.asarray(edits[names[i % len(names)]](Image.fromarray(d))) for i, d in enumerate(digits)
    ]
    return copies, [names[i % len(names)] for i in range(len(digits))]


# -- images -----------------------------------------------------------------------------


def test_planted_mnist_copies_are_found_and_distinct_digits_stay_apart(mnist):
    originals = list(mnist[0][:2000])
    copies, edits = planted_copies(mnist[0][:400])
    groups = find_duplicates(originals + copies, progress=False)
    found = groups[:400] == groups[2000:]
    assert found.mean() >= 0.95
    for edit in set(edits):  # every kind of edit is caught, not just the easy ones
        assert found[np.array(edits) == edit].mean() >= 0.85, edit
    # distinct handwritten digits: few merged, and never into one big cluster
    sizes = np.bincount(find_duplicates(originals, progress=False))
    assert (sizes > 1).sum() / len(originals) < 0.01
    assert sizes.max() <= 3


def test_lsh_finds_the_pairs_a_brute_force_search_finds(mnist):
    fp = fingerprint(list(mnist[0][:1500]), progress=False)
    first_of_code = {}
    for i, c in enumerate(fp.code):
        first_of_code.setdefault(c, i)
    bits = np.array(
        [
            perceptual_code(Image.fromarray(mnist[0][first_of_code[c]]).convert("RGB"))
            for c in range(len(first_of_code))
        ]
    )
    distance = (bits[:, None, :] != bits[None, :, :]).sum(2)
    first, second = np.nonzero(np.triu(distance <= 30, 1))
    brute = set(zip(first.tolist(), second.tolist(), strict=True))
    lsh = set(map(tuple, fp.pairs.tolist()))
    assert lsh <= brute
    assert len(brute) > 0 and len(lsh) >= 0.99 * len(brute)


def test_real_photos_edited_every_way_match_their_original(photos):
    originals = [Image.fromarray(p) for p in photos.values()]
    edited, source = [], []
    for i, (name, im) in enumerate(zip(photos, originals, strict=True)):
        w, h = im.size
        edited += [
            im.resize((w // 3, h // 3), Image.BICUBIC),
            jpeg(im, 30),
            ImageEnhance.Brightness(im).enhance(1.2),
            ImageEnhance.Brightness(im).enhance(0.8),
        ]
        # A star field is mostly black: a crop moves its few bright points in the frame
        # (32 bits of 256 for this one), so its crop is the one edit left out.
        if name != "hubble_deep_field":
            edited.append(im.crop((4, 3, w - 3, h - 4)))
        source += [i] * (len(edited) - len(source))
    groups = find_duplicates(originals + edited, progress=False)
    assert len(set(groups[: len(originals)])) == len(originals)  # six distinct photos
    assert (groups[len(originals) :] == groups[source]).all()


def test_exact_copies_are_equal_pixels_whatever_the_file(photo_files, tmp_path):
    png = tmp_path / "resaved.png"
    Image.open(photo_files[0]).save(png)  # the JPEG's decoded pixels, lossless
    samples = [str(photo_files[0]), str(png), str(photo_files[1])]
    assert png.read_bytes() != photo_files[0].read_bytes()
    fp = fingerprint(samples, progress=False)
    assert fp.exact[0] == fp.exact[1] != fp.exact[2]
    assert find_duplicates(samples, near=False, progress=False).tolist() == [0, 0, 1]


def test_every_input_kind_gives_the_same_groups(photo_files, tmp_path):
    paths = [str(p) for p in photo_files]
    arrays = [np.asarray(Image.open(p)) for p in paths]
    expected = find_duplicates(paths + paths[:2], progress=False)
    assert expected.tolist() == [0, 1, 2, 3, 4, 5, 0, 1]
    assert (find_duplicates(arrays + arrays[:2], progress=False) == expected).all()
    pils = [Image.open(p) for p in paths]
    assert (find_duplicates(pils + pils[:2], progress=False) == expected).all()


def test_flat_images_merge_only_with_exact_copies():
    black, white = np.zeros((32, 32), np.uint8), np.full((32, 32), 255, np.uint8)
    assert find_duplicates([black, white, black], progress=False).tolist() == [0, 1, 0]


def test_unreadable_image_is_named_by_index_and_path(photo_files, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image")
    with pytest.raises(ImageLoadError, match=r"notes\.jpg") as info:
        find_duplicates([str(photo_files[0]), str(fake)], kind="image", progress=False)
    assert info.value.failures[0][0] == 1


def test_strings_that_are_partly_files_ask_for_the_kind(photo_files):
    with pytest.raises(ValueError, match="kind='image' or kind='text'"):
        find_duplicates([str(photo_files[0]), "just a sentence"])


# -- texts ------------------------------------------------------------------------------


def test_text_normalisation_case_punctuation_whitespace_and_digits():
    assert normalize_text("  Hello,   WORLD!! ") == "hello world"
    assert normalize_text("ﬁne café") == "fine café"  # NFKC folds the ligature
    assert normalize_text("Call 0800-123 now", mask_digits=True) == "call 0 0 now"


def test_templated_messages_group_and_unrelated_ones_do_not():
    texts = [
        "URGENT! Call 09061743811 from landline to claim your £800 prize",
        "urgent - call 09061743810 from landline to claim your £900 prize!!",
        "Are you coming to the party tonight?",
        "are you coming to the party tonight",
        "The party is tomorrow, not tonight",
    ]
    assert find_duplicates(texts).tolist() == [0, 0, 1, 1, 2]
    assert find_duplicates(texts, near=False).tolist() == [0, 1, 2, 2, 3]


def test_empty_and_missing_texts_are_never_merged():
    groups = find_duplicates(["", None, "...", float("nan"), "ok", "OK!"])
    assert groups.tolist() == [0, 1, 2, 3, 4, 4]


def test_similarity_threshold_is_honoured(sms):
    texts = sms["text"].tolist()[:3000]
    fp = fingerprint(texts, similarity=0.6)
    assert len(fp.pairs) > len(fingerprint(texts).pairs)  # a looser threshold finds more
    assert fp.similarity.min() >= 0.6


def test_minhash_lsh_finds_the_pairs_a_brute_force_search_finds(sms):
    fp = fingerprint(sms["text"].tolist()[:2000])
    unique = {}
    for text in sms["text"][:2000]:
        unique.setdefault(normalize_text(text, mask_digits=True), None)
    masked = [t for t in unique if t]
    shingles = shingle_sets(masked)
    common = (shingles @ shingles.T).toarray()
    sizes = np.diff(shingles.indptr)
    brute = common / np.maximum(sizes[:, None] + sizes[None, :] - common, 1)
    first, second = np.nonzero(np.triu(brute >= 0.8, 1))
    assert len(first) > 20
    assert len(fp.pairs) >= 0.99 * len(first) and len(fp.pairs) <= len(first)
    np.testing.assert_allclose(
        np.sort(fp.similarity), np.sort(jaccard(shingles, first, second)), atol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.none()), max_size=30))
def test_text_groups_are_dense_labels_and_equal_texts_share_one(texts):
    groups = find_duplicates(texts, kind="text")
    assert groups.shape == (len(texts),)
    if len(texts):
        assert set(groups.tolist()) == set(range(groups.max() + 1))
    for i, a in enumerate(texts):
        for j, b in enumerate(texts[:i]):
            if a and b and normalize_text(a) and normalize_text(a) == normalize_text(b):
                assert groups[i] == groups[j]
