"""The Inception network of FID and KID, with the weights the papers used, found without network.

The papers' FID uses the TensorFlow Inception graph of 2015-12-05; torch-fidelity ships it ported
to PyTorch (``weights-inception-2015-12-05-6726825d.pth``) and torchmetrics uses that port. Both
would download it at run time. We never do: the file comes from ``metrics.inception_weights``, or
from torch hub's checkpoint cache (where torch-fidelity's own download puts it), and otherwise
the error says which file to get and where to put it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn
from torch_fidelity.feature_extractor_inceptionv3 import (
    URL_INCEPTION_V3,
    FeatureExtractorInceptionV3,
)

from unpaired.utils.checkpoint import load_checkpoint
from unpaired.utils.pretrained import pretrained_file

WEIGHTS_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]
#: What the extractor does to an image before the network: recorded beside every FID/KID result.
RESIZE = (
    "torch-fidelity FeatureExtractorInceptionV3: uint8 RGB images, bilinear resize to 299x299 "
    "compatible with TensorFlow 1.x (as the original TF FID code), 2048-d pool features"
)
FEATURES = 2048


def resolve_weights(path: str | Path | None) -> Path:
    """The weights file to use: ``path`` if given, else the torch hub cache (one error otherwise:
    :func:`unpaired.utils.pretrained.pretrained_file`)."""
    return pretrained_file(
        path,
        WEIGHTS_FILE,
        URL_INCEPTION_V3,
        "the FID/KID Inception weights",
        "metrics.inception_weights",
    )


class InceptionFeatures(nn.Module):
    """2048-d Inception pool features of uint8 RGB images (N, 3, H, W), any size."""

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        path = resolve_weights(weights)
        # torch-fidelity unpickles the file with weights_only=False; reading it with the
        # weights-only loader first refuses a file that would run code.
        load_checkpoint(path)
        self.weights_path = path
        self.network = FeatureExtractorInceptionV3(
            "inception-v3-compat", [str(FEATURES)], feature_extractor_weights_path=str(path)
        )

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        if images.dtype != torch.uint8:
            raise TypeError(f"InceptionFeatures takes uint8 images, got {images.dtype}")
        (features,) = self.network(images)
        return features
