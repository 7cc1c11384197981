import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance, ImageOps

from sktransfer import PretrainedImageFeaturizer
from sktransfer.exceptions import ImageLoadError, SktransferWarning
from sktransfer.model_selection import (
    _embedding_pairs,
    find_duplicates,
    leakage_report,
    plot_leakage_pairs,
)
from sktransfer.model_selection._duplicates import fingerprint
from sktransfer.model_selection._embedding_pairs import embedding_pairs
from sktransfer.model_selection._image_hashing import perceptual_codes
from sktransfer.model_selection._text_hashing import (
    _levenshtein,
    jaccard,
    normalize_text,
    shingle_sets,
    word_edit_pairs,
)


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
        "jpeg30": lambda im: jpeg(im, 30),
        "mirror": ImageOps.mirror,
        "turn5": lambda im: im.rotate(5, resample=Image.BICUBIC),
        "turn-3": lambda im: im.rotate(-3, resample=Image.BICUBIC),
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
    # the hash alone: pretrained features of 28-px gray digits all look alike (tested below)
    groups = find_duplicates(originals + copies, method="hash", progress=False)
    found = groups[:400] == groups[2000:]
    assert found.mean() >= 0.95
    for edit in set(edits):  # every kind of edit is caught, not just the easy ones
        assert found[np.array(edits) == edit].mean() >= 0.85, edit
    # distinct handwritten digits: few merged, and never into one big cluster
    sizes = np.bincount(find_duplicates(originals, method="hash", progress=False))
    assert (sizes > 1).sum() / len(originals) < 0.01
    assert sizes.max() <= 3


def test_lsh_finds_the_pairs_a_brute_force_search_finds(mnist):
    images = list(mnist[0][:1200]) + planted_copies(mnist[0][:300])[0]
    fp = fingerprint(images, method="hash", progress=False)
    first_of_code = {}
    for i, c in enumerate(fp.code):
        first_of_code.setdefault(c, i)
    codes = np.array(
        [
            perceptual_codes(Image.fromarray(images[first_of_code[c]]).convert("RGB"))
            for c in range(len(first_of_code))
        ]
    )
    own = codes[:, 0]
    distance = (own[:, None, :] != own[None, :, :]).sum(2)
    near = distance <= 30
    for k in range(1, codes.shape[1]):  # a probe (mirror, turn) within 22 bits of a code
        probe = (codes[:, k][:, None, :] != own[None, :, :]).sum(2) <= 22
        near |= probe | probe.T
    first, second = np.nonzero(np.triu(near, 1))
    brute = set(zip(first.tolist(), second.tolist(), strict=True))
    lsh = set(map(tuple, fp.pairs.tolist()))
    assert lsh <= brute
    assert (distance[~near] > 30).all()
    assert len(brute) > 0 and len(lsh) >= 0.99 * len(brute)


@pytest.mark.parametrize("reduce_from", [20_000, 0], ids=["full", "bounded"])
def test_block_search_finds_the_pairs_of_the_full_similarity_matrix(
    mnist, monkeypatch, reduce_from
):
    # 2,000 real digits as vectors span two blocks of rows: pairs within and across blocks.
    # "bounded": candidates from 129-dimensional upper bounds first, as for 20,000+ rows
    monkeypatch.setattr(_embedding_pairs, "_REDUCE_FROM", reduce_from)
    digits = mnist[0].reshape(len(mnist[0]), -1).astype(np.float32)
    exact = np.arange(len(digits))
    exact[1500:1510] = exact[:10]  # ids shared as by exact copies: never paired
    pairs, scores = embedding_pairs(digits, exact, 0.9)
    unit = digits / np.linalg.norm(digits, axis=1, keepdims=True)
    full = unit @ unit.T
    i, j = np.nonzero(np.triu(full >= 0.9 - 1e-6, k=1) & (exact[:, None] != exact[None, :]))
    assert len(pairs) > 100 and (pairs[:, 1] >= 1024).any() and (pairs[:, 0] < 1024).any()
    assert sorted(map(tuple, pairs.tolist())) == sorted(zip(i.tolist(), j.tolist(), strict=True))
    np.testing.assert_allclose(scores, np.minimum(full[pairs[:, 0], pairs[:, 1]], 1), atol=1e-5)


def test_thumbnails_match_the_image_they_shrink(mnist):
    # 8-px shrinks (0.3x) of real digits: too small for a perceptual code, matched with the
    # collection's digits scaled down to 8 px; shrinks of digits not in it stay apart
    digits = list(mnist[0][:2000])
    shrink = [np.asarray(Image.fromarray(d).resize((8, 8), Image.BICUBIC)) for d in mnist[0][:2100]]
    present, absent = shrink[:100], shrink[2000:2100]
    groups = find_duplicates(digits + present + absent, method="hash", progress=False)
    assert (groups[:100] == groups[2000:2100]).all()
    matched = np.isin(groups[2100:], groups[:2000])
    assert matched.sum() <= 3  # an unrelated 8-px digit joins a look-alike now and then
    assert len(set(groups[:2000])) == len(set(find_duplicates(digits, method="hash")))


def test_probe_codes_are_the_mirror_image_and_turns(photos, mnist):
    photo = Image.fromarray(photos["astronaut"])
    codes = perceptual_codes(photo)
    assert codes.shape == (6, 256)
    assert (perceptual_codes(ImageOps.mirror(photo))[0] == codes[1]).all()  # no resampling
    digit = Image.fromarray(mnist[0][0]).convert("RGB")
    codes = perceptual_codes(digit)
    for turn, probe in [(5, 3), (-5, 2), (2.5, 5), (-2.5, 4)]:
        turned = perceptual_codes(digit.rotate(turn, resample=Image.BICUBIC))[0]
        distances = (codes != turned).sum(1)
        assert distances.argmin() == probe, turn  # PIL turns counter-clockwise
        assert distances[probe] <= 22 < distances[0], turn


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


def hard_edits(photos) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """The six photos, and a crop of 8% per side, a mirror image and a 5-degree turn of each."""
    originals = [Image.fromarray(p) for p in photos.values()]
    edited = []
    for im in originals:
        w, h = im.size
        dx, dy = round(0.08 * w), round(0.08 * h)
        edited += [
            np.asarray(im.crop((dx, dy, w - dx, h - dy))),
            np.asarray(ImageOps.mirror(im)),
            np.asarray(im.rotate(5, resample=Image.BICUBIC)),
        ]
    return [np.asarray(im) for im in originals], edited, np.repeat(np.arange(len(originals)), 3)


def test_crops_flips_and_turns_need_the_embedding(photos, default_featurizer):
    originals, edited, source = hard_edits(photos)
    n = len(originals)
    by_hash = find_duplicates(originals + edited, method="hash", progress=False)
    found = by_hash[n:] == by_hash[source]
    assert found[1::3].all()  # the mirror probe finds every mirror image
    # crops move the frame, turns bring in black corners: the perceptual code moves
    assert not found[0::3].any() and not found[2::3].any()
    for method in ["auto", "embedding", "both"]:
        groups = find_duplicates(
            originals + edited, method=method, embedder=default_featurizer, progress=False
        )
        assert len(set(groups[:n])) == n, method  # six distinct photos stay apart
        assert (groups[n:] == groups[source]).all(), method


def test_default_embedder_is_the_pretrained_featurizer(photos):
    originals, edited, source = hard_edits(photos)
    fp = fingerprint(originals[:2] + edited[3:6], method="embedding", progress=False)
    assert sorted(map(tuple, fp.embedding_pairs.tolist())) == [
        (1, 2),
        (1, 3),
        (1, 4),
        (2, 3),
        (2, 4),
        (3, 4),
    ]
    assert fp.embedding_similarity.min() >= 0.85 and fp.embedding_similarity.max() <= 1.0


def test_the_embedder_fills_the_cache_the_pipeline_reuses(photos, tmp_path, forward_batches):
    originals, edited, _ = hard_edits(photos)
    images = originals + edited[::3]
    featurizer = PretrainedImageFeaturizer(cache=tmp_path, progress=False)
    groups = find_duplicates(images, embedder=featurizer, progress=False)
    assert groups.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
    assert sum(forward_batches) == len(images)
    featurizer.fit_transform(images)  # the model's own featurizing: all from the cache
    assert sum(forward_batches) == len(images)


def test_embeddings_that_cannot_tell_look_alikes_apart_are_set_aside(lfw):
    faces = list(lfw[0])  # 25-px gray faces and non-faces: most lie above 0.85 of another
    with pytest.warns(SktransferWarning, match="look-alikes"):
        fp = fingerprint(faces, method="embedding", progress=False)
    assert len(fp.embedding_pairs) == 0
    assert (fp.groups() == find_duplicates(faces, near=False)).all()  # exact copies only


@pytest.mark.parametrize("method", ["hash", "embedding", "both"])
def test_empty_single_and_identical_image_collections(photos, method, default_featurizer):
    photo = next(iter(photos.values()))
    options = {"method": method, "embedder": default_featurizer, "progress": False}
    assert find_duplicates([], kind="image", **options).tolist() == []
    assert find_duplicates([photo], **options).tolist() == [0]
    assert find_duplicates([photo] * 4, **options).tolist() == [0, 0, 0, 0]
    flat = np.zeros((32, 32, 3), np.uint8)
    assert find_duplicates([flat, flat + 255, photo, flat], **options).tolist() == [0, 1, 2, 0]


def test_leakage_report_names_the_method_and_its_similarity(photos, default_featurizer):
    originals, edited, _ = hard_edits(photos)
    test = [edited[0], originals[2], edited[1]]  # a crop, an exact copy, a mirror image
    report = leakage_report(originals, test, embedder=default_featurizer)
    rows = report.set_index("index")
    assert rows.loc[0, ["match_index", "kind", "method"]].tolist() == [0, "near", "embedding"]
    assert 0.85 <= rows.loc[0, "similarity"] < 1.0
    # the cat's mirror code equals its probe: the hash is the more similar match
    assert rows.loc[2, ["match_index", "kind", "method", "similarity"]].tolist() == [
        0,
        "near",
        "hash",
        1.0,
    ]
    assert rows.loc[1, ["match_index", "kind", "method", "similarity"]].tolist() == [
        2,
        "exact",
        "exact",
        1.0,
    ]


def test_the_closest_pairs_are_drawn_for_a_human_to_check(photos, default_featurizer, tmp_path):
    originals, edited, _ = hard_edits(photos)
    test = [edited[0], originals[2], edited[9], originals[4][::2, ::2]]  # crops, copies
    report = leakage_report(originals, test, embedder=default_featurizer)
    assert len(report) == 4
    figure = plot_leakage_pairs(report, originals, test, n_pairs=3, path=tmp_path / "pairs.png")
    assert len(figure.axes) == 6  # three pairs, most similar first: the exact copy leads
    assert figure.axes[0].get_title(loc="left").startswith("1 ~ 2: exact (exact), similarity 1.000")
    assert figure.axes[1].get_xlabel() == "train 2"
    assert [ax.images[0].get_array().shape[2] for ax in figure.axes] == [3] * 6
    assert Image.open(tmp_path / "pairs.png").size == (500, 780)


def test_text_pairs_are_drawn_as_text(sms):
    texts = sms["text"].tolist()[:300]
    report = leakage_report(texts)
    assert report.attrs["samples"] == "text" and len(report) > 5
    figure = plot_leakage_pairs(report, texts, n_pairs=5)
    assert len(figure.axes) == 5
    first = report.sort_values("similarity", ascending=False, kind="stable").iloc[0]
    drawn = [t.get_text() for t in figure.axes[0].texts]
    assert drawn[0].startswith(f"sample {first['index']}: {texts[first['index']][:20]}")
    empty = leakage_report(["one message here"], ["another one entirely"])
    assert [t.get_text() for t in plot_leakage_pairs(empty, [], []).axes[0].texts] == [
        "No copies found."
    ]


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
    fp = fingerprint(sms["text"].tolist()[:2000], word_similarity=1.0)  # 5-grams alone
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


def word_edits(texts: list[str]) -> tuple[list[str], list[str]]:
    """A copy of each text with one edit: words substituted, deleted or inserted."""
    rng = np.random.default_rng(0)

    def substitute(words, k):
        words = list(words)
        for i in rng.choice(len(words), k, replace=False):
            words[i] = "zebra"
        return words

    edits = {
        "substitute1": lambda w: substitute(w, 1),
        "substitute2": lambda w: substitute(w, 2),
        "delete1": lambda w: w[:3] + w[4:],
        "insert1": lambda w: w[:3] + ["really"] + w[3:],
        "delete2": lambda w: w[:2] + w[3:5] + w[6:],
    }
    names = [list(edits)[i % len(edits)] for i in range(len(texts))]
    return [" ".join(edits[e](t.split())) for t, e in zip(texts, names, strict=True)], names


def test_one_or_two_words_edited_in_real_messages_are_found(sms):
    # real messages of 8+ words whose words are words after normalisation (no "don't")
    texts = [
        t
        for t in dict.fromkeys(sms["text"])
        if len(t.split()) >= 8 and normalize_text(t).split() == [w.lower() for w in t.split()]
    ][:300]
    copies, names = word_edits(texts)
    names = np.array(names)
    n = len(texts)
    groups = find_duplicates(texts + copies)
    found = groups[:n] == groups[n:]
    ngrams = find_duplicates(texts + copies, word_similarity=1.0)  # 5-grams alone
    found_by_ngrams = ngrams[:n] == ngrams[n:]
    for edit in set(names):
        assert found[names == edit].mean() == 1.0, edit
    assert found_by_ngrams[names == "substitute2"].mean() < 0.6  # what the word edits add
    # among the distinct messages, word edits merge one pair more than the 5-grams do:
    # "I have to take exam with march 3" and "I have to take exam with in march 3"
    assert len(set(ngrams[:n])) - len(set(groups[:n])) == 1


def test_word_edit_pairs_match_a_brute_force_search(sms):
    unique = dict.fromkeys(normalize_text(t, mask_digits=True) for t in sms["text"][:1000])
    words = [t.split() for t in unique if t]
    pairs, scores = word_edit_pairs([" ".join(w) for w in words], 0.75)
    lengths = np.array([len(w) for w in words])
    longer = np.maximum(lengths[:, None], lengths[None, :])
    # a pair further apart in length than a quarter of the longer text cannot reach 0.75
    close = (longer >= 8) & (np.abs(lengths[:, None] - lengths[None, :]) <= longer / 4)
    brute = {}
    for i, j in zip(*np.nonzero(np.triu(close, 1)), strict=True):
        n = longer[i, j]
        score = 1 - _levenshtein(words[i], words[j], n) / n
        if score >= 0.75:
            brute[(int(i), int(j))] = score
    assert len(brute) > 10
    found = dict(zip(map(tuple, pairs.tolist()), scores.tolist(), strict=True))
    assert found == pytest.approx(brute)


def test_reordered_messages_need_the_sentence_embeddings(sms):
    # real messages of 8-14 words with their halves swapped: the same words, the 5-grams
    # and word edits mostly broken; the sentence embedding (all-MiniLM-L6-v2) still matches
    # most of them at its default cosine threshold of 0.9
    texts = [t for t in dict.fromkeys(sms["text"]) if 8 <= len(normalize_text(t).split()) <= 14]
    texts = texts[:100]

    def swap_halves(text):
        words = text.split()
        return " ".join(words[len(words) // 2 :] + words[: len(words) // 2])

    copies = [swap_halves(t) for t in texts]
    n = len(texts)
    found = {}
    for method in ["hash", "embedding", "both"]:
        groups = find_duplicates(texts + copies, method=method, progress=False)
        found[method] = (groups[:n] == groups[n:]).mean()
        # distinct messages stay apart (one pair of near-identical templates is merged)
        assert len(set(find_duplicates(texts, method=method, progress=False))) >= n - 1
    assert found["hash"] < 0.6
    assert found["embedding"] >= 0.8
    assert found["both"] >= max(found["hash"], found["embedding"])
    assert found["both"] > found["embedding"]  # each finds copies the other misses


def test_text_embeddings_are_reported_and_read_normalised_distinct_texts():
    from sktransfer import TransformerTextEmbedder

    seen = []

    class Spy(TransformerTextEmbedder):
        def transform(self, X):
            seen.extend(X)
            return super().transform(X)

    train = ["Meet me at the station at 6 tonight, I will bring the tickets for us"]
    test = [
        "I will bring the tickets for us, meet me at the station at 6 tonight",
        "MEET ME AT THE STATION AT 7 TONIGHT, I WILL BRING THE TICKETS FOR US",
        "The weather in the mountains was cold and wet for the whole week",
    ]
    report = leakage_report(train, test, method="both", embedder=Spy(progress=False))
    assert report["index"].tolist() == [0, 1]
    assert report["method"].tolist() == ["embedding", "hash"]
    assert 0.8 <= report["similarity"][0] < 1
    # each distinct text once, case folded, punctuation collapsed and digits masked
    assert seen == [
        "meet me at the station at 0 tonight i will bring the tickets for us",
        "i will bring the tickets for us meet me at the station at 0 tonight",
        "the weather in the mountains was cold and wet for the whole week",
    ]


@pytest.mark.parametrize("method", ["hash", "embedding", "both"])
def test_text_collections_empty_single_identical_and_empty_after_normalisation(method):
    def groups(texts, **options):
        return find_duplicates(texts, method=method, progress=False, **options).tolist()

    assert groups([], kind="text") == []
    assert groups(["just one"]) == [0]
    assert groups(["Same words, again."] * 3) == [0, 0, 0]
    # empty once normalised: never grouped, not even with an equal text (nothing to compare)
    assert groups(["!!!", "?", "!!!"]) == [0, 1, 2]
    assert groups(["!!!", "A real sentence here.", "?", "a real sentence HERE"]) == [0, 1, 2, 1]


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
