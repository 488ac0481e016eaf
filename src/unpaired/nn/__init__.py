"""Generator and discriminator networks, with their normalisation and initialisation helpers."""

from unpaired.nn.antialias import Downsample, Upsample
from unpaired.nn.discriminators import PatchGANDiscriminator, PixelDiscriminator
from unpaired.nn.features import feature_channels, feature_layers, sequential_features
from unpaired.nn.init import init_weights
from unpaired.nn.norm import norm_layer
from unpaired.nn.patch_sampler import PatchSampleMLP
from unpaired.nn.resnet import ResnetGenerator
from unpaired.nn.unet import UnetGenerator

__all__ = [
    "Downsample",
    "PatchGANDiscriminator",
    "PatchSampleMLP",
    "PixelDiscriminator",
    "ResnetGenerator",
    "UnetGenerator",
    "Upsample",
    "feature_channels",
    "feature_layers",
    "init_weights",
    "norm_layer",
    "sequential_features",
]
