"""Generator and discriminator networks, with their normalisation and initialisation helpers."""

from unpaired.nn.discriminators import PatchGANDiscriminator, PixelDiscriminator
from unpaired.nn.init import init_weights
from unpaired.nn.norm import norm_layer
from unpaired.nn.resnet import ResnetGenerator
from unpaired.nn.unet import UnetGenerator

__all__ = [
    "PatchGANDiscriminator",
    "PixelDiscriminator",
    "ResnetGenerator",
    "UnetGenerator",
    "init_weights",
    "norm_layer",
]
