"""Encoder-decoder classifiers (BART, T5) end to end: the adapter pools as the model does, every
default method (and the stack-qualified ones) is stored through the CLI, attention rows of every
stack sum to 1, IG completes on the input's tokens, Chefer et al.'s rollout rule on a
hand-computed case, and the user errors around stacks. Tiny random models from a config; BART
with its real byte-level BPE (the GPT-2 files in ../shared/data), T5 with a real ``T5Tokenizer``
over a vocabulary built in the test."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import select
from support.checkpoints import GPT2_TOKENIZER_DIR
from support.methods import TEXTS, build_adapter, params, run_forward, save_checkpoint
from support.pages import assert_every_page_renders

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.methods import ig as ig_method
from attention_atlas.ingest.methods.attention import encoder_decoder_rollout
from attention_atlas.ingest.methods.base import targets_of
from attention_atlas.models import (
    Agreement,
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
    Run,
    StackAttention,
    vocabulary,
)

KINDS = ("bart", "t5")
STACK_METHODS = vocabulary.methods_for_stacks(vocabulary.default_method_ids(), vocabulary.STACKS)


@pytest.fixture(scope="module", params=KINDS)
def folder(request, tmp_path_factory) -> Path:
    return save_checkpoint(request.param, tmp_path_factory.mktemp(request.param))


def ingest(*args: str):
    return CliRunner().invoke(main, ["ingest", "-q", *args])


def test_defaults_gain_the_stack_methods() -> None:
    assert STACK_METHODS == (
        "attention",
        "attention_decoder",
        "attention_cross",
        "rollout",
        "agrad",
        "agrad_decoder",
        "agrad_cross",
        "grad_input",
        "ig",
        "shap",
    )
    # a one-stack model, or a chosen list, keeps what it has
    assert vocabulary.methods_for_stacks(vocabulary.default_method_ids(), ()) == (
        vocabulary.default_method_ids()
    )
    assert vocabulary.methods_for_stacks(("ig",), vocabulary.STACKS) == ("ig",)


def test_adapter_pools_the_final_eos_as_the_model_does(folder: Path) -> None:
    adapter = build_adapter(folder.name, folder)
    items, batch, forward = run_forward(adapter, TEXTS)
    for item in items:
        assert item.input_ids[item.prediction_position] == adapter.tokenizer.eos_token_id
        assert item.prediction_position == item.length - 1
    with torch.no_grad():  # every text holds one </s>, so the model's own pooling works here
        own = adapter.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
    torch.testing.assert_close(forward.logits, own.logits, atol=1e-5, rtol=1e-4)
    encoder, decoder = adapter.stack_shapes["encoder"], adapter.stack_shapes["decoder"]
    assert len(forward.attentions) == encoder[0] and forward.attentions[0].shape[1] == encoder[1]
    for stack in ("decoder", "cross"):
        layers = forward.stacks[stack]
        assert len(layers) == decoder[0] and layers[0].shape[1] == decoder[1]


def test_every_default_method_stored_with_every_stack(
    folder: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory()
    result = ingest(
        *("--model", str(folder), "--dataset", str(tiny_corpus), "--label-field", "label"),
        *("--db", url, "--shap-evals", "64", "--ig-steps", "16", "--batch-size", "4"),
    )
    assert result.exit_code == 0, result.output
    with session_factory(make_engine(url))() as session:
        run = session.scalars(select(Run)).one()
        assert run.adapter == "encoder_decoder" and run.methods == list(STACK_METHODS)
        examples = session.scalars(select(Example).where(Example.run_id == run.id)).all()
        assert len(examples) == 12
        for example in examples:
            _check_example(session, example)


def _check_example(session, example: Example) -> None:
    n, pos = example.length, example.prediction_position
    assert example.tokens[pos] in ("</s>",) and pos == n - 1
    methods = dict(
        session.execute(
            select(Attribution.method, Attribution.scores).where(
                Attribution.example_id == example.id
            )
        ).all()
    )
    assert sorted(methods) == sorted(STACK_METHODS)
    assert all(s.shape == (n,) and np.isfinite(s).all() for s in methods.values())
    pairs = session.execute(
        select(Agreement.method_a, Agreement.method_b).where(Agreement.example_id == example.id)
    ).all()
    assert sorted(pairs) == sorted(combinations(STACK_METHODS, 2))
    faithful = session.scalars(
        select(Faithfulness.method).where(Faithfulness.example_id == example.id)
    ).all()
    assert sorted(faithful) == sorted([*STACK_METHODS, "random"])
    refs = session.scalars(select(HeadScore.reference).where(HeadScore.example_id == example.id))
    expected = [
        vocabulary.stack_reference(ref, stack)
        for ref in vocabulary.reference_method_ids()
        if ref in STACK_METHODS  # grids against every computed main-stack method
        for stack in vocabulary.STACKS
    ]
    assert sorted(refs.all()) == sorted(expected)
    rows = {"encoder": session.get(Attention, example.id).rows}
    for stored in session.scalars(
        select(StackAttention).where(StackAttention.example_id == example.id)
    ):
        rows[stored.stack] = stored.rows
        assert stored.full is not None and stored.full.shape[-2:] == (n, n)
    assert sorted(rows) == sorted(vocabulary.STACKS)
    for stack_rows in rows.values():  # float16 in the store: 1 within 1e-2
        np.testing.assert_allclose(stack_rows.astype(np.float64).sum(-1), 1.0, atol=1e-2)
    # the unqualified method reads the encoder, the qualified ones their stack
    for stack, method in (("encoder", "attention"), ("decoder", "attention_decoder")):
        mean_row = rows[stack][-1].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(methods[method], mean_row, atol=2e-3)
    np.testing.assert_allclose(
        methods["attention_cross"], rows["cross"][-1].astype(np.float64).mean(0), atol=2e-3
    )


@pytest.mark.parametrize("baseline", ["zero", "pad"])
def test_ig_completes_on_the_input_tokens(folder: Path, baseline: str) -> None:
    """IG through both places a token enters (encoder and shifted decoder input) sums to
    f(x) - f(baseline). T5 from the zero baseline converges slowly (see test_methods), so T5
    is held to the pad baseline."""
    if folder.name == "t5" and baseline == "zero":
        pytest.skip("T5's first RMSNorm is singular at the zero baseline (see test_methods)")
    adapter = build_adapter(folder.name, folder)
    items, _, forward = run_forward(adapter, TEXTS)
    results = ig_method.integrated_gradients(
        adapter, items, targets_of(forward), params("ig", steps=300, baseline=baseline)
    )
    for item, result in zip(items, results, strict=True):
        assert np.abs(result.scores[~item.special_mask]).max() > 0
        assert result.check < 2e-3, (item.tokens, result.check)


def test_encoder_decoder_rollout_hand_computed() -> None:
    """Chefer et al. 2021 rules 6, 7 and 10 on one encoder and one decoder layer, 2 tokens."""
    encoder = np.eye(2)[None, None]  # each token attends to itself: R_ee = 2I, R̄_ee = 2I
    decoder = np.array([[1.0, 0.0], [0.5, 0.5]])[None, None]  # causal
    cross = np.array([[0.25, 0.75], [0.6, 0.4]])[None, None]
    # R_dd = I + A_d = [[2, 0], [.5, 1.5]]; R̂ rows already sum to 1, so R̄_dd = R_dd;
    # R_de = R̄_dd^T C R̄_ee = [[2, .5], [0, 1.5]] C 2I = [[1.6, 3.4], [1.8, 1.2]]
    np.testing.assert_allclose(encoder_decoder_rollout(encoder, decoder, cross, 1), [1.8, 1.2])
    np.testing.assert_allclose(encoder_decoder_rollout(encoder, decoder, cross, 0), [1.6, 3.4])


def test_stack_methods_refused_on_a_one_stack_model(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    result = ingest(
        *("--model", str(tiny_bert_dir), "--dataset", str(tiny_corpus)),
        *("--db", sqlite_url_factory(), "--methods", "attention,agrad_cross"),
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "agrad_cross" in result.output and "one attention stack" in result.output


def test_zero_shot_refused_on_an_encoder_decoder(
    tmp_path: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    if not GPT2_TOKENIZER_DIR.exists():
        pytest.skip(f"BART needs the GPT-2 tokenizer files in {GPT2_TOKENIZER_DIR}")
    folder = save_checkpoint("bart", tmp_path)
    result = ingest(
        *("--model", str(folder), "--dataset", str(tiny_corpus), "--zero-shot"),
        *("--db", sqlite_url_factory()),
    )
    assert result.exit_code == 2 and "encoder-decoder" in result.output


# -- the dashboard over an encoder-decoder run ------------------------------------------
def _app_over(kind: str, root):
    """A store holding one tiny ``kind`` run (the real ingest, default methods), the app over
    it, and its first example's id."""
    from conftest import corpus_rows, write_csv

    from attention_atlas.dashboard.server.app import create_app

    folder = save_checkpoint(kind, root)
    corpus = write_csv(root / "corpus.csv", corpus_rows(8))
    url = f"sqlite:///{root / 'atlas.db'}"
    result = ingest(
        *("--model", str(folder), "--dataset", str(corpus), "--label-field", "label"),
        *("--db", url, "--shap-evals", "32", "--ig-steps", "8", "--batch-size", "4"),
    )
    assert result.exit_code == 0, result.output
    return create_app(url)


@pytest.fixture(scope="module")
def bart_app(tmp_path_factory):
    """A store holding one tiny BART run (the real ingest), and the app over it."""
    if not GPT2_TOKENIZER_DIR.exists():
        pytest.skip(f"BART needs the GPT-2 tokenizer files in {GPT2_TOKENIZER_DIR}")
    return _app_over("bart", tmp_path_factory.mktemp("bart-dash"))


@pytest.fixture
def bart_ctx(bart_app):
    with bart_app.server.test_request_context("/"):
        yield bart_app


def test_every_page_opens_for_an_encoder_decoder_run(bart_app) -> None:
    client = bart_app.server.test_client()
    for path in (
        "/",
        "/example/1",
        "/example/1?stack=cross&layer=1&head=1",
        "/heads?stack=decoder",
        "/heads?stack=nonsense",
        "/faithfulness",
        "/faithfulness?view=accuracy",
        "/compare?a=1&b=1",
        "/views",
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("kind", ["bart", "t5"])
def test_every_page_renders_for_bart_and_t5(kind, request, tmp_path, caplog) -> None:
    app = request.getfixturevalue("bart_app") if kind == "bart" else _app_over("t5", tmp_path)
    stacks = tuple(f"/{p}?stack={s}" for p in ("heads", "example/1") for s in ("decoder", "cross"))
    assert_every_page_renders(app, 1, caplog, extra=stacks)


def test_pages_render_every_stack(bart_ctx) -> None:
    from attention_atlas.dashboard.pages import compare, corpus, example, faithfulness, heads, views
    from attention_atlas.dashboard.urlstate import HeadsState

    for page in (corpus, heads, faithfulness, views):
        assert page.layout() is not None
    assert compare.layout(a="1", b="1") is not None
    assert "not found" not in str(example.layout(example_id="1")).lower()
    shapes = {"encoder": (2, 4), "decoder": (2, 2), "cross": (2, 2)}
    for stack, shape in shapes.items():
        assert f"'value': '{stack}'" in str(heads.layout(stack=stack))
        grid, trend, _ = heads.heads_view(HeadsState.parse(f"?stack={stack}&stat=rho"))
        assert np.asarray(grid["data"][0]["z"]).shape == shape
        sink, _, _ = heads.heads_view(HeadsState.parse(f"?stack={stack}&stat=first"))
        assert np.asarray(sink["data"][0]["z"]).shape == shape
        rows, heatmap, head_grid, search = example.update_example(
            1, "", "subword", [1], 1, 1, "ig", None, None, None, stack
        )
        assert heatmap["data"] and np.asarray(head_grid["data"][0]["z"]).shape == shape
        assert ("stack=" in search) == (stack != "encoder") and "layer=1" in search
        layers, heads_options = example.stack_options(1, stack)
        assert (len(layers) - 1, len(heads_options) - 1) == shape
    # the encoder's layer 3 does not exist: dropped, not an error
    _, _, _, search = example.update_example(1, "", "subword", [], 3, 3, "ig", None, None, None)
    assert "layer" not in search
    fig, *_ = faithfulness.update_faithfulness("accuracy", None, "")
    names = {trace.get("name") for trace in fig["data"]}
    assert {"attention (cross)", "AGrad (decoder) top-k", "AGrad (cross) bottom-k"} <= names


def test_stack_key_is_ignored_on_a_one_stack_run(tmp_path) -> None:
    from support.dash_fixtures import build_store

    from attention_atlas.dashboard.pages import heads
    from attention_atlas.dashboard.server.app import create_app
    from attention_atlas.dashboard.urlstate import HeadsState

    url, _ = build_store(tmp_path, n_examples=12)
    app = create_app(url)
    with app.server.test_request_context("/"):
        plain, _, _ = heads.heads_view(HeadsState.parse("?stat=rho"))
        asked, _, _ = heads.heads_view(HeadsState.parse("?stat=rho&stack=cross"))
        assert plain["data"][0]["z"] == asked["data"][0]["z"]
        assert "display" in str(heads.layout())  # the picker is hidden
