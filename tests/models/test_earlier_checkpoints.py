"""Checkpoints written before the core was opened (two optimisers built by the base, no domain
names, no averaged weights) still translate, load for evaluation and resume training."""

from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from unpaired.evaluation.load import load_module
from unpaired.inference import load_translator
from unpaired.models import CycleGAN
from unpaired.utils.checkpoint import SafeCheckpointIO, load_checkpoint

EARLIER = Path(__file__).parents[1] / "fixtures" / "cyclegan_before_the_open_core.ckpt"


def test_it_translates_with_its_trained_generators() -> None:
    checkpoint = load_checkpoint(EARLIER)
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    module, weights = load_module(EARLIER)
    assert weights == "raw" and module.domains == ("A", "B") and module.ema is None
    expected = {
        key.removeprefix("G_BA."): value
        for key, value in checkpoint["state_dict"].items()
        if key.startswith("G_BA.")
    }
    assert all(torch.equal(module.G_BA.state_dict()[k], v) for k, v in expected.items())
    with torch.no_grad():
        translated = load_translator(EARLIER, "BtoA", channels_last=False)(images)
        torch.testing.assert_close(translated, module.translate(images, "BtoA"))


def test_its_training_resumes_with_its_optimisers_schedules_and_pools(tmp_path: Path) -> None:
    checkpoint = load_checkpoint(EARLIER)
    model = CycleGAN(**checkpoint["hyper_parameters"])
    generator = torch.Generator().manual_seed(1)
    items = [
        {name: torch.rand(3, 16, 16, generator=generator) * 2 - 1 for name in "AB"}
        for _ in range(3)
    ]
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        plugins=[SafeCheckpointIO()],
        default_root_dir=tmp_path,
    )
    trainer.fit(model, DataLoader(items, batch_size=1), ckpt_path=EARLIER)
    assert trainer.global_step == checkpoint["global_step"] + 2 * 3  # G and D per batch
    assert len(model.pool_A.images) == 2  # restored full, still full
    optimizer_g, _ = trainer.optimizers
    assert optimizer_g.state[next(iter(model.G_AB.parameters()))]["step"] == 6  # 3 + 3 steps
    # linear decay over 1 + 2 epochs, stepped after epochs 0 and 1: 1 - max(0, 2 + 1 - 1) / 3
    assert optimizer_g.param_groups[0]["lr"] == pytest.approx(2e-4 / 3)
