"""Tiny random checkpoints saved with ``save_pretrained``, loaded back through the real
``from_pretrained`` path. Tokenizers are built locally (WordPiece for BERT, byte-level BPE for
GPT-2) so nothing is downloaded; the zero-shot path uses the real GPT-2 tokenizer files from
``../shared/data/gpt2-tokenizer`` when present."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
GPT2_TOKENIZER_DIR = SHARED_DATA / "gpt2-tokenizer"

CORPUS_WORDS = (
    "the a an this that movie film actor plot story was is were not no never bad good great "
    "terrible awful wonderful boring dumb brilliant but and or very really quite at all it "
    "i loved hated liked enjoyed acting script ending music scenes characters funny sad dull "
    "fresh smart slow fast best worst ever seen one two three minutes hours director cast"
).split()


def _sample_sentences() -> list[str]:
    words = CORPUS_WORDS
    return [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(12)) for i in range(200)]


NLI_LABELS = ("entailment", "neutral", "contradiction")


def _label_maps(names: tuple[str, ...]) -> dict:
    return {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {name: i for i, name in enumerate(names)},
    }


def save_tiny_bert(
    folder: Path, num_labels: int = 2, seed: int = 0, labels: tuple[str, ...] | None = None
) -> Path:
    """A 2-layer, 4-head BERT classifier; ``labels`` names its classes (default: negative,
    positive, cut to ``num_labels``)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?", "'"]
    vocab += CORPUS_WORDS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    vocab += list("abcdefghijklmnopqrstuvwxyz0123456789")
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast.from_pretrained(str(folder), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=256,
        **_label_maps(labels or ("negative", "positive")[:num_labels]),
    )
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _bpe_tokenizer(folder: Path):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        _sample_sentences(), vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"]
    )
    bpe.save_model(str(folder))
    return GPT2TokenizerFast.from_pretrained(str(folder))


def save_tiny_gpt2(
    folder: Path, *, lm_head: bool = False, tokenizer_dir: Path | None = None, seed: int = 0
) -> Path:
    """A 2-layer, 4-head GPT-2: a 2-class sequence classifier, or an LM head model."""
    import torch
    from transformers import (
        GPT2Config,
        GPT2ForSequenceClassification,
        GPT2LMHeadModel,
        GPT2TokenizerFast,
    )

    folder.mkdir(parents=True, exist_ok=True)
    if tokenizer_dir is not None:
        tokenizer = GPT2TokenizerFast.from_pretrained(str(tokenizer_dir))
    else:
        tokenizer = _bpe_tokenizer(folder)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=256,
        bos_token_id=eos,
        eos_token_id=eos,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
    )
    model = GPT2LMHeadModel(config) if lm_head else GPT2ForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _tiny_seq2seq_labels(num_labels: int) -> dict:
    return _label_maps(("negative", "positive", "neutral")[:num_labels])


def save_tiny_bart(folder: Path, num_labels: int = 2, seed: int = 0) -> Path:
    """A BART classifier (2 encoder layers x 4 heads, 2 decoder layers x 2 heads: the stacks
    differ in shape on purpose) with BART's real byte-level BPE tokenizer: the GPT-2 vocabulary
    and merges of ``../shared/data/gpt2-tokenizer`` read by ``RobertaTokenizerFast``, which adds
    BART's distinct ``<s> </s> <pad> <mask>``."""
    import torch
    from transformers import BartConfig, BartForSequenceClassification, RobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = RobertaTokenizerFast.from_pretrained(str(GPT2_TOKENIZER_DIR))
    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_eos_token_id=None,
        **_tiny_seq2seq_labels(num_labels),
    )
    BartForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_roberta(folder: Path, tokenizer_dir: Path, labels: tuple[str, ...] = NLI_LABELS):
    """A 2-layer, 4-head RoBERTa classifier with the GPT-2 BPE files read by
    ``RobertaTokenizerFast`` (which adds ``<s> </s> <pad> <mask>``: a pair is
    ``<s> a </s></s> b </s>``)."""
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = RobertaTokenizerFast.from_pretrained(str(_roberta_vocab(folder, tokenizer_dir)))
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=258,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
        **_label_maps(labels),
    )
    RobertaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def t5_tokenizer():
    """A real T5 tokenizer (``T5Tokenizer``: SentencePiece-style Unigram with T5's ``<pad>
    </s> <unk>``) over a small vocabulary built here, so nothing is downloaded: the corpus
    words as whole pieces, letters as the fallback."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -5.0)]
    pieces += [(f"▁{w}", -1.0 - i / 100) for i, w in enumerate(dict.fromkeys(CORPUS_WORDS))]
    pieces += [(c, -8.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789.,!?'"]
    pieces += [(f"▁{c}", -7.0) for c in "abcdefghijklmnopqrstuvwxyz"]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def save_tiny_t5(folder: Path, num_labels: int = 2, seed: int = 0) -> Path:
    """A T5 classifier (2 encoder layers, 3 decoder layers, 4 heads) with :func:`t5_tokenizer`."""
    import torch
    from transformers import T5Config, T5ForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = t5_tokenizer()
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=3,
        num_heads=4,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        **_tiny_seq2seq_labels(num_labels),
    )
    T5ForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _roberta_vocab(folder: Path, tokenizer_dir: Path) -> Path:
    """The GPT-2 BPE files with RoBERTa's specials first (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2,
    ``<unk>`` 3, as in roberta-base): RoBERTa's position table is indexed past ``pad``."""
    import json
    import shutil

    vocab = json.loads((tokenizer_dir / "vocab.json").read_text())
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    shifted = {t: i for i, t in enumerate(specials)}
    shifted |= {t: i + len(specials) for t, i in sorted(vocab.items(), key=lambda kv: kv[1])}
    shifted["<mask>"] = len(shifted)
    out = folder / "bpe"
    out.mkdir(exist_ok=True)
    (out / "vocab.json").write_text(json.dumps(shifted))
    shutil.copyfile(tokenizer_dir / "merges.txt", out / "merges.txt")
    return out


def save_tiny_llama(
    folder: Path, tokenizer_dir: Path | None = None, *, lm_head: bool = False
) -> Path:
    """A 2-layer Llama (4 query heads, 2 key-value heads: grouped-query attention) with the
    GPT-2 tokenizer files in ``tokenizer_dir`` (None: a byte-level BPE trained here): a
    2-class ``LlamaForSequenceClassification``, or a ``LlamaForCausalLM`` for the zero-shot
    path. Pad is a token of its own, so the classifier's pooling (the last non-pad token) finds
    the text's end."""
    import torch
    from transformers import (
        GPT2TokenizerFast,
        LlamaConfig,
        LlamaForCausalLM,
        LlamaForSequenceClassification,
    )

    folder.mkdir(parents=True, exist_ok=True)
    if tokenizer_dir is None:
        tokenizer = _bpe_tokenizer(folder)
    else:
        tokenizer = GPT2TokenizerFast.from_pretrained(str(tokenizer_dir))
    tokenizer.add_special_tokens({"pad_token": "<pad>"})
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
        **_label_maps(("negative", "positive")),
    )
    model = LlamaForCausalLM(config) if lm_head else LlamaForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
