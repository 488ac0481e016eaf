"""StarGAN v2 (Choi et al., CVPR 2020): one generator for any number of domains, with styles
drawn from a latent code (mapping network) or taken from a reference image (style encoder), as
the authors' ``core/solver.py`` trains it. Its own files: this module,
:mod:`unpaired.nn.stargan_v2`, :mod:`unpaired.losses.r1`, :mod:`unpaired.data.stargan_v2`,
``conf/model/stargan_v2.yaml`` and ``conf/experiment/stargan_v2/``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.losses.r1 import discriminate_with_r1
from unpaired.metrics.ground_truth import pair_key
from unpaired.models.base import Batch, LossTerms, OptimizerGroup, TrainingStep
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs
from unpaired.models.references import check_reference_count
from unpaired.nn.face_landmarks import FAN, face_masks

#: The inputs of one training batch (the authors' ``InputFetcher``), as the data gives them.
TRAINING_KEYS = ("source", "source_domain", "reference", "reference2", "reference_domain")


class StarGANv2(GANModule):
    """A generator ``G(x, s)``, a mapping network ``F(z, y)``, a style encoder ``E(x, y)`` and a
    multi-task discriminator ``D(x, y)``, for the model's domains ``y`` (by index).

    A training batch holds source images with their domains and reference images of a target
    domain with a second reference of that domain (:mod:`unpaired.data.stargan_v2`); two latent
    codes ``z``, ``z2`` are drawn per image. Four updates per batch, in the authors' order:

    1. ``D`` on the real sources and the latent-guided fakes ``G(x, F(z, y_trg))``;
    2. ``D`` on the real sources and the reference-guided fakes ``G(x, E(x_ref, y_trg))``;
    3. ``G``, ``F`` and ``E`` with the latent-guided generator loss;
    4. ``G`` alone with the reference-guided generator loss.

    Discriminator loss: non-saturating adversarial terms (BCE on logits) plus ``lambda_reg`` x
    R1 on the real images. Generator loss: adversarial + ``lambda_sty`` x L1 between the style
    code and the one the encoder reads from the fake + ``lambda_cyc`` x L1 of the cycle through
    the source's own style - ``lambda_ds`` x L1 between the fakes of the two styles (the second
    detached), with ``lambda_ds`` decayed linearly to 0 over ``ds_iter`` iterations (a function of
    the iteration, so a resumed run goes on with the weight it stopped at).

    With ``generator.w_hpf > 0`` (their CelebA-HQ setting) every generator call also gets the face
    masks of its input from the authors' frozen face-landmark network
    (:mod:`unpaired.nn.face_landmarks`), as theirs: the sources' masks once per batch, the fakes'
    for the cycle. Its weights (``wing.ckpt``) are read once, then kept in the checkpoints and
    the generators file.

    Validation batches hold one image per domain (the ordinary layout). Each image is translated
    into every other domain with fixed latent code 0 (``fake_<source>_to_<target>``, measured
    against ``target_<source>_to_<target>`` where the data knows it), and the training losses are
    measured with each domain's images translated into the next domain, references of that
    domain from the same batch, and the fixed latent codes.

    Translating (wrap in ``torch.no_grad()``; images in [-1, 1]): :meth:`translate`
    (deterministic, fixed latent code 0), :meth:`sample` (``num_samples`` random latent codes),
    :meth:`translate_with_style` (the style of reference images of the target domain).

    Args:
        generator, mapping_network, style_encoder, discriminator: Hydra nodes of the networks
            (:mod:`unpaired.nn.stargan_v2`); the model adds ``num_domains`` (as many as its
            domains) to all but the generator.
        lambda_reg, lambda_sty, lambda_ds, lambda_cyc: the loss weights (the authors' names).
        ds_iter: iterations over which ``lambda_ds`` falls linearly to 0.
        f_lr: the mapping network's learning rate (the others have ``optimizer.lr``).
        fan_weights: the authors' ``wing.ckpt`` for ``w_hpf > 0`` (None: torch hub's cache;
            ``"random"``: tests); not read when ``w_hpf`` is 0.
        num_fixed_styles: fixed latent codes for evaluation and the validation grids.
        style_seed: their seed.
        common: the optimiser, initialisation, EMA and gradient options of
            :class:`~unpaired.models.base.GenerativeModule` (``gan_mode`` is the authors'
            ``vanilla``).
    """

    default_domains = ("A", "B")
    domain_count = None
    gan_modes = ("vanilla",)
    generator_networks = ("generator", "mapping_network", "style_encoder")
    discriminator_networks = ("discriminator",)
    pretrained_weight_files = ("fan_weights",)  # the FAN's weights are in the checkpoint
    pretrained_networks = ("fan",)  # and in the generators file: translating runs it

    def __init__(
        self,
        generator: Mapping[str, Any],
        mapping_network: Mapping[str, Any],
        style_encoder: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        lambda_reg: float = 1.0,
        lambda_sty: float = 1.0,
        lambda_ds: float = 1.0,
        ds_iter: int = 100000,
        lambda_cyc: float = 1.0,
        f_lr: float = 1e-6,
        fan_weights: str | None = None,
        num_fixed_styles: int = 4,
        style_seed: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(**{"gan_mode": "vanilla", **common})
        self.save_hyperparameters()
        if len(self.domains) < 2:
            raise ConfigError(
                f"StarGAN v2 translates between domains: model.domains={list(self.domains)} "
                "needs at least two (data.domains=[...])."
            )
        if ds_iter < 1:
            raise ConfigError(f"model.ds_iter={ds_iter} must be a positive number of iterations.")
        if num_fixed_styles < 2:
            raise ConfigError(f"model.num_fixed_styles={num_fixed_styles} must be at least 2.")
        n = len(self.domains)
        self.generator = self.network(generator)
        #: the frozen face-landmark network of the high-pass skips; None when ``w_hpf`` is 0
        self.fan = self._face_landmarks(fan_weights) if self.generator.hpf is not None else None
        self.mapping_network = self._per_domain(mapping_network, n)
        self.style_encoder = self._per_domain(style_encoder, n)
        self.discriminator = self._per_domain(discriminator, n)
        seeded = torch.Generator().manual_seed(style_seed)
        latents = torch.randn(num_fixed_styles, self.mapping_network.latent_dim, generator=seeded)
        self.register_buffer("fixed_latents", latents)

    def _face_landmarks(self, weights: str | None) -> FAN:
        try:
            return FAN(weights, option="model.fan_weights")
        except ConfigError as error:
            raise ConfigError(
                "model.generator.w_hpf > 0 (the authors' CelebA-HQ setting) takes face masks "
                f"from their face-landmark network: {error} "
                "(model.generator.w_hpf=0 needs no masks: their AFHQ setting)."
            ) from None

    def _per_domain(self, node: Mapping[str, Any], num_domains: int) -> nn.Module:
        return self.network(instantiate(node, num_domains=num_domains))

    # ------------------------------------------------------------------ what the core runs
    def optimizer_groups(self) -> tuple[OptimizerGroup, ...]:
        """One Adam per network, as the authors: the mapping network at ``f_lr``."""
        return (
            OptimizerGroup("D", ("discriminator",)),
            OptimizerGroup("G", ("generator",)),
            OptimizerGroup("F", ("mapping_network",), {"lr": self.hparams.f_lr}),
            OptimizerGroup("E", ("style_encoder",)),
        )

    def training_steps(self) -> tuple[TrainingStep, ...]:
        return (
            TrainingStep(("D",), self.discriminator_loss),
            TrainingStep(("D",), self.discriminator_reference_loss),
            TrainingStep(("G", "F", "E"), self.generator_loss),
            TrainingStep(("G",), self.generator_reference_loss),
        )

    @property
    def iteration(self) -> int:
        """Training iterations (batches) done before the current one."""
        return self.trainer.fit_loop.total_batch_idx if self._trainer is not None else 0

    def diversity_weight(self, iteration: int | None = None) -> float:
        """``lambda_ds`` at ``iteration`` (default: now): linearly from its value to 0 at
        ``ds_iter``, then 0 (the authors subtract ``lambda_ds / ds_iter`` after each one)."""
        done = self.iteration if iteration is None else iteration
        hp = self.hparams
        return max(0.0, hp.lambda_ds * (1.0 - done / hp.ds_iter))

    @property
    def reference_size(self) -> int:
        """The size of the images the style encoder reads (it ends in a conv to 1 pixel)."""
        return self.generator.img_size

    def domain_index(self, domain: str) -> int:
        if domain not in self.domains:
            raise ConfigError(f"{domain!r} is not one of the model's domains {list(self.domains)}")
        return self.domains.index(domain)

    def labels(self, domain: str, n: int) -> Tensor:
        return torch.full((n,), self.domain_index(domain), dtype=torch.long, device=self.device)

    # ------------------------------------------------------------------------ forward pass
    def generate(self, batch: Batch) -> Outputs:
        """The inputs of the four steps (each runs its own networks, after the previous
        update, as the authors' do); in evaluation also every translation with fixed code 0."""
        if all(key in batch for key in TRAINING_KEYS):
            x_real = batch["source"]
            inputs = {
                "x_real": x_real,
                "y_org": batch["source_domain"],
                "x_ref": batch["reference"],
                "x_ref2": batch["reference2"],
                "y_trg": batch["reference_domain"],
                "z": torch.randn(len(x_real), self.fixed_latents.shape[1], device=self.device),
                "z2": torch.randn(len(x_real), self.fixed_latents.shape[1], device=self.device),
            }
            return inputs | self._mask_outputs(x_real)
        inputs = self._inputs_from_domains(batch)
        for translation in self.translations:
            inputs[f"fake_{pair_key(translation)}"] = self.translate_as(
                batch[translation.source], translation
            )
        return inputs

    def _inputs_from_domains(self, batch: Batch) -> dict[str, Tensor]:
        """Training inputs from a batch of one image per domain: every domain's images, each
        translated into the next domain, with references of it from the same batch (the second
        one shifted by an image) and the fixed latent codes 0 and 1."""
        sources, references, second, y_org, y_trg = [], [], [], [], []
        for index, domain in enumerate(self.domains):
            target = self.domains[(index + 1) % len(self.domains)]
            n = len(batch[domain])
            sources.append(batch[domain])
            references.append(batch[target][:n])
            second.append(batch[target][:n].roll(1, dims=0))
            y_org.append(self.labels(domain, n))
            y_trg.append(self.labels(target, n))
        n = sum(len(s) for s in sources)
        x_real = torch.cat(sources)
        return self._mask_outputs(x_real) | {
            "x_real": x_real,
            "y_org": torch.cat(y_org),
            "x_ref": torch.cat(references),
            "x_ref2": torch.cat(second),
            "y_trg": torch.cat(y_trg),
            "z": self.fixed_latents[0].expand(n, -1),
            "z2": self.fixed_latents[1].expand(n, -1),
        }

    def masks_of(self, images: Tensor) -> tuple[Tensor, Tensor] | None:
        """The face masks the generator takes with ``images`` (None when ``w_hpf`` is 0)."""
        return face_masks(self.fan, images) if self.fan is not None else None

    def _mask_outputs(self, x_real: Tensor) -> dict[str, Tensor]:
        """The sources' masks, once per batch (as the authors): ``mask_face``, ``mask_inner``."""
        masks = self.masks_of(x_real)
        return {} if masks is None else {"mask_face": masks[0], "mask_inner": masks[1]}

    def _source_masks(self, outputs: Outputs) -> tuple[Tensor, Tensor] | None:
        return (outputs["mask_face"], outputs["mask_inner"]) if self.fan is not None else None

    def _style(self, outputs: Outputs, guide: str, second: bool = False) -> Tensor:
        """The target style of the latent-guided (``F(z, y_trg)``) or reference-guided
        (``E(x_ref, y_trg)``) path, from the first or the second code/reference."""
        if guide == "latent":
            return self.mapping_network(outputs["z2" if second else "z"], outputs["y_trg"])
        return self.style_encoder(outputs["x_ref2" if second else "x_ref"], outputs["y_trg"])

    # ---------------------------------------------------------------------------- losses
    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """The authors' ``compute_d_loss`` with latent codes."""
        return self._discriminator_loss(outputs, "latent")

    def discriminator_reference_loss(
        self, batch: Batch, outputs: Outputs
    ) -> tuple[Tensor, LossTerms]:
        """The authors' ``compute_d_loss`` with reference images."""
        return self._discriminator_loss(outputs, "reference")

    def _discriminator_loss(self, outputs: Outputs, guide: str) -> tuple[Tensor, LossTerms]:
        x_real, y_org, y_trg = outputs["x_real"], outputs["y_org"], outputs["y_trg"]
        logits, penalty = discriminate_with_r1(lambda x: self.discriminator(x, y_org), x_real)
        real = self.adversarial.real(logits)
        with torch.no_grad():
            style = self._style(outputs, guide)
            x_fake = self.generator(x_real, style, self._source_masks(outputs))
        fake = self.adversarial.fake(self.discriminator(x_fake, y_trg))
        loss = real + fake + self.hparams.lambda_reg * penalty
        name = "D" if guide == "latent" else "D_ref"
        return loss, {
            name: loss,
            f"{name}_real": real,
            f"{name}_fake": fake,
            f"{name}_reg": penalty,
        }

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """The authors' ``compute_g_loss`` with latent codes."""
        return self._generator_loss(outputs, "latent")

    def generator_reference_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """The authors' ``compute_g_loss`` with reference images."""
        return self._generator_loss(outputs, "reference")

    def _generator_loss(self, outputs: Outputs, guide: str) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        x_real, y_org, y_trg = outputs["x_real"], outputs["y_org"], outputs["y_trg"]
        s_trg = self._style(outputs, guide)
        masks = self._source_masks(outputs)
        x_fake = self.generator(x_real, s_trg, masks)
        adversarial = self.adversarial.generator(self.discriminator(x_fake, y_trg))
        style = (self.style_encoder(x_fake, y_trg) - s_trg).abs().mean()
        x_fake2 = self.generator(x_real, self._style(outputs, guide, second=True), masks).detach()
        diversity = (x_fake - x_fake2).abs().mean()
        x_rec = self.generator(x_fake, self.style_encoder(x_real, y_org), self.masks_of(x_fake))
        cycle = (x_rec - x_real).abs().mean()
        lambda_ds = self.diversity_weight()
        loss = adversarial + hp.lambda_sty * style - lambda_ds * diversity + hp.lambda_cyc * cycle
        outputs[f"fake_{guide}"] = x_fake.detach()  # for the image grids
        name = "G" if guide == "latent" else "G_ref"
        terms = {
            name: loss,
            f"{name}_adv": adversarial,
            f"{name}_sty": style,
            f"{name}_ds": diversity,
            f"{name}_cyc": cycle,
        }
        if guide == "latent":
            terms["lambda_ds"] = torch.tensor(lambda_ds)
        return loss, terms

    # ------------------------------------------------------------------------- grids
    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        """Training: sources, references and both fakes; evaluation: each domain's images and
        their translations into every other domain."""
        if all(key in batch for key in TRAINING_KEYS):
            columns = {"source": outputs["x_real"], "reference": outputs["x_ref"]}
            for guide in ("latent", "reference"):
                if f"fake_{guide}" in outputs:
                    columns[f"fake_{guide}"] = outputs[f"fake_{guide}"]
            return columns
        columns = {}
        for source in self.domains:
            columns[f"real_{source}"] = batch[source]
            for translation in self.translations:
                if translation.source == source:
                    columns[f"fake_{translation.target}_from_{source}"] = outputs[
                        f"fake_{pair_key(translation)}"
                    ]
        return columns

    # ---------------------------------------------------------------------------- exporting
    def exported_networks(self) -> dict[str, tuple[nn.Module, tuple[Tensor, ...], str]]:
        """What a translation runs, for ``unpaired-export``: each network with example inputs
        to trace it and what it takes: the generator ``(images, style)``, the mapping network
        ``(latents, domain indices)`` and the style encoder ``(references, domain indices)``;
        a style is drawn from either of the last two, for the domain to translate into."""
        size = self.reference_size
        images = torch.rand(1, 3, size, size, device=self.device) * 2 - 1
        domain = torch.zeros(1, dtype=torch.long, device=self.device)
        latent = self.fixed_latents[:1]
        style = self.mapping_network(latent, domain)
        generator = (
            self.generator if self.fan is None else MaskedGenerator(self.generator, self.fan)
        )
        return {
            "generator": (generator, (images, style), "(images, style) -> images"),
            "mapping_network": (
                self.mapping_network,
                (latent, domain),
                "(latents, domain indices) -> styles",
            ),
            "style_encoder": (
                self.style_encoder,
                (images, domain),
                "(reference images, domain indices) -> styles",
            ),
        }

    # -------------------------------------------------------------------------- translating
    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        """Latent-guided, with fixed latent code 0 (deterministic)."""
        return self.translate_with_latents(images, translation, self.fixed_latents[:1])[:, 0]

    def translate_with_latents(
        self, images: Tensor, translation: Translation, latents: Tensor
    ) -> Tensor:
        """``(N, S, C, H, W)``: every image translated with each of the ``S`` latent codes."""
        y = self.labels(translation.target, len(images))
        masks = self.masks_of(images)
        samples = [
            self.generator(images, self.mapping_network(z.expand(len(images), -1), y), masks)
            for z in latents.to(self.device)
        ]
        return torch.stack(samples, dim=1)

    def sample(
        self,
        images: Tensor,
        direction: str | Translation | None = None,
        num_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``num_samples`` latent-guided translations of each image, ``(N, num_samples, C, H,
        W)``: sample ``j`` of every image uses the same random latent code ``j``."""
        if num_samples < 1:
            raise ConfigError(f"samples={num_samples} must be at least 1.")
        translation = self.translation(direction)
        device = generator.device if generator is not None else self.device
        shape = (num_samples, self.fixed_latents.shape[1])
        latents = torch.randn(shape, generator=generator, device=device)
        return self.translate_with_latents(images, translation, latents)

    def translate_with_style(
        self,
        images: Tensor,
        reference_images: Tensor,
        direction: str | Translation | None = None,
    ) -> Tensor:
        """Translate ``images`` with the style of ``reference_images`` of the target domain:
        one reference for the whole batch, or one per image."""
        check_reference_count(len(reference_images), len(images))
        translation = self.translation(direction)
        y = self.labels(translation.target, len(reference_images))
        style = self.style_encoder(reference_images, y)
        return self.generator(images, style.expand(len(images), -1), self.masks_of(images))


class MaskedGenerator(nn.Module):
    """The generator of ``w_hpf > 0`` with the face masks of its input, as one network
    ``(images, style) -> images`` (what ``unpaired-export`` writes)."""

    def __init__(self, generator: nn.Module, fan: FAN) -> None:
        super().__init__()
        self.generator = generator
        self.fan = fan

    def forward(self, images: Tensor, style: Tensor) -> Tensor:
        return self.generator(images, style, face_masks(self.fan, images))
