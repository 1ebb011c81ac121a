"""The consistency test's input (Liu et al. 2021): per example and method, the mean last-layer
hidden vector of the method's top-5 content tokens, taken from the batch's forward pass.

The dashboard's faithfulness page clusters these vectors of correctly classified examples by
class (silhouette score): a method whose top tokens carry the class should give separated
clusters. Tokens are ranked as the deletion curves rank them (descending signed score,
``attention_atlas.ingest.faithfulness.ranking``), so "top" means the same everywhere.
"""

from __future__ import annotations

import numpy as np
import torch

from attention_atlas.ingest.adapters import EncodedText
from attention_atlas.ingest.faithfulness import ranking

TOP_TOKENS = 5


def top_vectors(
    hidden: torch.Tensor, items: list[EncodedText], scores: list[dict[str, np.ndarray]]
) -> list[dict[str, np.ndarray]]:
    """Per example, method -> mean hidden vector [D] float16 of its top-5 content tokens
    (fewer when the example has fewer; no vector for an example without content tokens).
    ``hidden``: the batch's last-layer hidden states [B, T, D]."""
    out: list[dict[str, np.ndarray]] = []
    for b, (item, by_method) in enumerate(zip(items, scores, strict=True)):
        tops = {m: ranking(item, s)[:TOP_TOKENS] for m, s in by_method.items()}
        if not tops or not len(next(iter(tops.values()))):
            out.append({})
            continue
        rows = hidden[b].detach().float()
        out.append(
            {
                m: rows[torch.as_tensor(top, device=rows.device)]
                .mean(0)
                .cpu()
                .numpy()
                .astype(np.float16)
                for m, top in tops.items()
            }
        )
    return out
