"""The encoder-decoder adapter: BART and T5 sequence classifiers (mBART-style models whose
classifier pools the same way come along untested).

These models read the text twice: the encoder reads the input ids, and the decoder reads the
same ids shifted right by one (the decoder start token first), so decoder position ``j`` is
where the decoder re-generates input token ``j`` having read tokens ``0..j-1``. The classifier
pools the decoder's last-layer state at the final ``</s>`` of the input: that is the prediction
position, the same index in the encoder, the decoder and the cross-attention's rows.

We pool ourselves (the model's classification head on the base model's decoder state), as the
decoder adapter does, so that a forward from input embeddings (IG) feeds the encoder *and* the
shifted decoder input from the same embeddings: gradients and IG then credit each input token
for both places it enters the model, and completeness holds over the input's tokens. The
model's own pooling would also refuse a batch whose texts hold different numbers of ``</s>``.

``ForwardOutput.attentions`` are the encoder's self-attentions (the run's main stack, read by
every one-stack method and stored as for an encoder); ``ForwardOutput.stacks`` holds the
decoder's self-attention and the cross-attention ([B, heads, T, T] per layer, decoder positions
on the input's positions as above).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from attention_atlas.ingest.adapters import AdapterError, ForwardOutput, _TokenizedAdapter
from attention_atlas.models import vocabulary

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase


class EncoderDecoderAdapter(_TokenizedAdapter):
    kind = "encoder_decoder"
    stacks = vocabulary.STACKS

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        label_names: list[str],
        *,
        max_length: int = 512,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(model, tokenizer, label_names, max_length=max_length, device=device)
        config = model.config
        start = getattr(config, "decoder_start_token_id", None)
        if start is None:
            start = getattr(config, "eos_token_id", None)
        if tokenizer.eos_token_id is None or start is None:
            raise AdapterError(
                f"{type(model).__name__}: an encoder-decoder classifier needs an eos token and "
                "a decoder start token"
            )
        decoder = model.get_decoder().get_input_embeddings()
        if decoder.weight is not model.get_input_embeddings().weight:
            # the decoder's input is built from the encoder's embeddings (one tensor for IG)
            raise AdapterError(
                f"{type(model).__name__}: the decoder's embeddings are not the encoder's "
                "(untied); the encoder-decoder adapter needs them shared"
            )
        self.eos_token_id = int(tokenizer.eos_token_id)
        self.decoder_start_id = int(start)
        self.stack_shapes = {stack: self._shape(config, stack) for stack in self.stacks}

    def _shape(self, config: PretrainedConfig, stack: str) -> tuple[int, int]:
        """(layers, heads) of one stack; the cross-attention lives in the decoder's layers."""
        if stack == vocabulary.MAIN_STACK:
            return self.num_layers, self.num_heads
        layers = getattr(config, "decoder_layers", None) or config.num_decoder_layers
        heads = getattr(config, "decoder_attention_heads", None) or config.num_attention_heads
        return int(layers), int(heads)

    def _prediction_position(self, ids: list[int], special: np.ndarray) -> int:
        """The final ``</s>``: the position the classifier pools (the last one, if several)."""
        eos = [i for i, token in enumerate(ids) if token == self.eos_token_id]
        return eos[-1] if eos else len(ids) - 1

    def decoder_inputs(self, embeds: torch.Tensor) -> torch.Tensor:
        """The decoder's input embeddings [B, T, D]: the start token, then ``embeds`` shifted
        right by one (the last position drops out, as in the models' own shift)."""
        start = torch.full(
            (embeds.shape[0], 1), self.decoder_start_id, dtype=torch.long, device=embeds.device
        )
        return torch.cat([self.embed(start).to(embeds.dtype), embeds[:, :-1]], dim=1)

    def _logits(
        self,
        input_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        output_attentions: bool,
        output_hidden: bool = False,
        token_type_ids: torch.Tensor | None = None,  # BART and T5 take none (nor give any)
    ) -> ForwardOutput:
        if inputs_embeds is None:
            assert input_ids is not None  # Adapter.forward passes one of them
            inputs_embeds = self.embed(input_ids)
        out = self.model.base_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            decoder_inputs_embeds=self.decoder_inputs(inputs_embeds),
            decoder_attention_mask=attention_mask,
            output_attentions=output_attentions,
            use_cache=False,
        )
        rows = torch.arange(positions.shape[0], device=positions.device)
        pooled = out.last_hidden_state[rows, positions]
        stacks = (
            {"decoder": out.decoder_attentions, "cross": out.cross_attentions}
            if output_attentions
            else {}
        )
        return ForwardOutput(
            self.model.classification_head(pooled),
            out.encoder_attentions if output_attentions else None,
            out.encoder_last_hidden_state if output_hidden else None,
            stacks,
        )
