"""AdaIN (Huang & Belongie, ICCV 2017): arbitrary style transfer in one pass. Its own files: this
module, :class:`unpaired.nn.style.AdaINDecoder`, ``conf/model/adain.yaml`` and
``conf/experiment/adain/``. Content images are domain A, style images domain B."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.losses.style import adaptive_instance_norm, content_loss, mean_std_style_loss
from unpaired.models.base import Batch, GenerativeModule, LossTerms, OptimizerGroup, TrainingStep
from unpaired.models.outputs import Outputs
from unpaired.nn.vgg import VGGFeatures, select
from unpaired.stylization.images import from_unit, match_colours, to_unit

#: The encoder's layers the style loss compares; the last is the one AdaIN works on.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def adain_losses(
    encoder: nn.Module, decoder: nn.Module, content: Tensor, style: Tensor, alpha: float = 1.0
) -> tuple[Tensor, Tensor, Tensor]:
    """The authors' ``Net.forward``: the content and style losses of decoding the AdaIN of
    ``content``'s ``relu4_1`` features with ``style``'s, and the decoded images.

    ``content`` and ``style`` are [0, 1] images; ``encoder`` gives ``{layer: features}`` for
    :data:`STYLE_LAYERS`. Content loss: MSE between the decoded image's ``relu4_1`` and the AdaIN
    target ``t``; style loss: :func:`~unpaired.losses.style.mean_std_style_loss` over the four
    layers.
    """
    style_features = select(encoder(style), STYLE_LAYERS)
    content_features = encoder(content)[STYLE_LAYERS[-1]]
    target = adaptive_instance_norm(content_features, style_features[-1])
    target = alpha * target + (1 - alpha) * content_features
    decoded = decoder(target)
    decoded_features = select(encoder(decoded), STYLE_LAYERS)
    loss_content = content_loss(decoded_features[-1], target)
    loss_style = mean_std_style_loss(decoded_features, style_features)
    return loss_content, loss_style, decoded


class AdaIN(GenerativeModule):
    """A frozen VGG-19 ``encoder`` (the authors' normalised VGG-19 up to ``relu4_1``) and a
    trained ``decoder``: per batch, one update of the decoder on ``content_weight * content +
    style_weight * style`` (:func:`adain_losses`), pairing the i-th content image (domain A) with
    the i-th style image (domain B). Adam 1e-4 with the inverse decay in the config.

    Translating needs style images (:meth:`stylize`; ``unpaired-translate ... style_ref=``);
    during training and validation the batch's domain-B images are the styles, so the output
    is ``fake_B`` and the ground-truth error of A→B is measured where the data has it.

    Args:
        decoder: Hydra node of the decoder (:class:`~unpaired.nn.style.AdaINDecoder`).
        vgg_weights: ``vgg_normalised.pth`` (None: torch hub's cache; ``"random"``: tests).
        content_weight, style_weight: the authors' 1 and 10.
        common: the optimiser, schedule and gradient options of
            :class:`~unpaired.models.base.GenerativeModule` (``init_type`` is not used: the
            decoder keeps PyTorch's default initialisation, as the authors').
    """

    generator_networks = ("decoder",)
    pretrained_weight_files = ("vgg_weights",)  # the VGG's weights are in the checkpoint
    pretrained_networks = ("encoder",)  # and in the generators file: translating runs it

    def __init__(
        self,
        decoder: Mapping[str, Any],
        vgg_weights: str | None = None,
        content_weight: float = 1.0,
        style_weight: float = 10.0,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.save_hyperparameters()
        self.encoder = VGGFeatures("vgg19_normalised", STYLE_LAYERS, vgg_weights)
        self.decoder = instantiate(decoder)
        self.content_weight = content_weight
        self.style_weight = style_weight

    @property
    def translations(self) -> tuple[Translation, ...]:
        content, style = self.domains
        return (Translation(content, style),)

    def optimizer_groups(self) -> tuple[OptimizerGroup, ...]:
        return (OptimizerGroup("decoder", ("decoder",)),)

    def training_steps(self) -> tuple[TrainingStep, ...]:
        return (TrainingStep(("decoder",), self.loss),)

    def generate(self, batch: Batch) -> Outputs:
        content, style = self.domains
        loss_content, loss_style, decoded = adain_losses(
            self.encoder, self.decoder, to_unit(batch[content]), to_unit(batch[style])
        )
        return {
            "loss_content": loss_content,
            "loss_style": loss_style,
            f"fake_{style}": from_unit(decoded),
        }

    def loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        content = self.content_weight * outputs["loss_content"]
        style = self.style_weight * outputs["loss_style"]
        total = content + style
        return total, {"decoder": total, "content": content, "style": style}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        content, style = self.domains
        return {
            f"content_{content}": batch[content],
            f"style_{style}": batch[style],
            f"fake_{style}": outputs[f"fake_{style}"].clamp(-1, 1),
        }

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        raise ConfigError(
            "AdaIN translates with style images: give unpaired-translate style_ref=<image> "
            "(or a list of images with style_weights=[...]), or call AdaIN.stylize."
        )

    @torch.no_grad()
    def stylize(
        self,
        content: Tensor,
        styles: Sequence[Tensor],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        preserve_color: bool = False,
    ) -> Tensor:
        """``content`` (``(N, 3, H, W)``, [-1, 1]) in the style of ``styles`` (each
        ``(1, 3, h, w)``, [-1, 1], any size), as the authors' ``test.py``: several styles are
        interpolated with ``weights`` (normalised to sum 1) on the AdaIN targets; ``alpha``
        blends the target with the content's own features (0: content only, 1: full style);
        ``preserve_color`` first gives each style image the content image's colours (CORAL).
        Returns [-1, 1] images (clamped) of the content's size (a multiple of 8)."""
        if not 0 <= alpha <= 1:
            raise ConfigError(f"alpha={alpha} must be between 0 (content) and 1 (full style)")
        weights = list(weights) if weights is not None else [1.0] * len(styles)
        if not styles or len(weights) != len(styles) or min(weights) < 0 or sum(weights) <= 0:
            raise ConfigError(
                f"{len(styles)} style image(s) with style_weights={weights}: give one "
                "non-negative weight per style image, not all zero."
            )
        total = sum(weights)
        content01 = to_unit(content)
        content_features = self.encoder(content01)[STYLE_LAYERS[-1]]
        results = []
        for index, item in enumerate(content_features):
            target = torch.zeros_like(item)
            for style, weight in zip(styles, weights, strict=True):
                style01 = to_unit(style)
                if preserve_color:
                    style01 = match_colours(style01, content01[index : index + 1])
                style_features = self.encoder(style01)[STYLE_LAYERS[-1]]
                target += weight / total * adaptive_instance_norm(item[None], style_features)[0]
            results.append(alpha * target + (1 - alpha) * item)
        return from_unit(self.decoder(torch.stack(results))).clamp(-1, 1)
