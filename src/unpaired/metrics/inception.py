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

from unpaired.errors import ConfigError
from unpaired.utils.checkpoint import load_checkpoint

WEIGHTS_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]
#: What the extractor does to an image before the network: recorded beside every FID/KID result.
RESIZE = (
    "torch-fidelity FeatureExtractorInceptionV3: uint8 RGB images, bilinear resize to 299x299 "
    "compatible with TensorFlow 1.x (as the original TF FID code), 2048-d pool features"
)
FEATURES = 2048


def cached_weights_path() -> Path:
    """Where torch hub (and torch-fidelity's own download) keeps the weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def resolve_weights(path: str | Path | None) -> Path:
    """The weights file to use: ``path`` if given, else the torch hub cache.

    Raises:
        ConfigError: ``path`` does not exist, or none is given and the cache does not hold it;
            the message gives the URL, the file name and both ways to provide it.
    """
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise ConfigError(
                f"metrics.inception_weights={given}: no such file. It must be {WEIGHTS_FILE}, "
                f"from {URL_INCEPTION_V3}"
            )
        return given
    cached = cached_weights_path()
    if cached.is_file():
        return cached
    raise ConfigError(
        f"the FID/KID Inception weights {WEIGHTS_FILE} are not available and are never "
        f"downloaded at run time. Download {URL_INCEPTION_V3} (on a machine with internet) and "
        f"either put it at {cached} or pass metrics.inception_weights=/path/to/{WEIGHTS_FILE}"
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
