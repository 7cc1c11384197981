"""Image-path and text columns beside numeric and categorical ones, end to end in pandas."""

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer, Word2VecEmbedder
from sktransfer.datasets import load_image_folder


def test_image_numeric_and_categorical_columns_with_pandas_output(tmp_path, lfw):
    images, labels = lfw
    for i in range(0, 200, 5):  # 20 real faces, 20 non-faces, alternately PNG and JPEG
        folder = tmp_path / ("face" if labels[i] else "not_face")
        folder.mkdir(exist_ok=True)
        suffix = ".png" if i % 10 else ".jpg"
        Image.fromarray((images[i] * 255).astype(np.uint8)).save(folder / f"{i}{suffix}")
    frame = load_image_folder(tmp_path)
    frame["file_kb"] = [len(open(p, "rb").read()) / 1e3 for p in frame["path"]]
    frame["format"] = frame["path"].str.rsplit(".", n=1).str[1]
    y = frame.pop("label")
    columns = ColumnTransformer(
        [
            ("image", PretrainedImageFeaturizer(progress=False), "path"),
            ("numeric", StandardScaler(), ["file_kb"]),
            ("format", OneHotEncoder(sparse_output=False), ["format"]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=1000)).set_output(transform="pandas")
    cv = LeakageSafeKFold(4, shuffle=True, random_state=0, column="path")
    assert cross_val_score(model, frame, y, cv=cv).mean() >= 0.9

    features = model.fit(frame, y)[0].transform(frame.iloc[:3])
    assert isinstance(features, pd.DataFrame) and features.shape == (3, 1280 + 1 + 2)
    assert list(features.index) == [0, 1, 2]
    assert features.columns[0] == "image__pretrainedimagefeaturizer0"
    assert list(features.columns[-3:]) == [
        "numeric__file_kb",
        "format__format_jpg",
        "format__format_png",
    ]
    assert model.predict(frame.iloc[:3]).tolist() == y.iloc[:3].tolist()


def test_text_numeric_and_categorical_columns_with_pandas_output(sms):
    frame = sms.sample(1500, random_state=0).reset_index(drop=True)
    frame["length"] = frame["text"].str.len()
    frame["has_digits"] = np.where(frame["text"].str.contains(r"\d{4}"), "yes", "no")
    y = frame.pop("label")
    columns = ColumnTransformer(
        [
            ("text", Word2VecEmbedder(progress=False), "text"),
            ("numeric", StandardScaler(), ["length"]),
            ("digits", OneHotEncoder(sparse_output=False), ["has_digits"]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=1000)).set_output(transform="pandas")
    # copies of a message (the SMS data has hundreds) stay in one fold
    cv = LeakageSafeKFold(5, shuffle=True, random_state=0, column="text")
    with_columns = cross_val_score(model, frame, y, cv=cv).mean()
    text_only = cross_val_score(
        model.set_params(columntransformer__numeric="drop", columntransformer__digits="drop"),
        frame,
        y,
        cv=cv,
    ).mean()
    assert with_columns >= 0.95 and with_columns > text_only  # the side columns carry signal

    features = (
        model.set_params(
            columntransformer__numeric=StandardScaler(),
            columntransformer__digits=OneHotEncoder(sparse_output=False),
        )
        .fit(frame, y)[0]
        .transform(frame.iloc[:2])
    )
    assert features.shape == (2, 50 + 1 + 2)
    assert features.columns[0] == "text__word2vecembedder0"
    assert list(features.columns[-3:]) == [
        "numeric__length",
        "digits__has_digits_no",
        "digits__has_digits_yes",
    ]
