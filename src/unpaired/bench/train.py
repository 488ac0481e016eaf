"""Training speed: our CycleGAN step against the authors', side by side.

Modes (see :mod:`unpaired.bench.modes`):

- ``reference``: :class:`AuthorsCycleGAN`, the authors' training iteration reproduced as their
  code runs it;
- ``fast``: our :class:`~unpaired.models.base.GenerativeModule` ``training_step`` inside
  ``lightning.Trainer.fit``, exactly as ``unpaired-train`` builds it from the configuration, fed
  random batches from memory (the compute alone);
- ``data``: ``fast`` fed by the configured DataModule, which splits each step into waiting for
  the data loader and computing;
- ``LABEL:OVERRIDES``: ``fast`` with more overrides (bf16, channels-last, compile, ...).

Every mode runs in its own process (:mod:`unpaired.bench.workers`).
"""

from __future__ import annotations

import itertools
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from unpaired.bench.modes import ModeChoice, compose_plain, device_of
from unpaired.bench.workers import ModeSpec, StepControl, serve_steps
from unpaired.errors import ConfigError, DataError
from unpaired.nn import init_weights
from unpaired.nn.norm import InstanceNorm2d
from unpaired.utils.image_pool import ImagePool

TRAIN_MODES = ("reference", "fast", "data")


@dataclass(frozen=True)
class TrainSpec:
    """What a worker needs to build one training mode (plain values: it crosses processes)."""

    kind: str  # "reference" or "lightning"
    config: dict[str, Any]
    device: str
    real_data: bool = False


# --------------------------------------------------------------------------- the reference
class AuthorsGANLoss(nn.Module):
    """The authors' ``GANLoss`` for ``lsgan`` and ``vanilla``: the loss against a label buffer
    expanded to the prediction's shape."""

    def __init__(self, gan_mode: str) -> None:
        super().__init__()
        losses = {"lsgan": nn.MSELoss, "vanilla": nn.BCEWithLogitsLoss}
        if gan_mode not in losses:
            raise ConfigError(
                f"the reference mode reproduces the authors' lsgan and vanilla losses; "
                f"model.gan_mode={gan_mode} has no reference (leave out --mode reference)."
            )
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))
        self.loss = losses[gan_mode]()

    def forward(self, prediction: Tensor, target_is_real: bool) -> Tensor:
        target = self.real_label if target_is_real else self.fake_label
        return self.loss(prediction, target.expand_as(prediction))


class AuthorsCycleGAN:
    """The CycleGAN authors' training iteration (``CycleGANModel.optimize_parameters`` in
    pytorch-CycleGAN-and-pix2pix), reproduced as the yardstick of our step's speed and results.

    In their order: forward ``fake_B = G_A(A)``, ``rec_A = G_B(fake_B)``, ``fake_A = G_B(B)``,
    ``rec_B = G_A(fake_A)``; both discriminators frozen; G gradients zeroed; the identity
    forwards ``G_A(B)``, ``G_B(A)``, the adversarial terms ``D_A(fake_B)``, ``D_B(fake_A)`` and
    the cycle terms summed and back-propagated once; G step; discriminators unfrozen; D gradients
    zeroed; ``D_A`` then ``D_B``, each back-propagated on its own (real image, and a fake from
    the history pool, the sum halved); D step. Their naming: ``G_A`` maps A to B and ``D_A``
    judges domain B.

    As their code runs it: eager, fp32, NCHW; one ``torch.optim.Adam`` per side with the
    single-tensor loop (``foreach=False``, the only implementation in the torch versions their
    code targets; torch 2 would pick ``foreach`` on a GPU by itself); ``zero_grad`` filling the
    gradients with zeros (``set_to_none=False``, torch 1.x's behaviour; torch 2's default frees
    them); ``torch.nn.InstanceNorm2d``; cuDNN autotuning on (their ``BaseModel`` enables it
    unless images vary in size). Without the ``nn.DataParallel`` wrapper they put around every
    network on a GPU, which with one device only forwards the call.

    Networks, initial weights, loss weights and pool size come from the same ``model`` config
    node as our :class:`~unpaired.models.CycleGAN`; the networks are our classes, which lay out
    exactly the authors' layers, with torch's instance norm put back, and the pools are our
    :class:`~unpaired.utils.image_pool.ImagePool`, which follows their rule image by image.

    Deliberately separate from :class:`~unpaired.models.CycleGAN`: it is what our module is
    timed and tested against, so it must not change when our module does.
    """

    def __init__(self, model: Mapping[str, Any], device: torch.device | str = "cpu") -> None:
        if not str(model.get("_target_", "")).endswith("CycleGAN"):
            raise ConfigError(
                f"the reference mode reproduces the CycleGAN authors' step; model "
                f"{model.get('_target_')} has no reference (leave out --mode reference)."
            )
        self.lambda_A = float(model["lambda_A"])
        self.lambda_B = float(model["lambda_B"])
        self.lambda_identity = float(model["lambda_identity"])

        def build(node: Mapping[str, Any]) -> nn.Module:
            network = init_weights(instantiate(node), model["init_type"], model["init_gain"])
            return with_torch_instance_norm(network).to(device)

        # Built in the order of our module's (G_AB, G_BA, D_A, D_B), so one seed gives one set
        # of weights; the authors' D_A is our D_B.
        self.G_A, self.G_B = build(model["generator"]), build(model["generator"])
        self.D_B, self.D_A = build(model["discriminator"]), build(model["discriminator"])
        self.criterionGAN = AuthorsGANLoss(model["gan_mode"]).to(device)
        self.criterionCycle = nn.L1Loss()
        self.criterionIdt = nn.L1Loss()
        self.fake_A_pool = ImagePool(model["pool_size"])
        self.fake_B_pool = ImagePool(model["pool_size"])
        optimizer = model["optimizer"]
        lr, betas = optimizer["lr"], tuple(optimizer["betas"])
        self.optimizer_G = torch.optim.Adam(
            itertools.chain(self.G_A.parameters(), self.G_B.parameters()),
            lr=lr,
            betas=betas,
            foreach=False,
        )
        self.optimizer_D = torch.optim.Adam(
            itertools.chain(self.D_A.parameters(), self.D_B.parameters()),
            lr=lr,
            betas=betas,
            foreach=False,
        )
        if torch.device(device).type == "cuda":
            torch.backends.cudnn.benchmark = True

    def load_from(self, module: nn.Module) -> None:
        """Copy the weights of our CycleGAN ``module`` (tests compare the two steps)."""
        for theirs, ours in (("G_A", "G_AB"), ("G_B", "G_BA"), ("D_A", "D_B"), ("D_B", "D_A")):
            getattr(self, theirs).load_state_dict(getattr(module, ours).state_dict())

    def step(self, real_A: Tensor, real_B: Tensor) -> dict[str, Tensor]:
        """One iteration; returns the losses (detached, under our names)."""
        fake_B = self.G_A(real_A)
        rec_A = self.G_B(fake_B)
        fake_A = self.G_B(real_B)
        rec_B = self.G_A(fake_A)

        _set_requires_grad([self.D_A, self.D_B], False)
        self.optimizer_G.zero_grad(set_to_none=False)
        losses = self._backward_G(real_A, real_B, fake_A, fake_B, rec_A, rec_B)
        self.optimizer_G.step()

        _set_requires_grad([self.D_A, self.D_B], True)
        self.optimizer_D.zero_grad(set_to_none=False)
        losses["D_B"] = self._backward_D_basic(
            self.D_A, real_B, self.fake_B_pool.query(fake_B)
        )  # their D_A: judges domain B
        losses["D_A"] = self._backward_D_basic(self.D_B, real_A, self.fake_A_pool.query(fake_A))
        self.optimizer_D.step()
        losses["D"] = losses["D_A"] + losses["D_B"]
        return losses

    def _backward_G(
        self,
        real_A: Tensor,
        real_B: Tensor,
        fake_A: Tensor,
        fake_B: Tensor,
        rec_A: Tensor,
        rec_B: Tensor,
    ) -> dict[str, Tensor]:
        terms = {}
        if self.lambda_identity > 0:
            idt_A = self.G_A(real_B)
            terms["idt_B"] = self.criterionIdt(idt_A, real_B) * self.lambda_B * self.lambda_identity
            idt_B = self.G_B(real_A)
            terms["idt_A"] = self.criterionIdt(idt_B, real_A) * self.lambda_A * self.lambda_identity
        terms["G_adv_AB"] = self.criterionGAN(self.D_A(fake_B), True)
        terms["G_adv_BA"] = self.criterionGAN(self.D_B(fake_A), True)
        terms["cycle_A"] = self.criterionCycle(rec_A, real_A) * self.lambda_A
        terms["cycle_B"] = self.criterionCycle(rec_B, real_B) * self.lambda_B
        loss_G = sum(terms.values())
        loss_G.backward()
        return {"G": loss_G.detach(), **{name: value.detach() for name, value in terms.items()}}

    def _backward_D_basic(self, netD: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        loss_D_real = self.criterionGAN(netD(real), True)
        loss_D_fake = self.criterionGAN(netD(fake.detach()), False)
        loss_D = (loss_D_real + loss_D_fake) * 0.5
        loss_D.backward()
        return loss_D.detach()


def _set_requires_grad(nets: list[nn.Module], requires_grad: bool) -> None:
    for net in nets:
        for param in net.parameters():
            param.requires_grad = requires_grad


def with_torch_instance_norm(network: nn.Module) -> nn.Module:
    """``network`` with every :class:`unpaired.nn.norm.InstanceNorm2d` replaced by torch's
    ``nn.InstanceNorm2d`` of the same settings (the authors' layer; it holds no weights)."""
    for parent in list(network.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, InstanceNorm2d):
                setattr(
                    parent,
                    name,
                    nn.InstanceNorm2d(
                        child.num_features,
                        eps=child.eps,
                        momentum=child.momentum,
                        affine=child.affine,
                        track_running_stats=child.track_running_stats,
                    ),
                )
    return network


# ------------------------------------------------------------------------------- the runners
def random_batch(data: Mapping[str, Any], seed: int) -> dict[str, Tensor]:
    """One batch of random images in [-1, 1] of the configured batch size, crop and channels."""
    generator = torch.Generator().manual_seed(seed)
    shape = (data["batch_size"], data.get("channels", 3), data["crop_size"], data["crop_size"])
    return {key: torch.rand(shape, generator=generator) * 2 - 1 for key in ("A", "B")}


class ReferenceTraining:
    """The ``reference`` mode's worker: :class:`AuthorsCycleGAN` on one random batch."""

    def __init__(self, spec: TrainSpec) -> None:
        self.device = torch.device(spec.device)
        torch.manual_seed(spec.config.get("seed") or 0)
        self.model = AuthorsCycleGAN(spec.config["model"], self.device)
        batch = random_batch(spec.config["data"], spec.config.get("seed") or 0)
        self.real_A, self.real_B = (batch[key].to(self.device) for key in ("A", "B"))

    def serve(self, control: StepControl) -> None:
        serve_steps(control, lambda: self.model.step(self.real_A, self.real_B))


class _RepeatedBatch(Dataset):
    """The same random images at every index, for as many steps as a benchmark takes."""

    def __init__(self, batch: Mapping[str, Tensor]) -> None:
        self.items = {key: images[0] for key, images in batch.items()}

    def __len__(self) -> int:
        return 2**31 - 1

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.items


class _Paced(L.Callback):
    """Hands the steps of ``Trainer.fit`` to a :class:`StepControl`."""

    def __init__(self, control: StepControl) -> None:
        self.control = control

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.control.next_window():
            trainer.should_stop = True

    def on_train_batch_start(self, *args: Any) -> None:
        self.control.before_step()

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if not self.control.after_step():
            trainer.should_stop = True


class LightningTraining:
    """The ``fast`` and ``data`` modes' worker: the configured module in ``Trainer.fit``, with
    the configured accelerator, precision, cuDNN autotuning, determinism and speed options
    (``callbacks.speed``). Loggers, checkpoints, image grids and validation are left out: they
    act every N steps or epochs."""

    def __init__(self, spec: TrainSpec) -> None:
        self.device = torch.device(spec.device)
        self.config = OmegaConf.create(spec.config)
        self.real_data = spec.real_data
        seed = self.config.get("seed") or 0
        torch.manual_seed(seed)
        self.module = instantiate(self.config.model, _recursive_=False, _convert_="all")
        if self.real_data:
            self.data = instantiate(self.config.data)
        else:
            batch = random_batch(spec.config["data"], seed)
            self.data = DataLoader(
                _RepeatedBatch(batch),
                batch_size=self.config.data.batch_size,
                pin_memory=self.device.type == "cuda",
            )

    def serve(self, control: StepControl) -> None:
        with (
            tempfile.TemporaryDirectory(prefix="unpaired-bench-") as scratch,
            warnings.catch_warnings(),
        ):
            # validation is left out on purpose
            warnings.filterwarnings("ignore", "You defined a `validation_step` but have no")
            trainer = instantiate(
                self.config.trainer,
                accelerator=self.device.type,
                max_epochs=-1,  # until the benchmark stops it
                max_steps=-1,
                limit_train_batches=None,
                limit_val_batches=0,
                num_sanity_val_steps=0,
                logger=False,
                callbacks=[*self._speed_options(), _Paced(control)],
                enable_checkpointing=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                default_root_dir=scratch,
            )
            if self.real_data:
                try:
                    trainer.fit(self.module, datamodule=self.data)
                except DataError as error:
                    raise DataError(
                        f"{error} The data mode trains from the configured data set; without it, "
                        "leave out --mode data."
                    ) from error
            else:
                trainer.fit(self.module, train_dataloaders=self.data)

    def _speed_options(self) -> list[L.Callback]:
        speed = self.config.get("callbacks", {}).get("speed")
        return [] if speed is None else [instantiate(speed)]


def build_training(spec: TrainSpec) -> ReferenceTraining | LightningTraining:
    """Build a mode's runner inside its worker."""
    if spec.kind == "reference":
        return ReferenceTraining(spec)
    return LightningTraining(spec)


def training_modes(choices: Sequence[ModeChoice], overrides: Sequence[str]) -> dict[str, ModeSpec]:
    """The workers' specs of ``choices``, each composed from ``overrides`` and its own."""
    modes = {}
    for choice in choices:
        config = compose_plain([*overrides, *choice.overrides])
        spec = TrainSpec(
            kind="reference" if choice.base == "reference" else "lightning",
            config=config,
            device=device_of(config["trainer"]),
            real_data=choice.base == "data",
        )
        modes[choice.name] = ModeSpec(build_training, spec, config["data"]["batch_size"])
    return modes
