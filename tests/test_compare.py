"""The compare page and its side-by-side view over a trained and a randomized tiny BERT on 24
SST-2 sentences: the run-vs-run similarities equal a direct scipy computation on the stored
scores, the page reads as a sanity check, and bad requests get a message, never an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr
from sqlalchemy import select
from support.compare_store import sanity_store

from attention_atlas.dashboard import ids
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.db.analysis import metrics
from attention_atlas.db.compare import SIMILARITIES, rank_correlation, top_k_jaccard, word_scores
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.models.schema import Attribution, Example

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path, shared_data: Path):
    return sanity_store(tmp_path_factory, tiny_bert_dir, shared_data)


@pytest.fixture(scope="module")
def app(store):
    return create_app(store[0])


def _stored(url: str, run_id: int) -> dict[int, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """source index -> (special mask, method -> scores) of every example of the run."""
    out: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    with session_factory(make_engine(url, readonly=True))() as session:
        stmt = (
            select(
                Example.source_index, Example.special_mask, Attribution.method, Attribution.scores
            )
            .join(Attribution, Attribution.example_id == Example.id)
            .where(Example.run_id == run_id)
        )
        for source, special, method, scores in session.execute(stmt):
            out.setdefault(source, (np.asarray(special, bool), {}))[1][method] = scores
    return out


def _direct_medians(url: str, a: int, b: int) -> dict[str, float]:
    """Median over shared examples of scipy's Spearman on |scores| of the content tokens."""
    first, second = _stored(url, a), _stored(url, b)
    values: dict[str, list[float]] = {}
    for source in sorted(set(first) & set(second)):
        special, scores_a = first[source]
        for method, scores in scores_a.items():
            other = np.abs(second[source][1][method][~special])
            rho = spearmanr(np.abs(scores[~special]), other)[0]
            values.setdefault(method, []).append(rho)
    return {m: float(np.nanmedian(v)) for m, v in values.items()}


def _find(node, wanted: str):
    if getattr(node, "id", None) == wanted:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, wanted)
            if found is not None:
                return found
    return None


def _text(node) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    children = getattr(node, "children", None)
    if children is None:
        return ""
    return " ".join(_text(c) for c in (children if isinstance(children, list) else [children]))


def test_median_spearman_per_method_equals_scipy_on_the_stored_scores(app, store) -> None:
    from attention_atlas.dashboard.data.service import service
    from attention_atlas.dashboard.pages import compare

    url, a, b = store
    direct = _direct_medians(url, a, b)
    assert set(direct) == {"attention", "rollout", "grad_input", "ig", "shap"}
    with app.server.test_request_context():
        data = service()
        medians = data.similarity(data.run(a), data.run(b)).medians()
        page = compare.layout(a=str(a), b=str(b))
    for method, expected in direct.items():
        assert medians[method]["spearman"] == pytest.approx(expected, abs=1e-9), method
    table = _find(page, ids.CP_MEDIANS)
    rows = {r.children[0].children: r.children[1].children for r in table.children[1].children}
    shown = {m: float(rows[label]) for m, label in _labels(direct).items()}
    for method, expected in direct.items():  # shown with 3 decimals
        assert shown[method] == pytest.approx(expected, abs=5e-4), method


def _labels(methods) -> dict[str, str]:
    from attention_atlas.models import vocabulary

    return {m: vocabulary.label_of(m) for m in methods}


def test_the_page_reads_as_a_sanity_check_over_every_shared_example(app, store) -> None:
    from attention_atlas.dashboard.pages import compare

    _, a, b = store
    with app.server.test_request_context():
        page = compare.layout(a=str(a), b=str(b))
    text = _text(page)
    assert "24 shared examples" in text
    banner = _text(_find(page, ids.CP_SANITY))
    assert "every weight re-initialised" in banner
    assert "not explaining the model" in banner
    with app.server.test_request_context():
        swapped = compare.layout(a=str(b), b=str(a))  # trained as B: not a sanity check
    assert _find(swapped, ids.CP_SANITY) is None


def test_vectorised_similarities_equal_the_agreement_measures_row_by_row() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 9)), rng.normal(size=(30, 9))
    b[3] = 1.0  # a constant row: undefined
    a[4, :4] = a[4, 0]  # ties
    rho = rank_correlation(np.abs(a), np.abs(b))
    signed = rank_correlation(a, b)
    jaccard = top_k_jaccard(a, b, 5)
    for i in range(30):
        expected = metrics.agreement(a[i], b[i])
        for got, key in ((rho, "spearman"), (signed, "spearman_signed"), (jaccard, "jaccard_5")):
            want = expected[key]
            assert (np.isnan(got[i]) and want is None) or got[i] == pytest.approx(want), (i, key)


def test_word_scores_sum_subwords_per_whitespace_word() -> None:
    from attention_atlas.db.compare import _Tokens

    info = _Tokens(
        ("[CLS]", "un", "##like", "##ly", "hero", "[SEP]"),
        np.array([1, 0, 0, 0, 0, 1], bool),
        np.array([0, 0, 2, 6, 9, 0]),
        "unlikely hero",
    )
    scores = np.array([9.0, 1.0, 2.0, 3.0, 4.0, 9.0])
    assert word_scores(info, scores).tolist() == [6.0, 4.0]


@pytest.mark.parametrize(
    "query, message",
    [
        ({}, "Pick two runs"),
        ({"a": "1"}, "Pick two runs"),
        ({"a": "1", "b": "99"}, "No run with id b = 99"),
        ({"a": "-3", "b": "x" * 5000}, "Pick two runs"),
        ({"a": "1", "b": str(2**70)}, "Pick two runs"),
    ],
)
def test_missing_or_unknown_runs_get_a_message(app, store, query, message) -> None:
    from attention_atlas.dashboard.pages import compare

    with app.server.test_request_context():
        page = compare.layout(**query)
    assert message in _text(_find(page, ids.CP_MESSAGE))


def test_runs_without_shared_examples_are_refused_with_a_message(
    tmp_path: Path, tiny_bert_dir: Path, tiny_corpus: Path, store
) -> None:
    import shutil

    from click.testing import CliRunner
    from support.cli import ingest_args

    from attention_atlas.dashboard.pages import compare
    from attention_atlas.ingest.cli import main

    url = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(store[0].removeprefix("sqlite:///"), tmp_path / "copy.db")
    result = CliRunner().invoke(main, ingest_args(tiny_bert_dir, tiny_corpus, url, "--run", "x"))
    assert result.exit_code == 0, result.output
    with create_app(url).server.test_request_context():
        page = compare.layout(a=str(store[1]), b="3")
    assert "share no examples" in _text(_find(page, ids.CP_MESSAGE))


def test_controls_update_the_views_and_the_url_and_survive_hostile_values(app, store) -> None:
    from attention_atlas.dashboard.pages import compare

    _, a, b = store
    search = f"?a={a}&b={b}"
    with app.server.test_request_context():
        dist, worst, heads, state = compare.update_compare("ig", "jaccard_5", "shap", search)
        assert state == f"?a={a}&b={b}&method=ig&ref=shap&sim=jaccard_5"
        assert "Most different ig maps (top-5 Jaccard" in _text(worst)
        assert [t["name"] for t in dist["data"]] == [
            "attention",
            "rollout",
            "grad x input",
            "IG",
            "SHAP",
        ]
        for hostile in ([1, {"x": None}], "\ud800", 10**30, None, "ig,ig"):
            out = compare.update_compare(hostile, hostile, hostile, hostile)
            assert len(out) == 4
            compare.update_compare(hostile, hostile, hostile, search)


def test_side_by_side_view_stacks_both_runs_rows(app, store) -> None:
    from attention_atlas.dashboard.pages import compare_example

    _, a, b = store
    with app.server.test_request_context():
        page = compare_example.layout(a=str(a), b=str(b), source="5")
        missing = compare_example.layout(a=str(a), b=str(b), source="999")
    assert "Run A: trained" in _text(_find(page, ids.CP_SIDE_A))
    assert "Run B: trained-random" in _text(_find(page, ids.CP_SIDE_B))
    assert "not in both runs" in _text(_find(missing, ids.CP_MESSAGE))


def test_similarities_cover_every_measure(app, store) -> None:
    from attention_atlas.dashboard.data.service import service

    _, a, b = store
    with app.server.test_request_context():
        data = service()
        sim = data.similarity(data.run(a), data.run(b))
    assert sim.values.shape == (24, len(sim.methods), len(SIMILARITIES))
    assert not sim.by_words.any()  # same checkpoint, same tokens
    assert np.isfinite(sim.measure("jaccard_5")).all()


def test_accuracy_curves_of_both_runs_are_overlaid(app, store) -> None:
    from attention_atlas.dashboard.pages import compare
    from attention_atlas.db.accuracy_reads import stack_curves
    from attention_atlas.db.analysis.accuracy_curves import relative_accuracy

    url, a, b = store
    with app.server.test_request_context():
        page = compare.layout(a=str(a), b=str(b))
    figure = _find(page, ids.CP_ACCURACY).figure
    names = [t["name"] for t in figure["data"]]
    assert "IG top-k (A)" in names and "IG top-k (B)" in names
    assert "IG bottom-k (A)" in names and "random order (B)" in names
    with session_factory(make_engine(url, readonly=True))() as session:
        stack = stack_curves(session, a)
        correct = session.scalars(
            select(Example.id).where(Example.run_id == a, Example.correct.is_(True))
        ).all()
    rows = np.isin(stack.ids, correct)
    expected = relative_accuracy(stack.same[rows][:, stack.methods.index("ig")])
    got = figure["data"][names.index("IG top-k (A)")]["y"]
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=1e-6)
