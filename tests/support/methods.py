"""Adapters over tiny random checkpoints for the method tests (weights scaled up so the
predictions and attributions are far from uniform)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from attention_atlas.ingest.adapters import (
    Adapter,
    DecoderAdapter,
    EncoderAdapter,
    ZeroShotAdapter,
)
from attention_atlas.ingest.batch import ExplainPlan, plan_for
from attention_atlas.ingest.methods.base import DEFAULT_TOKEN_BUDGET, Params
from attention_atlas.ingest.methods.registry import method
from attention_atlas.ingest.settings import IngestSettings

LABELS = ["negative", "positive"]
TEXTS = [
    "the movie was great",
    "a terrible boring film that i hated and never liked the plot at all",
    "good",
    "the acting was wonderful but the script was dull and slow",
]


def sharpen(model: torch.nn.Module, seed: int = 1, std: float = 0.3) -> torch.nn.Module:
    """Re-draw the non-LayerNorm weights with a larger std so outputs vary with the input."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "LayerNorm" in name or ".ln_" in name or name.startswith("ln_"):
                continue
            if "layer_norm" in name or "layernorm" in name:  # BART's and T5's norms
                continue
            param.copy_(torch.randn(param.shape, generator=gen) * std)
    return model


def build_adapter(kind: str, folder: Path) -> Adapter:
    """``bert``, ``gpt2`` (classifier), ``zero_shot``, ``bart`` or ``t5`` from a saved tiny
    checkpoint."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    if kind in ("bart", "t5"):
        from attention_atlas.ingest.loading import LoadRequest, load_adapter

        adapter = load_adapter(LoadRequest(str(folder)), LABELS)
        # T5 leaves out the 1/sqrt(d) attention scaling: at std 0.3 its heads are one-hot
        sharpen(adapter.model, std=0.1 if kind == "t5" else 0.3)
        return adapter
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if kind == "zero_shot":
        model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager")
        tokenizer.pad_token = tokenizer.eos_token
        return ZeroShotAdapter(
            sharpen(model),
            tokenizer,
            LABELS,
            prompt="Review: {text}\nSentiment:",
            verbalizers=[" negative", " positive"],
        )
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    if kind == "gpt2":
        tokenizer.pad_token = tokenizer.eos_token
        model.config.pad_token_id = tokenizer.pad_token_id
        return DecoderAdapter(sharpen(model), tokenizer, LABELS)
    return EncoderAdapter(sharpen(model), tokenizer, LABELS)


def run_forward(adapter: Adapter, texts: list[str]):
    items = [adapter.encode(t) for t in texts]
    batch = adapter.collate(items)
    with torch.no_grad():
        forward = adapter.forward(batch, output_attentions=True)
    return items, batch, forward


def options(
    *methods: str,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    faithfulness: bool = False,
    **settings,
) -> ExplainPlan:
    """The plan of ``methods`` for the default settings changed by ``settings``."""
    chosen = replace(IngestSettings(), methods=tuple(methods), **settings)
    return plan_for(chosen, token_budget=token_budget, faithfulness=faithfulness)


def params(method_id: str, token_budget: int = DEFAULT_TOKEN_BUDGET, **changes) -> Params:
    """``method_id``'s parameters for the default settings, with ``changes`` to its fields."""
    built = method(method_id).params.from_settings(IngestSettings(), token_budget)
    return replace(built, **changes)


def save_checkpoint(kind: str, root: Path) -> Path:
    """Save the tiny checkpoint for ``kind`` under ``root`` (skips zero-shot without GPT-2
    tokenizer files)."""
    import pytest

    from support.checkpoints import (
        GPT2_TOKENIZER_DIR,
        save_tiny_bart,
        save_tiny_bert,
        save_tiny_gpt2,
        save_tiny_t5,
    )

    folder = root / kind
    if kind == "bert":
        return save_tiny_bert(folder)
    if kind == "gpt2":
        return save_tiny_gpt2(folder)
    if kind == "t5":
        return save_tiny_t5(folder)
    if not GPT2_TOKENIZER_DIR.exists():
        pytest.skip(f"{kind} needs the GPT-2 tokenizer files in {GPT2_TOKENIZER_DIR}")
    if kind == "bart":
        return save_tiny_bart(folder)
    return save_tiny_gpt2(folder, lm_head=True, tokenizer_dir=GPT2_TOKENIZER_DIR)
