"""A three-class sentence-pair run on every page (corpus, example, heads, faithfulness,
compare) without a browser; the corpus filter and sort by a text's share of a method's
attribution mass, the same in SQL, in the dashboard's numpy twin and through the read API."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from support.checkpoints import NLI_LABELS
from support.pair_store import N_PAIRS, build_pair_store, nli_rows

import attention_atlas
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import CorpusState
from attention_atlas.db import queries
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.models import Attribution, Example

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    url = build_pair_store(tmp_path_factory.mktemp("pairs-dashboard"))
    return url, create_app(url)


@pytest.fixture
def ctx(store):
    url, app = store
    with app.server.test_request_context("/"):
        yield url


def _shares(url: str, method: str) -> dict[int, float]:
    """example id -> the stored share of ``method``'s mass on the hypothesis."""
    with session_factory(make_engine(url))() as session:
        rows = session.execute(
            select(Attribution.example_id, Attribution.pair_share).where(
                Attribution.method == method
            )
        ).all()
    return {int(e): float(s) for e, s in rows}


def test_corpus_page_has_three_classes_and_the_share_filter(ctx) -> None:
    from attention_atlas.dashboard.pages import corpus

    page = str(corpus.layout(share="ig", seg="2", minshare="0.1"))
    for name in NLI_LABELS:
        assert page.count(f"'{name}'") >= 2  # the gold and the prediction checklists
    assert "hypothesis share of |ig|" in page and "premise" in page
    view = corpus.corpus_view(CorpusState.parse("?share=ig&sort=share&desc=1"))
    shares = [r["share"] for r in view["rows"]]
    assert len(shares) == N_PAIRS and shares == sorted(shares, reverse=True)
    assert {r["label"] for r in view["rows"]} == set(NLI_LABELS)
    predicted = {r["prediction"] for r in view["rows"]}
    assert predicted <= set(NLI_LABELS)
    rows = {i: r for i, r in enumerate(nli_rows(N_PAIRS))}
    for row in view["rows"]:  # the snippet shows both texts of the pair
        pair = rows[row["source_index"]]
        assert row["snippet"] == f"{pair['premise']} ‖ {pair['hypothesis']}"


@pytest.mark.parametrize(
    "search",
    [
        "?share=ig&minshare=0.5",
        "?share=ig&seg=1&minshare=0.5",
        "?share=shap&maxshare=0.45&sort=share",
        "?share=attention&seg=2&minshare=0.2&maxshare=0.7&sort=share&desc=1",
        "?share=grad_input&sort=share&label=2",
        "?minshare=0.5",  # no method: no share is known, nothing passes
    ],
)
def test_share_filter_sql_numpy_and_read_api_agree(ctx, search: str) -> None:
    url = ctx
    state = CorpusState.parse(search)
    run = service().run(None)
    f = state.to_filter(run.id)
    in_numpy = service().ids(run, f, state.sort, state.desc).tolist()
    with session_factory(make_engine(url))() as session:
        in_sql = queries.filtered_ids(session, f, state.sort, state.desc).tolist()
    assert in_numpy == in_sql
    shares = _shares(url, state.share or "ig")
    values = {e: (s if state.seg == 2 else 1 - s) for e, s in shares.items()}
    expected = {
        e
        for e, v in values.items()
        if state.share is not None
        and (state.minshare is None or v >= state.minshare)
        and (state.maxshare is None or v <= state.maxshare)
        and (not state.label or _label(url, e) in state.label)
    }
    assert set(in_sql) == expected
    if state.sort == "share":
        ordered = [values[e] for e in in_sql]
        assert ordered == sorted(ordered, reverse=state.desc)
    reader = attention_atlas.open(url).run(run.id)
    assert reader.examples(search)["id"].tolist() == sorted(expected)


def _label(url: str, example_id: int) -> int:
    with session_factory(make_engine(url))() as session:
        return session.scalar(select(Example.label).where(Example.id == example_id))


def _correct_of(url: str, label: int) -> int:
    with session_factory(make_engine(url))() as session:
        found = session.scalars(
            select(Example.id).where(Example.label == label, Example.correct.is_(True))
        ).all()
    return len(found)


def test_a_filter_that_splits_the_run(ctx) -> None:
    """The share filter is not all-or-nothing on this run: the test above can fail."""
    shares = np.array(list(_shares(ctx, "ig").values()))
    assert len(shares) == N_PAIRS and 0 < (shares >= 0.5).sum() < N_PAIRS


def test_example_page_shows_both_texts_and_the_boundary(ctx) -> None:
    from attention_atlas.dashboard.pages import example

    url = ctx
    rows = nli_rows(N_PAIRS)
    with session_factory(make_engine(url))() as session:
        first = session.scalars(select(Example).order_by(Example.id)).first()
    assert first is not None
    page = str(example.layout(example_id=str(first.id)))
    row = rows[first.source_index]
    assert "premise" in page and "hypothesis" in page
    assert str(row["premise"]) in page and str(row["hypothesis"]) in page
    tracks, *_ = example.update_example(first.id, "", "word", [], -1, -1, "ig", None)
    assert tracks.count("tok-pair-start") == 1 and 'class="ov-pair"' in tracks
    # the marked word is the hypothesis's first word
    start = tracks.index("tok-pair-start")
    first_word = str(row["hypothesis"]).split()[0]
    assert f">{first_word}</span>" in tracks[start : start + 300]


def test_every_page_renders_with_three_classes(ctx) -> None:
    from attention_atlas.dashboard.pages import compare, example, faithfulness, heads
    from attention_atlas.dashboard.urlstate import HeadsState

    run = service().run(None)
    assert run.label_names == list(NLI_LABELS)
    for label in range(3):
        grid, _trend, _table = heads.heads_view(HeadsState.parse(f"?label={label}&stat=rho"))
        assert grid["data"][0]["z"] is not None
        assert heads.layout(label=str(label)) is not None
        curves, note, scatter, _scatter_note, search = faithfulness.update_faithfulness(
            "accuracy", "ig", f"?label={label}"
        )
        # the accuracy curves read the originally correct examples of the class: the random
        # model may have none, and the page says so
        assert f"label={label}" in search and scatter is not None
        if _correct_of(ctx, label):
            assert curves["data"] and note
        else:
            assert "no correctly classified" in curves.layout.annotations[0].text
        probability, *_ = faithfulness.update_faithfulness("probability", "ig", f"?label={label}")
        assert probability["data"]
        assert faithfulness.layout(label=str(label), view="accuracy") is not None
    assert "Compare two runs" in str(compare.layout(a=str(run.id), b=str(run.id)))
    page = str(example.layout(example_id="1"))
    for name in NLI_LABELS:
        assert name in page  # the probability bars name every class


def test_the_export_shows_both_texts_and_the_boundary(ctx) -> None:
    from attention_atlas.dashboard.export import standalone

    with session_factory(make_engine(ctx))() as session:
        export = standalone.load_export(session, 1)
        first = session.get(Example, 1)
        assert export is not None and first is not None
        page = standalone.standalone_html(export, standalone.export_options(export))
    assert '<div class="example-text pair-text">' in page
    assert f'<span class="segment-name">premise</span>{first.text}' in page
    assert f'<span class="segment-name">hypothesis</span>{first.text_pair}' in page
    assert page.count('tok-pair-start"') == 1  # one marked word (the CSS names it too)


def test_a_truncated_pair_greys_what_each_text_lost() -> None:
    from attention_atlas.dashboard import example_tokens
    from attention_atlas.db.example_queries import ExampleDetail

    special = np.array([1, 0, 0, 1, 0, 1], dtype=bool)
    detail = ExampleDetail(
        1, 1, "a b c", ["[CLS]", "a", "b", "[SEP]", "d", "[SEP]"], special,
        np.array([-1, 0, 1, -1, 2, -1]), 0, 0, np.array([0.2, 0.3, 0.5]), 0.5, False, 0,
        list(NLI_LABELS), 2, 4,
        np.array([[0, 0], [0, 1], [2, 3], [0, 0], [0, 1], [0, 0]]), True,
        "d e f", 4, ("premise", "hypothesis"),
    )  # fmt: skip
    panel = str(example_tokens.text_panel(detail))
    assert "Span(children=' c', className='unseen')" in panel
    assert "Span(children=' e f', className='unseen')" in panel
    assert "cut off by truncation" in panel
    text, offsets = example_tokens.shown_text(detail)
    assert text[offsets[4][0] : offsets[4][1]] == "d" and text[offsets[2][0] : offsets[2][1]] == "b"


def test_switching_runs_shows_the_share_fields_only_for_a_pair_run(ctx) -> None:
    from attention_atlas.dashboard.pages import corpus

    run = service().run(None)
    _plausibility, columns, share_style = corpus.show_plausibility(run.id)
    assert share_style is None and any(c["field"] == "share" for c in columns)
