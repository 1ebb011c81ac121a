"""The example page's method-by-method agreement: stored rows and word-sum recomputation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from dash_fixtures import build_store
from sqlalchemy import select

from dashboard import agreement
from dashboard.app import create_app
from db import example_queries
from db.engine import make_engine, session_factory
from db.measures import agreement as measure_pair
from models import Agreement

TOKENS = ["[CLS]", "a", "b", "##c", "##d", "e", "f", "[SEP]"]
WORD_IDS = np.array([-1, 0, 1, 1, 1, 2, 3, -1])
SPECIAL = np.array([1, 0, 0, 0, 0, 0, 0, 1], dtype=bool)


def test_word_sums_agree_where_subword_splits_made_methods_disagree() -> None:
    spread = np.array([9, 0.1, 0.2, 0.2, 0.2, 0.3, 0.4, 9])  # word "bcd" split over 3 pieces
    lumped = np.array([-9, 0.1, 0.6, 0.0, 0.0, 0.3, 0.4, 9])  # all of it on the first piece
    scores = {"attention": spread, "ig": lumped}
    words = agreement.word_matrix(scores, TOKENS, WORD_IDS, SPECIAL, "spearman")
    assert words.shape == (2, 2) and words[0, 1] == words[1, 0]
    assert math.isclose(words[0, 1], 1.0)  # word sums [.1, .6, .3, .4] for both
    subword = measure_pair(spread[~SPECIAL], lumped[~SPECIAL])["spearman"]
    assert subword < 0.5  # specials (9, -9) would change nothing: they are skipped
    assert np.all(np.diag(words) == 1.0)


def test_undefined_word_agreement_is_nan_not_zero() -> None:
    even = np.array([0, 1, 1 / 3, 1 / 3, 1 / 3, 1, 1, 0])  # every word sums to 1: no ranking
    words = agreement.word_matrix(
        {"attention": even, "ig": np.arange(8.0)}, TOKENS, WORD_IDS, SPECIAL, "spearman"
    )
    assert np.isnan(words[0, 1]) and np.all(np.diag(words) == 1.0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):  # noqa: ANN001, ANN201
    url, _ = build_store(tmp_path_factory.mktemp("agreement"))
    return url


def test_stored_matrix_equals_the_agreement_rows(store: str) -> None:
    with session_factory(make_engine(store))() as session:
        methods = list(example_queries.example_attributions(session, 4))
        rows = example_queries.example_agreements(session, 4)
        stored = session.execute(
            select(Agreement.method_a, Agreement.method_b, Agreement.kendall_signed).where(
                Agreement.example_id == 4
            )
        ).all()
    matrix = agreement.stored_matrix(rows, methods, "kendall_signed")
    assert len(stored) == len(methods) * (len(methods) - 1) // 2 > 0
    for a, b, value in stored:
        i, j = methods.index(a), methods.index(b)
        expected = np.nan if value is None else value
        np.testing.assert_equal([matrix[i, j], matrix[j, i]], [expected, expected])


def test_example_page_draws_the_filter_measure_in_both_views(store: str) -> None:
    app = create_app(store)
    with app.server.test_request_context("/"):
        from dashboard.pages import example

        subword = example.update_agreement(4, "?measure=jaccard_5", "subword")
        word = example.update_agreement(4, "?measure=jaccard_5", "word")
    for figure in (subword, word):
        trace = figure["data"][0]
        assert trace["x"] == trace["y"] and "ig" in trace["x"]
        assert trace["colorbar"]["title"]["text"] == "top-5 Jaccard" and trace["zmin"] == 0
    assert "stored" in subword["layout"]["title"]["text"]
    assert "word sums" in word["layout"]["title"]["text"]
