"""Answer-only causal-LM loss that applies the LM head only where the loss is taken.

A standard ``model(input_ids, labels=...)`` computes logits over the whole vocabulary at every position and
then throws away all but the few answer positions. For introspection data (≈60-token prompts, 1–3-token
answers) and big-vocabulary models the LM head is a large share of the compute, so we run the transformer
body, gather the hidden states that predict answer tokens and apply the head to those only (≈2–3× faster on
CPU, OFFLINE_MODELS.md §4). The result equals the full model's cross-entropy restricted to the answer
tokens.

It is an ``nn.Module`` so that ``accelerate`` can wrap it in DistributedDataParallel or shard it with FSDP:
calling the body and head from inside one forward keeps DDP's gradient synchronisation hooks (and FSDP's
gather/reshard hooks) in play.

    loss_fn = AnswerOnlyLoss(peft_model)
    loss_sum, n_tokens = loss_fn(input_ids=..., attention_mask=..., labels=...)
    answer_tokens(labels)     # = n_tokens, without a forward pass (to weight micro-batches before backward)

Losses are summed, not averaged, so that a caller can weight every answer token equally however the tokens
are split into micro-batches and processes (`lora._optimizer_step`, `mean_loss`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inward.training.encode import IGNORE


def _causal_lm(model: nn.Module) -> Any:
    """The underlying *ForCausalLM model, looking through a PEFT wrapper."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def answer_mask(labels: torch.Tensor) -> torch.Tensor:
    """Which next-token targets carry loss: position t predicts token t+1, so targets are labels shifted left."""
    return labels[:, 1:] != IGNORE


def answer_tokens(labels: torch.Tensor) -> int:
    """Answer tokens `AnswerOnlyLoss` takes the loss over for a batch with these labels."""
    return int(answer_mask(labels).sum())


class AnswerOnlyLoss(nn.Module):
    """Summed cross-entropy over answer tokens (labels != -100) and their count."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        # FSDP's transformer auto-wrap shards the layer classes the model names here (LlamaDecoderLayer, ...);
        # accelerate reads them from the module it is given, which is this wrapper.
        self._no_split_modules = getattr(_causal_lm(model), "_no_split_modules", None)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lm = _causal_lm(self.model)
        body = lm.get_decoder()
        head = lm.get_output_embeddings()
        hidden = body(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
        targets = labels[:, 1:]
        keep = answer_mask(labels)
        logits = head(hidden[:, :-1][keep]).float()
        logits = _postprocess_logits(lm.config, logits)
        loss_sum = F.cross_entropy(logits, targets[keep], reduction="sum")
        return loss_sum, keep.sum()


def _postprocess_logits(config: Any, logits: torch.Tensor) -> torch.Tensor:
    """Architectures that transform logits after the head (Gemma 2 soft-capping, Granite/Cohere scaling)."""
    cap = getattr(config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    scaling = getattr(config, "logits_scaling", None)  # Granite divides
    if scaling:
        logits = logits / scaling
    scale = getattr(config, "logit_scale", None)  # Cohere multiplies
    if isinstance(scale, (int, float)) and scale:
        logits = logits * scale
    return logits


def mean_loss(
    loss_fn: nn.Module, batches: list[dict[str, torch.Tensor]], device: torch.device
) -> float | None:
    """Token-weighted mean answer loss over some batches (no gradients); None without answer tokens."""
    total, count = 0.0, 0
    was_training = loss_fn.training
    loss_fn.eval()
    with torch.no_grad():
        for b in batches:
            s, n = loss_fn(**{k: v.to(device) for k, v in b.items()})
            total += float(s)
            count += int(n)
    loss_fn.train(was_training)
    return total / count if count else None
