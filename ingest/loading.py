"""Load a checkpoint (hub id or local folder) into the right adapter.

Config first (cheap, and it tells us what the checkpoint is), then tokenizer and model with the
eager attention implementation, since transformers 5's default (sdpa) returns no attentions.
Encoder vs decoder is decided from transformers' own auto-mappings: a model type with a causal-LM
head and no masked-LM head is a decoder (GPT-2, Llama, ...); BERT-likes have both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from attention_atlas.ingest.adapters import (
    Adapter,
    AdapterError,
    DecoderAdapter,
    EncoderAdapter,
    ZeroShotAdapter,
)
from attention_atlas.ingest.encoder_decoder import EncoderDecoderAdapter

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded or used as asked (a user error: exit code 2)."""


@dataclass(frozen=True)
class LoadRequest:
    checkpoint: str
    revision: str | None = None
    zero_shot: bool = False
    fresh_head: bool = False
    randomize_weights: bool = False
    randomize_layers: int | None = None
    seed: int = 0
    max_length: int = 512
    device: str = "auto"
    prompt: str = "Review: {text}\nSentiment:"
    verbalizers: tuple[str, ...] = (" negative", " positive")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise CheckpointError("--device cuda given but no CUDA device is available")
    return device


def is_decoder(config: PretrainedConfig) -> bool:
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    kind = config.model_type
    return (
        kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def is_classifier(config: PretrainedConfig) -> bool:
    return any(a.endswith("ForSequenceClassification") for a in config.architectures or ())


def load_adapter(request: LoadRequest, label_names: Sequence[str] | None) -> Adapter:
    """Build the adapter for ``request``. ``label_names`` (from ``--labels`` or the dataset)
    override the checkpoint's ``id2label``; raises :class:`CheckpointError` on user errors."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    config = _load(transformers.AutoConfig, request)
    if request.zero_shot and getattr(config, "is_encoder_decoder", False):
        raise CheckpointError(
            f"--zero-shot takes a causal LM; {request.checkpoint} is an encoder-decoder model "
            "(ingest it as a classifier, or with --fresh-head)"
        )
    if not request.zero_shot and not is_classifier(config) and not request.fresh_head:
        archs = ", ".join(config.architectures or ["none"])
        raise CheckpointError(
            f"checkpoint {request.checkpoint} is not a sequence classifier (architectures: "
            f"{archs}); use --zero-shot for a causal LM or --fresh-head for a new head"
        )
    tokenizer = _load(transformers.AutoTokenizer, request)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    names = _label_names(config, label_names, request)
    model = _load_model(config, request, names)
    if tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if request.randomize_weights:
        randomize_weights(model, request.seed, from_layer=request.randomize_layers)
    kwargs: dict[str, Any] = {
        "max_length": _max_length(config, tokenizer, request.max_length),
        "device": resolve_device(request.device),
    }
    try:
        if request.zero_shot:
            return ZeroShotAdapter(
                model,
                tokenizer,
                names,
                prompt=request.prompt,
                verbalizers=list(request.verbalizers),
                **kwargs,
            )
        return adapter_class(config)(model, tokenizer, names, **kwargs)
    except AdapterError as exc:
        raise CheckpointError(str(exc)) from exc


def adapter_class(config: PretrainedConfig) -> type[Adapter]:
    """The classifier adapter of a checkpoint's config."""
    if getattr(config, "is_encoder_decoder", False):
        return EncoderDecoderAdapter
    return DecoderAdapter if is_decoder(config) else EncoderAdapter


def _load(auto_class: Any, request: LoadRequest, **kwargs: Any) -> Any:
    try:
        return auto_class.from_pretrained(request.checkpoint, revision=request.revision, **kwargs)
    except Exception as exc:  # OSError, ValueError, HF hub errors: all "cannot load"
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
        raise CheckpointError(f"cannot load checkpoint {request.checkpoint!r}: {reason}") from exc


def _label_names(
    config: PretrainedConfig, given: Sequence[str] | None, request: LoadRequest
) -> list[str]:
    if request.zero_shot:
        names = list(given) if given else [v.strip() for v in request.verbalizers]
        if len(names) != len(request.verbalizers):
            raise CheckpointError(
                f"{len(request.verbalizers)} verbalizers for {len(names)} labels ({names})"
            )
        return names
    if given:
        names = list(given)
        if is_classifier(config) and not request.fresh_head and len(names) != config.num_labels:
            raise CheckpointError(
                f"{len(names)} label names ({', '.join(names)}) but checkpoint "
                f"{request.checkpoint} has {config.num_labels} classes"
            )
        return names
    if request.fresh_head and not is_classifier(config):
        return ["negative", "positive"]
    # num_labels is len(id2label); a loaded config keys id2label by int (typed str | int keys)
    id2label = {int(k): str(v) for k, v in (config.id2label or {}).items()}
    return [id2label[i] for i in range(len(id2label))]


def _load_model(
    config: PretrainedConfig, request: LoadRequest, names: list[str]
) -> PreTrainedModel:
    import transformers

    if request.zero_shot:
        return _load(transformers.AutoModelForCausalLM, request, attn_implementation="eager")
    if request.fresh_head:
        config.num_labels = len(names)
        config.id2label = dict(enumerate(names))
        config.label2id = {name: i for i, name in enumerate(names)}
    torch.manual_seed(request.seed)  # a fresh head is then the same every run
    return _load(
        transformers.AutoModelForSequenceClassification,
        request,
        config=config,
        attn_implementation="eager",
        ignore_mismatched_sizes=request.fresh_head,
    )


def _max_length(config: PretrainedConfig, tokenizer: Any, wanted: int) -> int:
    caps = [wanted]
    for name in ("max_position_embeddings", "n_positions", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            caps.append(value)
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        caps.append(model_max)
    return min(caps)


def randomize_weights(model: PreTrainedModel, seed: int, from_layer: int | None = None) -> None:
    """Re-initialise weights with the model's own init scheme, seeded (the model
    randomisation test of Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

    ``from_layer=None``: every weight. ``from_layer=k``: cascading randomization, the layers
    from the top down to layer ``k`` (0-based) and everything above them (pooler, final norm,
    classification head); the embeddings and layers ``0..k-1`` keep their weights."""
    kept = {} if from_layer is None else _weights_below(model, from_layer)
    for module in model.modules():
        if hasattr(module, "_is_hf_initialized"):
            del module._is_hf_initialized
    for tensor in (*model.parameters(), *model.buffers()):
        if hasattr(tensor, "_is_hf_initialized"):
            del tensor._is_hf_initialized
    torch.manual_seed(seed)
    model.init_weights()
    if kept:
        with torch.no_grad():
            for name, tensor in model.state_dict(keep_vars=True).items():
                if name in kept:
                    tensor.copy_(kept[name])


def check_randomize_depth(request: LoadRequest, depth: int) -> None:
    """Raise :class:`CheckpointError` unless ``depth`` is a valid ``--randomize-layers`` value
    for the checkpoint (0..number of layers), reading only its config."""
    import transformers

    layers = getattr(_load(transformers.AutoConfig, request), "num_hidden_layers", None)
    if isinstance(layers, int) and not 0 <= depth <= layers:
        raise CheckpointError(_depth_message(depth, layers))


def _depth_message(depth: int, layers: int) -> str:
    return (
        f"--randomize-layers {depth} is outside 0..{layers} "
        f"(the checkpoint has {layers} layers; {layers} = the head only)"
    )


def layer_stack(model: PreTrainedModel) -> tuple[str, torch.nn.ModuleList]:
    """The qualified name and module list of the transformer's layers (BERT's
    ``encoder.layer``, GPT-2's ``h``, DistilBERT's ``transformer.layer``, ...): the longest
    ModuleList whose length is the config's number of layers."""
    n_layers = getattr(model.config, "num_hidden_layers", None)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n_layers:
            return name, module
    raise CheckpointError(
        f"cannot find the {n_layers} layers of {type(model).__name__} for --randomize-layers"
    )


def _weights_below(model: PreTrainedModel, from_layer: int) -> dict[str, torch.Tensor]:
    """Copies of the weights a cascading randomization from ``from_layer`` keeps: everything
    registered before the layer stack (the embeddings) and the layers below ``from_layer``."""
    stack_name, stack = layer_stack(model)
    if not 0 <= from_layer <= len(stack):
        raise CheckpointError(_depth_message(from_layer, len(stack)))
    kept_prefixes = tuple(f"{stack_name}.{i}." for i in range(from_layer))
    kept: dict[str, torch.Tensor] = {}
    below_stack = True  # the state dict lists the embeddings first, then the layers, then heads
    for name, tensor in model.state_dict().items():
        in_stack = name.startswith(f"{stack_name}.")
        below_stack = below_stack and not in_stack
        if below_stack or name.startswith(kept_prefixes):
            kept[name] = tensor.detach().clone()
    return kept
