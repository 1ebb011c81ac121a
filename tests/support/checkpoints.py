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


def save_tiny_bert(folder: Path, num_labels: int = 2, seed: int = 0) -> Path:
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
        num_labels=num_labels,
        id2label={i: name for i, name in enumerate(["negative", "positive"][:num_labels])},
        label2id={name: i for i, name in enumerate(["negative", "positive"][:num_labels])},
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
