"""Mixed precision under manual optimisation: bf16-mixed (CPU autocast) and 16-mixed with its
grad scaler, which Lightning shares between the G and the D optimiser."""

from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.plugins.precision import MixedPrecision

CLIP = 1e-3


class OutputDtypes(L.Callback):
    """Records the dtype of the generated images of every training batch."""

    def __init__(self) -> None:
        self.dtypes: set[torch.dtype] = set()

    def on_train_batch_end(self, trainer, pl_module, outputs: Any, batch, batch_idx) -> None:
        self.dtypes.add(outputs["visuals"]["fake_B"].dtype)


def fp16_on_cpu(init_scale: float) -> MixedPrecision:
    """Lightning's 16-mixed plugin with its grad scaler, on the CPU.

    ``Trainer(accelerator="cpu", precision="16-mixed")`` runs bf16-mixed instead (no scaler);
    given explicitly, the fp16 plugin runs on the CPU as on a GPU, so its scaler can be tested.
    """
    return MixedPrecision("16-mixed", "cpu", torch.amp.GradScaler("cpu", init_scale=init_scale))


def test_bf16_mixed_runs_the_networks_in_bfloat16_and_trains(
    sgd_cyclegan, fixed_batches, fit_one_epoch, sides
):
    model = sgd_cyclegan(lr=0.01)
    before = sides(model)
    dtypes = OutputDtypes()
    fit_one_epoch(model, fixed_batches(4, 2), precision="bf16-mixed", callbacks=[dtypes])
    assert dtypes.dtypes == {torch.bfloat16}
    for start, end in zip(before, sides(model), strict=True):
        assert end.dtype == torch.float32 and torch.isfinite(end).all()
        assert not torch.equal(start, end)


def test_16_mixed_on_a_cpu_runs_as_bf16_mixed():
    trainer = L.Trainer(accelerator="cpu", precision="16-mixed", logger=False)
    assert trainer.precision == "bf16-mixed"


def test_16_mixed_clips_the_unscaled_gradients(sgd_cyclegan, fixed_batches, fit_one_epoch, sides):
    model = sgd_cyclegan(grad_clip_val=CLIP)
    before = sides(model)
    fit_one_epoch(model, fixed_batches(2, 2), plugins=[fp16_on_cpu(init_scale=1024.0)])
    # clipping the scaled gradients would leave updates 1024 times smaller than CLIP
    for start, end in zip(before, sides(model), strict=True):
        assert (end - start).norm().item() == pytest.approx(CLIP, rel=1e-3)


def test_16_mixed_skips_only_the_update_whose_gradients_overflow(
    sgd_cyclegan, fixed_batches, fit_one_epoch, sides
):
    # cycle weights so large that G's scaled gradients overflow in fp16; D's stay finite
    model = sgd_cyclegan(lambda_A=1e6, lambda_B=1e6)
    precision = fp16_on_cpu(init_scale=1024.0)
    (g_before, d_before) = sides(model)
    fit_one_epoch(model, fixed_batches(2, 2), plugins=[precision])
    g_after, d_after = sides(model)
    assert torch.equal(g_after, g_before)  # G's update skipped...
    assert torch.isfinite(d_after).all() and not torch.equal(d_after, d_before)  # ...D's made
    assert precision.scaler.get_scale() == 512.0  # backed off once, for G's overflow alone
