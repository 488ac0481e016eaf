"""Generator and discriminator networks, with their normalisation and initialisation helpers."""

from unpaired.nn.discriminators import PatchGANDiscriminator, PixelDiscriminator
from unpaired.nn.init import init_weights
from unpaired.nn.multiscale import MultiScaleDiscriminator
from unpaired.nn.munit import AdaINGenerator
from unpaired.nn.norm import norm_layer
from unpaired.nn.resnet import ResnetGenerator
from unpaired.nn.unet import UnetGenerator
from unpaired.nn.unit import VAEGenerator

__all__ = [
    "AdaINGenerator",
    "MultiScaleDiscriminator",
    "PatchGANDiscriminator",
    "PixelDiscriminator",
    "ResnetGenerator",
    "UnetGenerator",
    "VAEGenerator",
    "init_weights",
    "norm_layer",
]
