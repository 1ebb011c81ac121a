"""Sentence pairs (``--text-field premise,hypothesis``) with three classes: a BERT pair
classifier gets the tokenizer's segment ids in every forward pass of every method, a RoBERTa
one its double separator; both texts, the second text's start and each method's share of mass
on it are stored; ``explain --text --text-pair`` stores a hand-typed pair the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import select
from support.checkpoints import GPT2_TOKENIZER_DIR, NLI_LABELS, save_tiny_bert, save_tiny_roberta
from support.pair_store import nli_rows, pair_ingest_args, write_nli_csv

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.models import Attribution, Example, Faithfulness, Run, vocabulary


@pytest.fixture
def nli_corpus(tmp_path: Path) -> Path:
    return write_nli_csv(tmp_path / "nli.csv", 6)


@pytest.fixture(scope="module")
def nli_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("nli-bert"), labels=NLI_LABELS)


@pytest.fixture(scope="module")
def nli_roberta_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (GPT2_TOKENIZER_DIR / "vocab.json").exists():
        pytest.skip(f"GPT-2 tokenizer files not found at {GPT2_TOKENIZER_DIR}")
    return save_tiny_roberta(tmp_path_factory.mktemp("nli-roberta"), GPT2_TOKENIZER_DIR)


def ingest_pairs(model: Path, corpus: Path, db_url: str) -> None:
    args = pair_ingest_args(model, corpus, db_url)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def stored_examples(db_url: str) -> tuple[Run, list[Example], dict]:
    with session_factory(make_engine(db_url))() as session:
        run = session.scalars(select(Run)).one()
        examples = session.scalars(select(Example).order_by(Example.source_index)).all()
        rows = session.execute(
            select(Attribution.example_id, Attribution.method, Attribution.scores,
                   Attribution.pair_share)
        ).all()  # fmt: skip
        faithful = session.execute(select(Faithfulness.example_id, Faithfulness.method)).all()
    attributions: dict = {}
    for example_id, method, scores, share in rows:
        attributions.setdefault(example_id, {})[method] = (scores, share)
    return run, list(examples), {"attributions": attributions, "faithfulness": faithful}


def check_pair_store(db_url: str) -> list[Example]:
    """Every default method over both texts' tokens, with its share of mass on the second."""
    run, examples, found = stored_examples(db_url)
    rows = nli_rows(6)
    assert run.label_names == list(NLI_LABELS) and run.text_field == "premise,hypothesis"
    assert len(examples) == 6
    methods = set(vocabulary.default_method_ids())
    for example in examples:
        row = rows[example.source_index]
        assert (example.text, example.text_pair) == (row["premise"], row["hypothesis"])
        assert example.label == NLI_LABELS.index(str(row["label"]))
        assert example.probabilities.shape == (3,)
        start = example.pair_start
        first, second = np.arange(example.length) < start, np.arange(example.length) >= start
        content = ~example.special_mask
        # offsets of each text's tokens spell that text's words
        for position in np.flatnonzero(content):
            a, b = example.offsets[position]
            source = example.text if position < start else example.text_pair
            assert source[a:b].strip().lower() in example.tokens[position].lower().replace("ġ", "")
        assert (content & first).any() and (content & second).any()
        by_method = found["attributions"][example.id]
        assert set(by_method) == methods
        # the specials ([CLS] / <s>, the separators) are the frame: IG's baseline keeps them
        # and SHAP never masks them, so neither credits them
        special = np.asarray(example.special_mask, dtype=bool)
        for method in ("ig", "shap"):
            assert (by_method[method][0][special] == 0).all(), method
        for method, (scores, share) in by_method.items():
            mass = np.abs(scores) * content
            assert mass[second].sum() > 0 and mass[first].sum() > 0, method
            assert share == pytest.approx(mass[second].sum() / mass.sum(), rel=1e-5), method
    faithful = {(e, m) for e, m in found["faithfulness"]}
    assert {m for _, m in faithful} == methods | {vocabulary.RANDOM.id}
    return examples


@pytest.mark.slow
def test_bert_pair_gets_segment_ids_in_every_forward_pass(
    nli_bert_dir: Path, nli_corpus: Path, sqlite_url_factory: Callable[..., str], monkeypatch
) -> None:
    from transformers.models.bert import modeling_bert

    seen: list[torch.Tensor | None] = []
    original = modeling_bert.BertEmbeddings.forward

    def recording(self, input_ids=None, token_type_ids=None, *args, **kwargs):
        seen.append(None if token_type_ids is None else token_type_ids.detach().clone())
        return original(self, input_ids, token_type_ids, *args, **kwargs)

    monkeypatch.setattr(modeling_bert.BertEmbeddings, "forward", recording)
    db_url = sqlite_url_factory()
    ingest_pairs(nli_bert_dir, nli_corpus, db_url)
    # the batch's pass, IG's steps, grad x input / AGrad, SHAP's masks, the deletion variants
    assert len(seen) > 20
    assert all(types is not None for types in seen), "a forward pass without segment ids"
    # every row of every pass is (a variant of) a pair: its second text has segment id 1
    assert all(bool((types == 1).any(dim=1).all()) for types in seen if types is not None)
    examples = check_pair_store(db_url)
    for example in examples:
        sep = [i for i, t in enumerate(example.tokens) if t == "[SEP]"]
        assert example.tokens[0] == "[CLS]" and len(sep) == 2 and example.pair_start == sep[0] + 1


@pytest.mark.slow
def test_roberta_pair_has_the_double_separator(
    nli_roberta_dir: Path, nli_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    db_url = sqlite_url_factory()
    ingest_pairs(nli_roberta_dir, nli_corpus, db_url)
    for example in check_pair_store(db_url):
        start = example.pair_start
        assert example.tokens[0] == "<s>" and example.tokens[-1] == "</s>"
        assert example.tokens[start - 2 : start] == ["</s>", "</s>"]


def test_pair_ids_differ_from_the_single_text_ids(nli_bert_dir: Path) -> None:
    """Segment ids change the prediction: the pair's forward is not the concatenation's."""
    from attention_atlas.ingest.loading import LoadRequest, load_adapter

    adapter = load_adapter(LoadRequest(checkpoint=str(nli_bert_dir)), None)
    item = adapter.encode("the movie was good", "it was bad")
    assert item.token_type_ids is not None and item.pair_start is not None
    assert item.token_type_ids[item.pair_start] == 1 and item.token_type_ids[0] == 0
    batch = adapter.collate([item])
    with torch.no_grad():
        paired = adapter.forward(batch).logits
        zeros = adapter.forward(batch, token_type_ids=torch.zeros_like(batch.input_ids)).logits
    assert not torch.allclose(paired, zeros)
    # the second text's words are numbered after the first text's
    words = item.word_ids[~item.special_mask]
    assert (np.diff(words) >= 0).all() and len(set(words.tolist())) == 7


def test_explain_a_typed_pair(nli_bert_dir: Path, sqlite_url_factory: Callable[..., str]) -> None:
    db_url = sqlite_url_factory()
    common = ["explain", "--model", str(nli_bert_dir), "--db", db_url, "--methods", "attention"]
    result = CliRunner().invoke(
        main, [*common, "--text", "the movie was good", "--text-pair", "it was bad"]
    )
    assert result.exit_code == 0, result.output
    single = CliRunner().invoke(main, [*common, "--text", "the movie was good"])
    assert single.exit_code == 0, single.output
    with session_factory(make_engine(db_url))() as session:
        rows = session.execute(
            select(Example.text, Example.text_pair, Run.text_field).join(Run)
        ).all()
    assert sorted(rows, key=str) == sorted(
        [("the movie was good", "it was bad", "text,text_pair"),
         ("the movie was good", None, "text")], key=str
    )  # fmt: skip
    empty = CliRunner().invoke(main, [*common, "--text", "a", "--text-pair", " "])
    assert empty.exit_code == 2 and "--text-pair is empty" in empty.output
    zero_shot = CliRunner().invoke(
        main, [*common, "--text", "a", "--text-pair", "b", "--zero-shot"]
    )
    assert zero_shot.exit_code == 2 and "--zero-shot takes one text" in zero_shot.output


def test_bad_pair_options_are_one_line_errors(
    nli_bert_dir: Path, nli_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    db_url = sqlite_url_factory()
    base = ["ingest", "-q", "--model", str(nli_bert_dir), "--dataset", str(nli_corpus)]
    for fields, message in (
        ("premise,missing", "text field 'missing' not in"),
        ("premise,hypothesis,label", "one column or two"),
    ):
        result = CliRunner().invoke(main, [*base, "--text-field", fields, "--db", db_url])
        assert result.exit_code == 2 and message in result.output, result.output
    zero_shot = CliRunner().invoke(
        main, [*base, "--text-field", "premise,hypothesis", "--zero-shot", "--db", db_url]
    )
    assert zero_shot.exit_code == 2 and "--zero-shot takes one --text-field" in zero_shot.output


def test_compare_reads_a_pair_as_one_text() -> None:
    """Two runs' maps of a pair are matched word by word over both texts (db.compare)."""
    from attention_atlas.db.compare import _Tokens, word_scores
    from attention_atlas.db.example_queries import joined_text

    special = np.array([1, 0, 0, 1, 0, 0, 1], dtype=bool)
    offsets = np.array([[0, 0], [0, 1], [2, 3], [0, 0], [0, 1], [2, 3], [0, 0]])
    text, moved = joined_text("a b", "c d", offsets, special, 4)
    assert text == "a b\n\nc d" and moved[4:6, 0].tolist() == [5, 7]
    tokens = ("[CLS]", "a", "b", "[SEP]", "c", "d", "[SEP]")
    info = _Tokens(tokens, special, moved[:, 0], text)
    scores = np.array([0.0, 1, 2, 0, 3, 4, 0])
    assert word_scores(info, scores).tolist() == [1, 2, 3, 4]
