"""Ingest end to end through the CLI and the real ``from_pretrained`` path: what lands in the
database for encoder, decoder and zero-shot checkpoints, and whether it is what the model saw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result
from conftest import corpus_rows, write_csv
from sqlalchemy import select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.models import Attention, Example, Run

FULL_CAP = 10  # tokens; the tiny corpus has examples on both sides of it


def run_cli(*args: str) -> Result:
    result = CliRunner().invoke(main, ["ingest", "-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result


def stored(url: str) -> tuple[Run, list[tuple[Example, Attention]]]:
    with session_factory(make_engine(url))() as session:
        run = session.scalars(select(Run)).one()
        pairs = session.execute(
            select(Example, Attention)
            .join(Attention, Attention.example_id == Example.id)
            .order_by(Example.source_index)
        ).all()
    return run, [tuple(p) for p in pairs]


def ingest_tiny(model_dir: Path, corpus: Path, url: str, *extra: str) -> None:
    cap = ("--full-attention-max-tokens", str(FULL_CAP))
    run_cli(*ingest_args(model_dir, corpus, url, *cap, *extra)[1:])  # run_cli adds "ingest"


def test_bert_ingest_stores_examples_and_run(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory(migrated=False)  # ingest migrates a fresh database itself
    ingest_tiny(tiny_bert_dir, tiny_corpus, url)
    run, pairs = stored(url)
    assert (run.status, run.n_source, run.n_done, run.n_skipped) == ("complete", 13, 12, 1)
    assert (run.adapter, run.num_layers, run.num_heads) == ("encoder", 2, 4)
    assert run.label_names == ["negative", "positive"] and run.methods == []
    assert run.settings["full_attention_max_tokens"] == FULL_CAP and "torch" in run.versions
    expected = [i for i in range(13) if i != 5]  # row 5 is whitespace only
    assert [e.source_index for e, _ in pairs] == expected
    labels = [r["label"] for r in corpus_rows(12)]
    for example, _ in pairs:
        source_row = example.source_index - (example.source_index > 5)
        assert example.label == labels[source_row]
        assert example.tokens[0] == "[CLS]" and example.tokens[-1] == "[SEP]"
        assert example.special_mask[0] and example.special_mask[-1]
        assert not example.special_mask[1:-1].any()
        assert example.prediction_position == 0 and example.length == len(example.tokens)
        assert example.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
        assert example.confidence == pytest.approx(example.probabilities[example.prediction])
        assert example.correct == (example.label == example.prediction)
        text_words = example.text.split()
        assert example.tokens[1:-1] == text_words  # every tiny-vocab word is one token
        assert example.word_ids.tolist() == [-1, *range(len(text_words)), -1]


def _model_attentions(model_dir: Path, kind: str, ids: list[int]) -> tuple[Any, torch.Tensor]:
    """Attention of the real model on one unpadded example: [layers, heads, T, T], logits."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, attn_implementation="eager"
    ).eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    return torch.stack([a[0] for a in out.attentions]).numpy(), out.logits[0]


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_stored_prediction_rows_equal_model_attention(
    kind: str,
    request: pytest.FixtureRequest,
    tiny_corpus: Path,
    sqlite_url_factory: Callable[..., str],
) -> None:
    from transformers import AutoTokenizer

    model_dir = request.getfixturevalue(f"tiny_{kind}_dir")
    url = sqlite_url_factory()
    ingest_tiny(model_dir, tiny_corpus, url)
    _, pairs = stored(url)
    lengths = sorted(e.length for e, _ in pairs)
    batches = [lengths[i : i + 4] for i in range(0, len(lengths), 4)]
    assert any(b[0] != b[-1] for b in batches), "the test needs padded batches"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    for example, attention in pairs:
        ids = tokenizer.convert_tokens_to_ids(example.tokens)
        expected_position = 0 if kind == "bert" else example.length - 1
        assert example.prediction_position == expected_position
        full, logits = _model_attentions(model_dir, kind, ids)
        assert attention.rows.shape == (2, 4, example.length)
        # rows are stored float16 (probabilities shown on the example page), like ``full``
        assert attention.rows.dtype == np.float16
        np.testing.assert_allclose(attention.rows, full[:, :, expected_position, :], atol=1e-3)
        np.testing.assert_allclose(attention.rows.sum(axis=-1, dtype=np.float32), 1.0, atol=1e-2)
        probabilities = torch.softmax(logits, -1).numpy()
        np.testing.assert_allclose(example.probabilities, probabilities, atol=1e-5)
        if example.length <= FULL_CAP:
            assert attention.full.dtype == np.float16
            np.testing.assert_allclose(attention.full, full, atol=1e-3)
        else:
            assert attention.full is None


def test_zero_shot_scores_verbalizers_after_the_prompt(
    tiny_gpt2_lm_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    url = sqlite_url_factory()
    ingest_tiny(
        tiny_gpt2_lm_dir,
        tiny_corpus,
        url,
        "--zero-shot",
        "--prompt",
        "Review: {text}\nSentiment:",
        "--verbalizers",
        " negative, positive",
    )
    run, pairs = stored(url)
    assert run.adapter == "zero_shot" and run.label_names == ["negative", "positive"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_lm_dir)
    model = AutoModelForCausalLM.from_pretrained(
        tiny_gpt2_lm_dir, attn_implementation="eager"
    ).eval()
    verbalizers = tokenizer.convert_tokens_to_ids(["Ġnegative", "Ġpositive"])
    for example, attention in pairs[:4]:
        prompt = f"Review: {example.text}\nSentiment:"
        ids = tokenizer(prompt)["input_ids"]
        assert tokenizer.convert_tokens_to_ids(example.tokens) == ids
        assert example.prediction_position == len(ids) - 1
        content = [t for t, s in zip(example.tokens, example.special_mask, strict=True) if not s]
        assert tokenizer.convert_tokens_to_string(content).strip() == example.text.strip()
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), output_attentions=True)
        expected = torch.softmax(out.logits[0, -1, verbalizers], -1).numpy()
        np.testing.assert_allclose(example.probabilities, expected, atol=1e-5)
        rows = torch.stack([a[0, :, -1, :] for a in out.attentions]).numpy()
        np.testing.assert_allclose(attention.rows, rows, atol=1e-3)  # stored float16


def test_max_length_truncates_and_records_it(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory()
    ingest_tiny(tiny_bert_dir, tiny_corpus, url, "--max-length", "6")
    _, pairs = stored(url)
    for example, attention in pairs:
        words = len(example.text.split())
        assert example.length == min(words + 2, 6)
        assert example.truncated == (words + 2 > 6)
        assert example.tokens[-1] == "[SEP]" and attention.rows.shape[-1] == example.length


def test_threads_sets_torch_threads_without_changing_the_run(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    before = torch.get_num_threads()
    url = sqlite_url_factory()
    try:
        ingest_tiny(tiny_bert_dir, tiny_corpus, url, "--threads", "1", "--limit", "6")
        assert torch.get_num_threads() == 1
        ingest_tiny(tiny_bert_dir, tiny_corpus, url, "--limit", "6")  # the same run again
    finally:
        torch.set_num_threads(before)
    run, pairs = stored(url)  # one() fails if the thread count had split the run
    assert "threads" not in run.settings and len(pairs) == 5  # of 6 rows, one is blank


def test_sample_and_limit_pick_the_same_rows_every_time(
    tiny_bert_dir: Path, tmp_path: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    corpus = write_csv(tmp_path / "c.csv", corpus_rows(40))
    url = sqlite_url_factory()
    ingest_tiny(
        tiny_bert_dir, corpus, url, "--sample", "8", "--seed", "3", "--limit", "5", "--run", "s"
    )
    _, pairs = stored(url)
    picked = [e.source_index for e, _ in pairs]
    from attention_atlas.ingest.corpus import load_corpus

    again = load_corpus(str(corpus), sample=8, seed=3, limit=5)
    other = load_corpus(str(corpus), sample=8, seed=4, limit=5)
    assert picked == [item.source_index for item in again.items] and len(picked) == 5
    assert picked != [item.source_index for item in other.items]


def test_decoder_detection_uses_transformers_mappings() -> None:
    from transformers import BertConfig, GPT2Config, RobertaConfig

    from attention_atlas.ingest.loading import is_decoder

    assert is_decoder(GPT2Config()) and not is_decoder(BertConfig())
    assert not is_decoder(RobertaConfig())  # has a causal-LM head too, but is an encoder


def test_randomize_weights_is_seeded_and_changes_every_weight(tiny_bert_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    from attention_atlas.ingest.loading import randomize_weights

    def load():
        return AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir)

    trained, first, second = load(), load(), load()
    randomize_weights(first, seed=1)
    randomize_weights(second, seed=1)
    reference = dict(trained.named_parameters())
    for name, param in first.named_parameters():
        torch.testing.assert_close(param, dict(second.named_parameters())[name])
        if param.std() > 0:  # constant inits (LayerNorm, biases) may coincide by design
            assert not torch.equal(param, reference[name]), name


def test_fresh_head_loads_a_checkpoint_without_classifier(tmp_path: Path) -> None:
    from support.checkpoints import save_tiny_gpt2

    from attention_atlas.ingest.loading import CheckpointError, LoadRequest, load_adapter

    lm = save_tiny_gpt2(tmp_path / "lm", lm_head=True)
    with pytest.raises(CheckpointError, match="not a sequence classifier"):
        load_adapter(LoadRequest(str(lm), device="cpu"), None)
    adapter = load_adapter(LoadRequest(str(lm), fresh_head=True, device="cpu"), ["n", "p", "x"])
    assert adapter.kind == "decoder" and adapter.label_names == ["n", "p", "x"]
    assert adapter.model.score.out_features == 3
    assert adapter.model.config.pad_token_id == adapter.tokenizer.pad_token_id is not None


def test_attention_shares_are_stored_per_head(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    """first_share / special_share are the prediction rows' mass on those tokens, computed at
    ingest from the float32 rows (the stored rows are float16, hence the tolerance)."""
    url = sqlite_url_factory(migrated=False)
    ingest_tiny(tiny_bert_dir, tiny_corpus, url)
    _, pairs = stored(url)
    for example, attention in pairs:
        rows = attention.rows.astype(np.float32)
        assert attention.first_share.shape == rows.shape[:2]
        np.testing.assert_allclose(attention.first_share, rows[..., 0] / rows.sum(-1), atol=2e-3)
        mass = rows[..., example.special_mask].sum(-1) / rows.sum(-1)
        np.testing.assert_allclose(attention.special_share, mass, atol=2e-3)
