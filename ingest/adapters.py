"""Classifier adapters: one small interface over three kinds of HuggingFace checkpoints.

- ``encoder``: ``AutoModelForSequenceClassification`` encoders (BERT, RoBERTa, MiniLM, ...);
  the prediction position is the first token ([CLS] / ``<s>``).
- ``decoder``: decoder classifiers such as ``GPT2ForSequenceClassification``; the prediction
  position is the last non-pad token. We pool at that position ourselves (score head applied to
  the base model's hidden state) so ``inputs_embeds`` (IG) and padded batches pool correctly.
- ``encoder_decoder``: BART and T5 classifiers (``ingest.encoder_decoder``); the prediction
  position is the final ``</s>``, where the decoder's state is pooled.
- ``zero_shot``: a causal LM with a prompt template and verbalizer words; the class scores are
  the next-token logits of the verbalizers at the last prompt token. Only the review's tokens
  are content; the template's tokens are marked like specials.

Every adapter encodes texts to :class:`EncodedText` (the token sequence every method scores),
collates them into a right-padded :class:`Batch`, and runs :meth:`Adapter.forward` from ids or
from input embeddings, with attentions of every layer and head when asked.

Sentence pairs (``--text-field premise,hypothesis``) are encoded as the tokenizer encodes a
pair (BERT: ``[CLS] a [SEP] b [SEP]`` with segment ids 0 / 1; RoBERTa: ``<s> a </s></s> b </s>``);
both texts' tokens are content. When the tokenizer gives segment ids (``token_type_ids``),
every forward pass of every method gets them: the batch's, or the ``token_type_ids`` its caller
passes row by row (IG steps, SHAP masks, deletion variants keep each row's example's ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

# how removal_token_id chooses (recorded on every run: SHAP and the deletion tests use it)
REMOVAL_RULE = "mask token, else pad"

if TYPE_CHECKING:
    from transformers import BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

    from attention_atlas.ingest.attention_capture import ExampleAttention


class AdapterError(ValueError):
    """A checkpoint or setting the adapter cannot work with (a user error: exit code 2)."""


@dataclass(frozen=True)
class EncodedText:
    """One text as the model sees it; every array has length ``len(tokens)``."""

    tokens: list[str]
    input_ids: list[int]
    offsets: np.ndarray  # [tokens, 2] int32, character spans into the original text
    special_mask: np.ndarray  # [tokens] bool, True for specials and prompt-template tokens
    word_ids: np.ndarray  # [tokens] int32, word index within the text, -1 for non-content
    prediction_position: int
    truncated: bool
    # sentence pairs: the position of the second text's first token, and the tokenizer's
    # segment ids ([tokens]; None when the tokenizer gives none, e.g. RoBERTa's)
    pair_start: int | None = None
    token_type_ids: list[int] | None = None

    @property
    def length(self) -> int:
        return len(self.input_ids)


@dataclass
class Batch:
    """Right-padded batch of encoded texts (B examples, T = longest)."""

    input_ids: torch.Tensor  # [B, T] long
    attention_mask: torch.Tensor  # [B, T] long, 1 for real tokens
    prediction_positions: torch.Tensor  # [B] long
    lengths: list[int]
    token_type_ids: torch.Tensor | None = None  # [B, T] long, sentence pairs only

    @property
    def size(self) -> int:
        return len(self.lengths)


@dataclass
class ForwardOutput:
    logits: torch.Tensor  # [B, classes]
    attentions: tuple[torch.Tensor, ...] | None  # layers x [B, heads, T, T]
    hidden: torch.Tensor | None = None  # [B, T, D] last-layer hidden states, when asked
    # an encoder-decoder's other stacks (``decoder``, ``cross``) when attentions are asked:
    # layers x [B, heads, T, T], decoder positions on the input's (``attentions`` = encoder's)
    stacks: dict[str, tuple[torch.Tensor, ...]] = field(default_factory=dict)
    # per example, the attention kept layer by layer (ingest.attention_capture), when captured
    captured: list[ExampleAttention] | None = None


class Adapter:
    """Base adapter: subclasses set ``kind`` and implement :meth:`_encode` and :meth:`_logits`."""

    kind: str = ""
    stacks: tuple[str, ...] = ()  # attention stacks beyond one (encoder-decoder models)

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        label_names: list[str],
        *,
        max_length: int = 512,
        device: str | torch.device = "cpu",
    ) -> None:
        # transformers wraps PreTrainedModel.to with functools.wraps(nn.Module.to), whose typing
        # takes the instance for the unbound method's self: the call is right, the stub is not
        self.model = model.to(device).eval()  # type: ignore[arg-type]
        self.tokenizer = tokenizer
        self.label_names = list(label_names)
        self.max_length = max_length
        self.device = torch.device(device)
        config = model.config
        self.num_layers = int(config.num_hidden_layers)
        self.num_heads = int(config.num_attention_heads)
        # (layers, heads) of each stack of :attr:`stacks` (the main one included)
        self.stack_shapes: dict[str, tuple[int, int]] = {}

    # -- token sequence -------------------------------------------------------------------
    @property
    def pad_token_id(self) -> int:
        return int(self.tokenizer.pad_token_id)

    @property
    def removal_token_id(self) -> int:
        """The id that "removes" a token for SHAP and deletion tests: mask, else pad."""
        mask = self.tokenizer.mask_token_id
        return int(mask if mask is not None else self.pad_token_id)

    def encode(self, text: str, text_pair: str | None = None) -> EncodedText:
        """The token sequence of ``text``, or of the pair ``text``, ``text_pair``."""
        if text_pair is None:
            return self._encode(text)
        return self._encode_pair(text, text_pair)

    def _encode(self, text: str) -> EncodedText:
        raise NotImplementedError

    def _encode_pair(self, text: str, text_pair: str) -> EncodedText:
        raise AdapterError(f"a {self.kind} run takes one text per example, not a pair")

    def collate(self, items: list[EncodedText]) -> Batch:
        width = max(item.length for item in items)
        ids = torch.full((len(items), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for row, item in enumerate(items):
            ids[row, : item.length] = torch.tensor(item.input_ids)
            mask[row, : item.length] = 1
        positions = torch.tensor([item.prediction_position for item in items])
        types = token_type_rows([item.token_type_ids for item in items], width)
        return Batch(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            prediction_positions=positions.to(self.device),
            lengths=[item.length for item in items],
            token_type_ids=None if types is None else types.to(self.device),
        )

    # -- model ----------------------------------------------------------------------------
    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Word embeddings of ``input_ids`` [B, T] -> [B, T, D] (what IG interpolates)."""
        return self.model.get_input_embeddings()(input_ids)

    def forward(
        self,
        batch: Batch | None,
        *,
        input_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        prediction_positions: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden: bool = False,
        token_type_ids: torch.Tensor | None = None,
    ) -> ForwardOutput:
        """Class logits [B', classes] for ``batch`` or for replacement ids/embeddings of the
        same width (B' may be a multiple of B, e.g. IG steps or SHAP masks; pass the matching
        ``attention_mask``, ``prediction_positions`` and, for sentence pairs,
        ``token_type_ids`` then; a one-example batch's are repeated for every row).
        ``output_hidden`` keeps the last layer's hidden states (the consistency test's top-5
        vectors) from the same pass. ``batch`` is None when ids or embeddings, the mask, the
        positions and the segment ids are all passed."""
        if batch is not None:
            if inputs_embeds is None and input_ids is None:
                input_ids = batch.input_ids
            if attention_mask is None:
                attention_mask = batch.attention_mask
            if prediction_positions is None:
                prediction_positions = batch.prediction_positions
            if token_type_ids is None:
                token_type_ids = _rows_of(batch.token_type_ids, attention_mask.shape[0])
        if attention_mask is None or prediction_positions is None:
            raise ValueError("without a batch, pass attention_mask and prediction_positions")
        return self._logits(
            input_ids,
            inputs_embeds,
            attention_mask,
            prediction_positions,
            output_attentions,
            output_hidden,
            token_type_ids,
        )

    def _logits(
        self,
        input_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        output_attentions: bool,
        output_hidden: bool = False,
        token_type_ids: torch.Tensor | None = None,
    ) -> ForwardOutput:
        raise NotImplementedError


def token_type_rows(rows: list[list[int] | None], width: int) -> torch.Tensor | None:
    """[len(rows), width] long segment ids, right-padded with 0; None when no row has any."""
    if all(row is None for row in rows):
        return None
    out = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        if row is not None:
            out[r, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def _rows_of(types: torch.Tensor | None, rows: int) -> torch.Tensor | None:
    """A batch's segment ids for a pass of ``rows`` rows: as they are, or a one-example
    batch's repeated (IG's and Captum's steps of one example)."""
    if types is None or types.shape[0] == rows:
        return types
    if types.shape[0] == 1:
        return types.expand(rows, -1)
    raise ValueError(f"{rows} rows for a batch of {types.shape[0]}: pass token_type_ids")


def _type_kwargs(token_type_ids: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """``token_type_ids`` as a model keyword, only when there are some (DistilBERT's and
    Llama's forward take none; their tokenizers give none)."""
    return {} if token_type_ids is None else {"token_type_ids": token_type_ids}


def _special_mask_from(encoding: BatchEncoding, length: int) -> np.ndarray:
    special = encoding.get("special_tokens_mask")
    if special is None:
        return np.zeros(length, dtype=bool)
    return np.asarray(special[:length], dtype=bool)


def _token_strings(tokenizer: PreTrainedTokenizerBase, ids: list[int]) -> list[str]:
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert isinstance(tokens, list)  # a list of ids gives a list (one str only for one int)
    return tokens


def _word_ids(encoding: BatchEncoding, special: np.ndarray) -> np.ndarray:
    raw = encoding.word_ids()
    words = np.array([-1 if w is None else w for w in raw], dtype=np.int32)
    # a pair numbers the second text's words from 0 again: put them after the first text's
    second = np.array([s == 1 for s in encoding.sequence_ids()], dtype=bool)
    if second.any():
        words[second] += words[~second].max(initial=-1) + 1
    words[special] = -1
    # renumber so the text's first word is 0 and numbering is dense
    kept = words[words >= 0]
    if kept.size:
        _, dense = np.unique(kept, return_inverse=True)
        words[words >= 0] = dense
    return words


class _TokenizedAdapter(Adapter):
    """Encoders and decoder classifiers: the text (or the pair of texts) is the whole input."""

    def _encode(self, text: str) -> EncodedText:
        return self._encoded(text, None)

    def _encode_pair(self, text: str, text_pair: str) -> EncodedText:
        return self._encoded(text, text_pair)

    def _encoded(self, text: str, text_pair: str | None) -> EncodedText:
        """Offsets of the second text's tokens are spans into ``text_pair``."""
        tokenizer = self.tokenizer
        encoding = tokenizer(
            text,
            text_pair,
            truncation=True,
            max_length=self.max_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        ids = list(encoding["input_ids"])
        special = _special_mask_from(encoding, len(ids))
        offsets = np.asarray(encoding["offset_mapping"], dtype=np.int32).reshape(-1, 2)
        offsets[special] = 0
        return EncodedText(
            tokens=_token_strings(tokenizer, ids),
            input_ids=ids,
            offsets=offsets,
            special_mask=special,
            word_ids=_word_ids(encoding, special),
            prediction_position=self._prediction_position(ids, special),
            # the fast tokenizer keeps what truncation cut off: no second tokenization
            truncated=bool(encoding.encodings[0].overflowing),
            **(_pair_fields(encoding, special) if text_pair is not None else {}),
        )

    def _prediction_position(self, ids: list[int], special: np.ndarray) -> int:
        raise NotImplementedError


def _pair_fields(encoding: BatchEncoding, special: np.ndarray) -> dict[str, Any]:
    """``pair_start`` and ``token_type_ids`` of a pair's encoding (see :class:`EncodedText`)."""
    second = [i for i, s in enumerate(encoding.sequence_ids()) if s == 1 and not special[i]]
    types = encoding.get("token_type_ids")
    return {
        # a second text truncated away entirely starts past the end
        "pair_start": second[0] if second else len(special),
        "token_type_ids": None if types is None else [int(t) for t in types],
    }


class EncoderAdapter(_TokenizedAdapter):
    kind = "encoder"

    def _prediction_position(self, ids: list[int], special: np.ndarray) -> int:
        return 0

    def _logits(
        self,
        input_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        output_attentions: bool,
        output_hidden: bool = False,
        token_type_ids: torch.Tensor | None = None,
    ) -> ForwardOutput:
        out = self.model(
            input_ids=input_ids,
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden,
            **_type_kwargs(token_type_ids),
        )
        return ForwardOutput(
            out.logits,
            out.attentions if output_attentions else None,
            out.hidden_states[-1] if output_hidden else None,
        )


def _pooled_hidden(
    model: PreTrainedModel,
    input_ids: torch.Tensor | None,
    inputs_embeds: torch.Tensor | None,
    attention_mask: torch.Tensor,
    positions: torch.Tensor,
    output_attentions: bool,
    token_type_ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, torch.Tensor]:
    """(hidden state at ``positions`` [B, D], attentions or None, last hidden states [B, T, D])."""
    out = model.base_model(
        input_ids=input_ids,
        inputs_embeds=inputs_embeds,
        attention_mask=attention_mask,
        output_attentions=output_attentions,
        **_type_kwargs(token_type_ids),
    )
    rows = torch.arange(positions.shape[0], device=positions.device)
    hidden = out.last_hidden_state[rows, positions]
    return hidden, (out.attentions if output_attentions else None), out.last_hidden_state


class DecoderAdapter(_TokenizedAdapter):
    kind = "decoder"

    def _prediction_position(self, ids: list[int], special: np.ndarray) -> int:
        return len(ids) - 1

    def _logits(
        self,
        input_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        output_attentions: bool,
        output_hidden: bool = False,
        token_type_ids: torch.Tensor | None = None,
    ) -> ForwardOutput:
        hidden, attentions, last = _pooled_hidden(
            self.model,
            input_ids,
            inputs_embeds,
            attention_mask,
            positions,
            output_attentions,
            token_type_ids,
        )
        return ForwardOutput(self.model.score(hidden), attentions, last if output_hidden else None)


class ZeroShotAdapter(Adapter):
    """A causal LM scoring verbalizers after a prompt; ``prompt`` contains ``{text}``."""

    kind = "zero_shot"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        label_names: list[str],
        *,
        prompt: str,
        verbalizers: list[str],
        max_length: int = 512,
        device: str | torch.device = "cpu",
    ) -> None:
        if "{text}" not in prompt:
            raise AdapterError(f"--prompt must contain {{text}}: {prompt!r}")
        if len(verbalizers) != len(label_names):
            raise AdapterError(
                f"{len(verbalizers)} verbalizers for {len(label_names)} labels ({label_names})"
            )
        ids: list[int] = []
        for word in verbalizers:
            pieces = tokenizer(word, add_special_tokens=False)["input_ids"]
            if len(pieces) != 1:
                raise AdapterError(f"verbalizer {word!r} is {len(pieces)} tokens, not one")
            ids.append(pieces[0])
        super().__init__(model, tokenizer, label_names, max_length=max_length, device=device)
        self.prefix, self.suffix = prompt.split("{text}", 1)
        self.verbalizer_ids = torch.tensor(ids, device=self.device)
        # tokens the prompt itself takes (with specials): the text gets the rest of max_length
        frame = tokenizer(self.prefix + self.suffix, add_special_tokens=True)["input_ids"]
        self.text_budget = max(self.max_length - len(frame), 1)

    def _encode(self, text: str) -> EncodedText:
        tokenizer = self.tokenizer
        text_enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        truncated = len(text_enc["input_ids"]) > self.text_budget
        kept = text[: text_enc["offset_mapping"][self.text_budget - 1][1]] if truncated else text
        start = len(self.prefix)
        encoding = tokenizer(
            self.prefix + kept + self.suffix,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        ids = list(encoding["input_ids"])
        offsets = np.asarray(encoding["offset_mapping"], dtype=np.int32).reshape(-1, 2)
        end = start + len(kept)
        # overlap, not containment: byte-level BPE folds the space before the text into its
        # first token, whose span then starts inside the prefix
        inside = (offsets[:, 1] > start) & (offsets[:, 0] < end)
        special = ~inside | _special_mask_from(encoding, len(ids))
        spans = np.clip(offsets - start, 0, len(kept))
        offsets = np.where(special[:, None], 0, spans).astype(np.int32)
        return EncodedText(
            tokens=_token_strings(tokenizer, ids),
            input_ids=ids,
            offsets=offsets,
            special_mask=special,
            word_ids=_word_ids(encoding, special),
            prediction_position=len(ids) - 1,
            truncated=truncated,
        )

    def _logits(
        self,
        input_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        output_attentions: bool,
        output_hidden: bool = False,
        token_type_ids: torch.Tensor | None = None,
    ) -> ForwardOutput:
        hidden, attentions, last = _pooled_hidden(
            self.model, input_ids, inputs_embeds, attention_mask, positions, output_attentions
        )
        vocab_logits = self.model.get_output_embeddings()(hidden)
        return ForwardOutput(
            vocab_logits[:, self.verbalizer_ids], attentions, last if output_hidden else None
        )
