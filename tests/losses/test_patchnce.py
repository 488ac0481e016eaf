"""PatchNCE against a hand computation on tiny tensors."""

import math

import pytest
import torch

from unpaired.losses import PatchNCELoss
from unpaired.losses.patchnce import MASKED_LOGIT


def unit_rows(n: int, dim: int, seed: int) -> torch.Tensor:
    rows = torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))
    return rows / rows.norm(dim=1, keepdim=True)


def hand_patchnce(q: list, k: list, batch: int, temperature: float, whole_batch: bool) -> list:
    """For query i: -log softmax(logits)[0], logits = [q_i.k_i, then q_i.k_j for every key j of
    its group, where j = i is masked to -10] / T. Its group is its image (P = N / batch keys), or
    the whole batch."""
    n = len(q)
    per_group = n if whole_batch else n // batch
    losses = []
    for i in range(n):
        group = i // per_group
        dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
        logits = [dot(q[i], k[i])]
        for j in range(group * per_group, (group + 1) * per_group):
            logits.append(MASKED_LOGIT if j == i else dot(q[i], k[j]))
        logits = [value / temperature for value in logits]
        log_sum = math.log(sum(math.exp(value) for value in logits))
        losses.append(log_sum - logits[0])  # the positive is at index 0
    return losses


@pytest.mark.parametrize("temperature", [0.07, 0.5])
@pytest.mark.parametrize("whole_batch", [False, True])
def test_matches_the_hand_computation(temperature: float, whole_batch: bool) -> None:
    batch, patches, dim = 2, 3, 4
    q, k = unit_rows(batch * patches, dim, 0), unit_rows(batch * patches, dim, 1)
    loss = PatchNCELoss(temperature, negatives_from_minibatch=whole_batch)(q, k, batch)
    expected = hand_patchnce(q.tolist(), k.tolist(), batch, temperature, whole_batch)
    assert loss.shape == (batch * patches,)
    assert loss.tolist() == pytest.approx(expected, rel=1e-5, abs=1e-5)  # float32


def test_a_query_equal_to_its_key_scores_low_and_a_swapped_one_high() -> None:
    keys = torch.eye(3)  # three orthogonal patches of one image
    aligned = PatchNCELoss(0.5)(keys.clone(), keys, batch_size=1)
    swapped = PatchNCELoss(0.5)(keys[[1, 0, 2]], keys, batch_size=1)
    # aligned: exp(1/T) against two exp(0) negatives and the masked own position exp(-10/T)
    expected = math.log(1 + 2 * math.exp(-1 / 0.5) + math.exp((MASKED_LOGIT - 1) / 0.5))
    assert aligned.tolist() == pytest.approx([expected] * 3, rel=1e-5)
    # swapped: the positive scores 0 and a negative 1/T
    assert swapped[0].item() == pytest.approx(math.log(1 + math.exp(2) + 1), rel=1e-4)


def test_negatives_come_from_the_same_image_only() -> None:
    batch, patches, dim = 2, 4, 5
    q, k = unit_rows(batch * patches, dim, 2), unit_rows(batch * patches, dim, 3)
    loss = PatchNCELoss(0.07)(q, k, batch)
    k_changed = k.clone()
    k_changed[patches:] = unit_rows(patches, dim, 4)  # other keys for image 1
    changed = PatchNCELoss(0.07)(q, k_changed, batch)
    assert torch.equal(loss[:patches], changed[:patches])  # image 0 does not see image 1
    assert not torch.allclose(loss[patches:], changed[patches:])
    # the same holds per device: a batch equals its images computed one at a time
    alone = torch.cat([PatchNCELoss(0.07)(q[s], k[s], 1) for s in (slice(0, 4), slice(4, 8))])
    assert torch.allclose(loss, alone)


def test_with_the_whole_batch_the_other_images_are_negatives_too() -> None:
    q, k = unit_rows(8, 5, 5), unit_rows(8, 5, 6)
    per_image = PatchNCELoss(0.07)(q, k, batch_size=2)
    whole = PatchNCELoss(0.07, negatives_from_minibatch=True)(q, k, batch_size=2)
    assert (whole > per_image).all()  # more negatives, larger loss


def test_no_gradient_flows_into_the_keys() -> None:
    q = unit_rows(6, 3, 7).requires_grad_(True)
    k = unit_rows(6, 3, 8).requires_grad_(True)
    PatchNCELoss(0.07)(q, k, batch_size=2).mean().backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
    assert k.grad is None


def test_bad_shapes_and_batch_sizes_are_errors() -> None:
    q = unit_rows(6, 3, 9)
    with pytest.raises(ValueError, match="batch of 4"):
        PatchNCELoss()(q, q, batch_size=4)
    with pytest.raises(ValueError, match="matching"):
        PatchNCELoss()(q, q[:4], batch_size=2)
    with pytest.raises(ValueError, match="temperature"):
        PatchNCELoss(temperature=0.0)
