"""Johnson, Alahi & Fei-Fei (ECCV 2016): a feed-forward network per style, trained with
perceptual losses, as pytorch/examples' ``fast_neural_style`` trains it. Its own files: this
module, :class:`unpaired.nn.style.TransformerNet`, ``conf/model/johnson.yaml`` and
``conf/experiment/johnson/``. Trained on one domain of content images and one style image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor

from unpaired.domains import Translation
from unpaired.losses.style import content_loss, gram_matrix, gram_style_loss
from unpaired.models.base import Batch, GenerativeModule, LossTerms, OptimizerGroup, TrainingStep
from unpaired.models.outputs import Outputs
from unpaired.nn.vgg import VGGFeatures, select
from unpaired.stylization.images import from_unit, read_image, to_unit


class FastStyleTransfer(GenerativeModule):
    """A ``transformer`` network trained to render content images (the one domain) in the
    style of ``style_image``: per batch, one update on ``content_weight * MSE(relu2_2)`` between
    the output's and the input's VGG-16 features plus ``style_weight *`` the Gram-matrix loss
    against the style image over ``style_layers``
    (:func:`~unpaired.losses.style.gram_style_loss`).

    As in pytorch/examples, the network sees images scaled to [0, ``pixel_scale``] (255) and its
    output, in that scale, goes to the loss network divided by it, then normalised with
    ImageNet's statistics. The style image is read when training or validation first needs it
    (its Gram matrices are kept, not saved in checkpoints): a trained model translates without
    it.

    Args:
        transformer: Hydra node of the network (:class:`~unpaired.nn.style.TransformerNet`).
        style_image: the style image's path.
        style_size: the style image's shorter side in pixels (None: as it is; the examples'
            ``--style-size``).
        content_layer, style_layers: VGG-16 layer names.
        content_weight, style_weight: the examples' 1e5 and 1e10.
        vgg_weights: torchvision's ``vgg16-397923af.pth`` (None: torch hub's cache;
            ``"random"``: tests).
        style_domain: the name of the stylised "domain" (default ``B``: ``direction=AtoB``).
        pixel_scale: the range of the network's input and output.
        common: the optimiser, schedule and gradient options of
            :class:`~unpaired.models.base.GenerativeModule` (``init_type`` is not used: the
            network keeps PyTorch's default initialisation, as the examples').
    """

    default_domains = ("A",)
    domain_count = 1
    generator_networks = ("transformer",)
    pretrained_weight_files = ("vgg_weights",)  # the VGG's weights are in the checkpoint

    def __init__(
        self,
        transformer: Mapping[str, Any],
        style_image: str,
        style_size: int | None = None,
        content_layer: str = "relu2_2",
        style_layers: Sequence[str] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
        content_weight: float = 1e5,
        style_weight: float = 1e10,
        vgg_weights: str | None = None,
        style_domain: str = "B",
        pixel_scale: float = 255.0,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.save_hyperparameters()
        self.transformer = instantiate(transformer)
        self.loss_network = VGGFeatures("vgg16", [content_layer, *style_layers], vgg_weights)
        self.style_image, self.style_size = style_image, style_size
        self.content_layer, self.style_layers = content_layer, tuple(style_layers)
        self.content_weight, self.style_weight = content_weight, style_weight
        self.style_domain = style_domain
        self.pixel_scale = pixel_scale
        self._style: tuple[Tensor, list[Tensor]] | None = None

    @property
    def translations(self) -> tuple[Translation, ...]:
        (content,) = self.domains
        return (Translation(content, self.style_domain),)

    def optimizer_groups(self) -> tuple[OptimizerGroup, ...]:
        return (OptimizerGroup("transformer", ("transformer",)),)

    def training_steps(self) -> tuple[TrainingStep, ...]:
        return (TrainingStep(("transformer",), self.loss),)

    def style(self) -> tuple[Tensor, list[Tensor]]:
        """The style image ([0, 1]) and its Gram matrices at ``style_layers``, read once."""
        if self._style is None or self._style[0].device != self.device:
            image = read_image(self.style_image, self.style_size).to(self.device)
            with torch.no_grad():
                grams = [
                    gram_matrix(f) for f in select(self.loss_network(image), self.style_layers)
                ]
            self._style = (image, grams)
        return self._style

    def stylise_unit(self, images: Tensor) -> Tensor:
        """The network's output for [0, 1] images, in [0, 1] scale (unbounded)."""
        return self.transformer(images * self.pixel_scale) / self.pixel_scale

    def generate(self, batch: Batch) -> Outputs:
        (content,) = self.domains
        return {f"fake_{self.style_domain}": from_unit(self.stylise_unit(to_unit(batch[content])))}

    def loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        (content,) = self.domains
        _, style_grams = self.style()
        output_features = self.loss_network(to_unit(outputs[f"fake_{self.style_domain}"]))
        with torch.no_grad():
            content_features = self.loss_network(to_unit(batch[content]))[self.content_layer]
        loss_content = self.content_weight * content_loss(
            output_features[self.content_layer], content_features
        )
        loss_style = self.style_weight * gram_style_loss(
            select(output_features, self.style_layers), style_grams
        )
        total = loss_content + loss_style
        return total, {"transformer": total, "content": loss_content, "style": loss_style}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        (content,) = self.domains
        images = batch[content]
        style = F.interpolate(self.style()[0], size=images.shape[-2:], mode="bilinear")
        return {
            f"content_{content}": images,
            "style": from_unit(style).expand_as(images),
            f"fake_{self.style_domain}": outputs[f"fake_{self.style_domain}"].clamp(-1, 1),
        }

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        return from_unit(self.stylise_unit(to_unit(images))).clamp(-1, 1)
