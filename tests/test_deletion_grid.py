"""Deletion curves at real length: the grid (every k to 20, then 4 per doubling, up to half
the content tokens), the stored values against direct forward passes at grid points, the read
API's k and fraction, the faithfulness page against k and against the deleted fraction, and a
store in the format written before the grid (k = 0..20, no grid in the run's settings)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import select, update
from support.checkpoints import CORPUS_WORDS
from support.cli import ingest_args
from support.methods import build_adapter, save_checkpoint

import attention_atlas
from attention_atlas.db.analysis.deletion_axes import FRACTION_AXIS, carried, on_fractions
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.faithfulness import bottom_ranking, faithfulness_batch, ranking
from attention_atlas.ingest.methods.base import targets_of
from attention_atlas.models import Faithfulness, Run
from attention_atlas.models.deletion_grid import GRID, LEGACY, SETTINGS_KEY, grid_of

torch.set_num_threads(1)
LONG_WORDS = (200, 61, 12)  # content tokens of the test corpus (one token per word)


def _text(n_words: int, seed: int) -> str:
    return " ".join(CORPUS_WORDS[(seed * 13 + j * 7) % len(CORPUS_WORDS)] for j in range(n_words))


# -- the grid ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 7, 20])
def test_short_texts_delete_every_token_one_by_one(n: int) -> None:
    assert GRID.ks(n).tolist() == list(range(n + 1))
    assert LEGACY.ks(n).tolist() == list(range(n + 1))


@pytest.mark.parametrize("n", [21, 33, 40])
def test_texts_up_to_40_tokens_stop_at_k_20(n: int) -> None:
    assert GRID.ks(n).tolist() == list(range(21))  # 20 >= half of them already


def test_a_512_token_review_reaches_half_its_tokens_in_36_passes() -> None:
    ks = GRID.ks(510)  # a 512-token review less [CLS] and [SEP]
    assert ks[:21].tolist() == list(range(21))
    assert ks[21:].tolist() == [24, 28, 34, 40, 48, 57, 67, 80, 95, 113, 135, 160, 190, 226, 269]
    assert 255 <= ks[-1] <= 510 and ks[-2] < 255  # the first point at or past half
    assert (np.diff(ks[20:]) / ks[20:-1] <= 0.22).all()  # 4 per doubling: steps of ~19%
    assert LEGACY.ks(510).tolist() == list(range(21))


def test_every_example_stops_at_half_on_one_shared_axis() -> None:
    for n in range(0, 3000, 7):
        ks = GRID.ks(n)
        assert (ks == GRID.first(len(ks))).all()  # a prefix: curves line up index by index
        assert min(n, max(20, (n + 1) // 2)) <= ks[-1] <= n


@pytest.mark.parametrize(
    ("settings", "grid"),
    [
        (None, LEGACY),
        ({}, LEGACY),
        ({"removal": "mask, else pad"}, LEGACY),
        ({SETTINGS_KEY: "junk"}, LEGACY),
        ({SETTINGS_KEY: {"dense": 20}}, LEGACY),
        ({SETTINGS_KEY: {"dense": 0, "per_doubling": 4, "reach": 0.5}}, LEGACY),
        ({SETTINGS_KEY: {"dense": 20, "per_doubling": 0, "reach": 0.5}}, LEGACY),
        ({SETTINGS_KEY: GRID.provenance()}, GRID),
    ],
)
def test_a_run_without_a_recorded_grid_reads_as_k_up_to_20(settings, grid) -> None:
    assert grid_of(settings) == grid


# -- the two axes --------------------------------------------------------------------------
def test_fraction_axis_reads_each_curve_at_its_own_length() -> None:
    k = GRID.first(40)
    curves = np.full((3, 1, 40), np.nan, dtype=np.float32)
    short = GRID.ks(10)  # all 10 tokens, one by one
    curves[0, 0, : len(short)] = 1 - short / 10
    long = GRID.ks(100)  # up to 57 of 100 tokens
    curves[1, 0, : len(long)] = long  # the value is k itself: linear in k
    old = LEGACY.ks(100)  # a run stored before the grid: 20 of 100 tokens
    curves[2, 0, : len(old)] = old
    content = np.array([10, 100, 100])
    out = on_fractions(curves, k, content)
    assert out.shape == (3, 1, len(FRACTION_AXIS))
    np.testing.assert_allclose(out[0, 0], 1 - FRACTION_AXIS, atol=1e-6)
    np.testing.assert_allclose(out[1, 0], FRACTION_AXIS * 100, atol=1e-4)  # 30% -> k = 30
    reached = FRACTION_AXIS <= 0.20
    np.testing.assert_allclose(out[2, 0, reached], FRACTION_AXIS[reached] * 100, atol=1e-4)
    assert np.isnan(out[2, 0, ~reached]).all()  # past k = 20 it has no value


def test_k_axis_carries_only_examples_with_every_token_deleted() -> None:
    k = GRID.first(25)
    curves = np.full((2, 1, 25), np.nan)
    curves[0, 0, :6] = [1, 0.8, 0.6, 0.4, 0.2, 0.1]  # 5 tokens, all deleted at k = 5
    curves[1, 0, :22] = np.linspace(1, 0.5, 22)  # 44 tokens, stopped at k = 24 of them
    out = carried(curves, k, np.array([5, 44]))
    assert (out[0, 0, 6:] == 0.1).all()
    assert np.isnan(out[1, 0, 22:]).all()


# -- what ingest stores --------------------------------------------------------------------
@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return build_adapter("bert", save_checkpoint("bert", tmp_path_factory.mktemp("grid")))


def _prob(adapter, ids: np.ndarray, position: int, target: int) -> float:
    with torch.no_grad():
        logits = adapter.forward(
            None,
            input_ids=torch.tensor(ids[None]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            prediction_positions=torch.tensor([position]),
        ).logits
    return float(torch.softmax(logits, -1)[0, target])


def test_stored_curves_equal_direct_forwards_at_grid_points(bert) -> None:
    items = [bert.encode(_text(n, i)) for i, n in enumerate(LONG_WORDS[:2])]
    with torch.no_grad():
        targets = targets_of(bert.forward(bert.collate(items))).tolist()
    rng = np.random.default_rng(0)
    scores = [{"grad_input": rng.normal(size=item.length)} for item in items]
    out = faithfulness_batch(bert, items, scores, targets, seed=1, budget=4000)
    for item, target, score, rows in zip(items, targets, scores, out, strict=True):
        row = next(r for r in rows if r["method"] == "grad_input")
        n = int((~item.special_mask).sum())
        ks = GRID.ks(n)
        assert len(row["deletion"]) == len(row["deletion_bottom"]) == len(ks)
        ids, pos = np.asarray(item.input_ids), item.prediction_position
        for order, curve in (
            (ranking(item, score["grad_input"]), row["deletion"]),
            (bottom_ranking(item, score["grad_input"]), row["deletion_bottom"]),
        ):
            for index in (0, 20, 21, len(ks) - 1):
                removed = ids.copy()
                removed[order[: ks[index]]] = bert.removal_token_id
                direct = _prob(bert, removed, pos, target)
                assert curve[index] == pytest.approx(direct, abs=1e-5), (n, ks[index])
    assert GRID.ks(200)[-1] == 113  # the 200-token text was deleted up to 113 tokens


# -- the store, the read API and the page --------------------------------------------------
@pytest.fixture
def long_store(
    tiny_bert_dir: Path, tmp_path: Path, sqlite_url_factory: Callable[..., str]
) -> tuple[str, int]:
    corpus = tmp_path / "long.csv"
    rows = ["text,label"] + [f"{_text(n, i)},{i % 2}" for i, n in enumerate(LONG_WORDS)]
    corpus.write_text("\n".join(rows) + "\n")
    url = sqlite_url_factory()
    args = ingest_args(tiny_bert_dir, corpus, url, "--methods", "attention,grad_input", "-q")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with session_factory(make_engine(url))() as session:
        return url, session.scalars(select(Run.id)).one()


def _as_before_the_grid(url: str) -> None:
    """Rewrite the store as the code before the grid wrote it: curves at k = 0..min(20, n)
    (its first points, which the grid shares) and no grid in the run's settings."""
    columns = ("deletion", "deletion_same", "deletion_bottom", "deletion_bottom_same")
    with session_factory(make_engine(url)).begin() as session:
        rows = session.execute(
            select(Faithfulness.id, *(getattr(Faithfulness, c) for c in columns))
        )
        for row_id, *curves in rows.all():
            cut = {c: v[:21].copy() for c, v in zip(columns, curves, strict=True) if v is not None}
            session.execute(update(Faithfulness).where(Faithfulness.id == row_id).values(**cut))
        settings = session.scalars(select(Run.settings)).one()
        cleared = {k: v for k, v in settings.items() if k != SETTINGS_KEY}
        session.execute(update(Run).values(settings=cleared))


def test_read_api_returns_the_grid_and_the_fraction(long_store) -> None:
    url, run_id = long_store
    run = attention_atlas.open(url).run(run_id)
    frame = run.curves()
    assert frame.attrs["grid"] == GRID.provenance()
    examples = run.examples()
    for example_id, text in zip(examples["id"], examples["text"], strict=True):
        n = len(text.split())
        ours = frame[(frame["example_id"] == example_id) & (frame["method"] == "attention")]
        assert ours["k"].tolist() == GRID.ks(n).tolist()
        np.testing.assert_allclose(ours["fraction"], GRID.ks(n) / n)
        assert ours["fraction"].iloc[-1] >= 0.5
    _as_before_the_grid(url)
    old = attention_atlas.open(url).run(run_id).curves()
    assert old.attrs["grid"] == LEGACY.provenance() and old["k"].max() == 20


def _old_reach(url: str, run_id: int, view: str) -> float:
    """The fraction every example of the view reaches with curves at k = 0..20: 20 / n of
    the longest (the accuracy view counts the originally correct examples only)."""
    examples = attention_atlas.open(url).run(run_id).examples()
    if view == "accuracy":
        examples = examples[examples["correct"] == True]  # noqa: E712
    return min(min(20, n) / n for n in (len(t.split()) for t in examples["text"]))


@pytest.mark.parametrize("view", ["probability", "accuracy"])
def test_page_plots_against_k_and_fraction_and_reads_old_stores(long_store, view) -> None:
    from attention_atlas.dashboard.server.app import create_app

    url, run_id = long_store
    search = f"?run={run_id}&view={view}"
    app = create_app(url)
    from attention_atlas.dashboard.pages import faithfulness  # after the app: dash pages

    with app.server.test_request_context("/"):
        fig, _, _, _, state = faithfulness.update_faithfulness(view, None, search, "k")
        xs = {tuple(t["x"]) for t in fig["data"] if t.get("showlegend") is not False}
        assert max(max(x) for x in xs) == GRID.ks(200)[-1]  # the longest text's last k
        assert "dtick" not in fig["layout"]["xaxis"]
        fig, note, _, _, state = faithfulness.update_faithfulness(view, None, search, "fraction")
        assert "x=fraction" in state
        lines = [t for t in fig["data"] if t.get("showlegend") is not False]
        assert all(t["x"] == FRACTION_AXIS.tolist() for t in lines)
        assert all(t["y"][-1] is not None for t in lines)  # every example reaches 50%
        assert fig["layout"]["xaxis"]["tickformat"] == ".0%"
    _as_before_the_grid(url)
    app = create_app(url)
    with app.server.test_request_context("/"):
        fig, *_ = faithfulness.update_faithfulness(view, None, search, "k")
        lines = [t for t in fig["data"] if t.get("showlegend") is not False]
        assert all(t["x"] == list(range(21)) for t in lines)  # plotted as before the grid
        assert fig["layout"]["xaxis"]["dtick"] == 1
        fig, *_ = faithfulness.update_faithfulness(view, None, search, "fraction")
        lines = [t for t in fig["data"] if t.get("showlegend") is not False]
        reached = _old_reach(url, run_id, view) + 1e-9 >= FRACTION_AXIS
        for line in lines:  # one population all along: up to where every example reaches
            assert all(y is not None for y, r in zip(line["y"], reached, strict=True) if r)
            assert all(y is None for y, r in zip(line["y"], reached, strict=True) if not r)
    client = app.server.test_client()
    for axis in ("k", "fraction", "junk"):
        assert client.get(f"/faithfulness{search}&x={axis}").status_code == 200


def test_example_page_plots_an_example_curve_at_its_k(long_store) -> None:
    from attention_atlas.dashboard.server.app import create_app

    url, run_id = long_store
    app = create_app(url)
    from attention_atlas.dashboard.pages import example  # after the app: dash pages

    examples = attention_atlas.open(url).run(run_id).examples()
    longest = examples.loc[examples["length"].idxmax(), "id"]
    with app.server.test_request_context("/"):
        run = attention_atlas.open(url).run(run_id).info
        fig = example._deletion(int(longest), run)
    assert {tuple(t["x"]) for t in fig["data"]} == {tuple(GRID.ks(200).tolist())}
