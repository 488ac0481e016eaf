"""PatchNCE (Park et al., ECCV 2020): a patch of the output should match the input patch at the same
position more than any other input patch.

For a query ``q`` (a projected output patch), its positive ``k+`` (the projected input patch at the
same position) and the negatives ``k-`` (the input patches at the other sampled positions of the
same image), all unit vectors, the loss is the cross-entropy of picking the positive:

    -log( exp(q.k+ / T) / (exp(q.k+ / T) + sum_{k-} exp(q.k- / T)) )

with temperature ``T`` (0.07). The logits of each query are laid out as in the authors' code:
the positive at index 0, then the similarities to all sampled keys of the image, where the key
at the query's own position (the positive again) is masked with -10 before the division by
``T`` (so exp(-10 / T) contributes practically nothing).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: the authors' mask value for a query's own position among the negatives (before / T)
MASKED_LOGIT = -10.0


class PatchNCELoss(nn.Module):
    """Per-patch PatchNCE loss between queries and keys sampled at the same positions.

    Args:
        temperature: ``T`` (the authors' ``nce_T``, 0.07).
        negatives_from_minibatch: also use the patches of the other images of the batch as
            negatives (the authors' ``nce_includes_all_negatives_from_minibatch``, for single-image
            translation); CUT and FastCUT use the same image only (False).
    """

    def __init__(self, temperature: float = 0.07, negatives_from_minibatch: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"the PatchNCE temperature must be positive, got {temperature}")
        self.temperature = temperature
        self.negatives_from_minibatch = negatives_from_minibatch

    def forward(self, feat_q: Tensor, feat_k: Tensor, batch_size: int) -> Tensor:
        """Loss of each query patch, shape ``(B * P,)``.

        Args:
            feat_q: ``(B * P) x D`` queries, image by image (the P patches of image 0 first).
            feat_k: ``(B * P) x D`` keys at the same positions; no gradient flows into them.
            batch_size: ``B``, the number of images these patches come from **on this device**
                (the authors use the global ``--batch_size`` here, which is wrong under
                data-parallel training where each device holds a share of the batch).
        """
        if feat_q.shape != feat_k.shape or feat_q.dim() != 2:
            raise ValueError(
                f"queries and keys must be matching (B*P) x D tensors, got {tuple(feat_q.shape)} "
                f"and {tuple(feat_k.shape)}"
            )
        if batch_size < 1 or feat_q.shape[0] % batch_size:
            raise ValueError(
                f"{feat_q.shape[0]} patches cannot come from a batch of {batch_size} images"
            )
        n_patches, dim = feat_q.shape
        feat_k = feat_k.detach()
        positive = (feat_q * feat_k).sum(dim=1, keepdim=True)  # (B P) x 1

        groups = 1 if self.negatives_from_minibatch else batch_size
        q = feat_q.reshape(groups, -1, dim)
        k = feat_k.reshape(groups, -1, dim)
        per_group = q.shape[1]
        negatives = torch.bmm(q, k.transpose(1, 2))  # groups x P' x P'
        own_position = torch.eye(per_group, device=q.device, dtype=torch.bool)[None]
        negatives = negatives.masked_fill(own_position, MASKED_LOGIT).reshape(-1, per_group)

        logits = torch.cat([positive, negatives], dim=1) / self.temperature
        target = torch.zeros(n_patches, dtype=torch.long, device=feat_q.device)
        return F.cross_entropy(logits, target, reduction="none")
