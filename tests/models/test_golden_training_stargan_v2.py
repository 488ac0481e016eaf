"""Our StarGAN v2 trains as the AUTHORS' core/solver.py does: same loss terms at every step,
same weights and averaged weights after the last one.

``tests/golden/training/stargan_v2_steps.safetensors`` holds what their ``compute_d_loss``,
``compute_g_loss``, ``moving_average`` and diversity-weight decay did, in their
``Solver.train``'s order, in 2 steps on tiny networks with seeded weights (ours, whose outputs
equal theirs: tests/nn/test_golden_outputs.py) and seeded inputs, with Adam (0, 0.99), weight
decay 1e-4, lr 1e-4 and 1e-6 for the mapping network, EMA 0.999 and ``ds_iter`` 2. Here our module
runs the same batches and latent codes through ``Trainer.fit``.

With torch's default (foreach) Adam, as here, the weights came out bit-identical to theirs
(tolerance 1e-5 relative, for other platforms); the averages agree to the rounding of the lerp
(theirs ``lerp(weights, average, 0.999)``, ours ``lerp(average, weights, 0.001)``): 6e-9 apart in
the seeded projection of the generator average's update (atol 1e-8). The fused Adam kernel the
presets use rounds differently, which Adam with beta1 0 amplifies: 2 to 10% of a weight's
second update, and the seeded projection of the generator's update 17% apart (its sum and norm
within 5e-4).
"""

from __future__ import annotations

import json
from typing import Any

import lightning as L
import torch
from safetensors import safe_open
from torch.utils.data import DataLoader

import golden  # tests/golden/golden.py (pytest puts tests/golden on the path)
from unpaired.models.stargan_v2 import StarGANv2

FIXTURE = golden.GOLDEN_DIR / "training" / "stargan_v2_steps.safetensors"
CLASSES = {
    "generator": "StarGANv2Generator",
    "mapping_network": "MappingNetwork",
    "style_encoder": "StyleEncoder",
    "discriminator": "StarGANv2Discriminator",
}
#: Their loss (prefix/key) -> our logged term.
OURS = {
    **{f"D/latent/{k}": f"D_{k}" for k in ("real", "fake", "reg")},
    **{f"D/ref/{k}": f"D_ref_{k}" for k in ("real", "fake", "reg")},
    **{f"G/latent/{k}": f"G_{k}" for k in ("adv", "sty", "ds", "cyc")},
    **{f"G/ref/{k}": f"G_ref_{k}" for k in ("adv", "sty", "ds", "cyc")},
}


def training_batch(step: int) -> dict[str, torch.Tensor]:
    """The producer's inputs of one step (tests/golden/produce_stargan_v2.py)."""
    return {
        "source": golden.seeded_input((2, 3, 16, 16), 300 + step),
        "reference": golden.seeded_input((2, 3, 16, 16), 400 + step),
        "reference2": golden.seeded_input((2, 3, 16, 16), 500 + step),
        "source_domain": torch.tensor([0, 2]) if step % 2 == 0 else torch.tensor([1, 1]),
        "reference_domain": torch.tensor([1, 0]) if step % 2 == 0 else torch.tensor([2, 1]),
    }


class RecordLosses(L.Callback):
    def __init__(self) -> None:
        self.steps: list[dict[str, float]] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        metrics = trainer.callback_metrics
        self.steps.append({name: float(metrics[f"train/{name}"]) for name in OURS.values()})


def test_our_steps_are_the_authors_solver_steps() -> None:
    fixture = golden.load_file(str(FIXTURE))
    with safe_open(str(FIXTURE), framework="pt") as file:
        meta = json.loads(file.metadata()["golden"])
    args, steps = meta["args"], meta["steps"]
    nodes = {}
    for name, spec in meta["networks"].items():
        arguments = {k: v for k, v in spec.items() if k not in ("seed", "num_domains")}
        nodes[name] = {"_target_": f"unpaired.nn.stargan_v2.{CLASSES[name]}", **arguments}
    model = StarGANv2(
        **nodes,
        lambda_reg=args["lambda_reg"],
        lambda_sty=args["lambda_sty"],
        lambda_ds=args["lambda_ds"],
        lambda_cyc=args["lambda_cyc"],
        ds_iter=args["ds_iter"],
        f_lr=args["f_lr"],
        domains=("a", "b", "c"),
        optimizer={
            "_target_": "torch.optim.Adam",
            "_partial_": True,
            "lr": args["lr"],
            "betas": [args["beta1"], args["beta2"]],
            "weight_decay": args["weight_decay"],
            "fused": False,
        },
        ema={"decay": 0.999, "start_step": 0, "buffers": "copy"},
    )
    initial = {}
    for name, spec in meta["networks"].items():
        net = getattr(model, name)
        shapes = {k: v.shape for k, v in net.state_dict().items()}
        net.load_state_dict(golden.seeded_weights(shapes, spec["seed"]))
        initial[name] = {k: v.clone() for k, v in net.state_dict().items()}
    for name, copy in model.ema.copies.items():  # the averages start from the same weights
        copy.load_state_dict(initial[name])
    latents = iter(
        (golden.seeded_normal((2, 3), 600 + s), golden.seeded_normal((2, 3), 700 + s))
        for s in range(steps)
    )
    generate = model.generate

    def generate_with_their_latents(batch: dict[str, Any]) -> dict[str, Any]:
        outputs = generate(batch)
        if "source" in batch:
            outputs["z"], outputs["z2"] = next(latents)
        return outputs

    model.generate = generate_with_their_latents
    record = RecordLosses()
    trainer = L.Trainer(
        max_epochs=1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=[record],
    )
    loader = DataLoader([training_batch(s) for s in range(steps)], batch_size=None)
    trainer.fit(model, train_dataloaders=loader)

    theirs = fixture["losses"]
    for step in range(steps):
        ours = torch.tensor(
            [record.steps[step][OURS[name]] for name in meta["loss_names"]], dtype=torch.float64
        )
        torch.testing.assert_close(ours, theirs[step], rtol=1e-5, atol=1e-7, msg=f"step {step}")
    finals = {name: getattr(model, name).state_dict() for name in CLASSES}
    finals |= {f"ema.{name}": copy.state_dict() for name, copy in model.ema.copies.items()}
    for name, final in finals.items():
        start = initial[name.removeprefix("ema.")]
        checksum = golden.weight_checksums(start, final, meta["checksum_seed"])
        torch.testing.assert_close(
            checksum,
            fixture[f"checksum.{name}"],
            rtol=1e-5,
            atol=1e-8,
            msg=lambda m, n=name: f"{n}: {m}",
        )
