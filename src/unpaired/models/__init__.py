from unpaired.models.base import GenerativeModule, OptimizerGroup, TrainingStep
from unpaired.models.cut import CUT
from unpaired.models.cyclegan import CycleGAN
from unpaired.models.gan import GANModule
from unpaired.models.munit import MUNIT
from unpaired.models.pix2pix import Pix2Pix
from unpaired.models.unit import UNIT

__all__ = [
    "CUT",
    "MUNIT",
    "UNIT",
    "CycleGAN",
    "GANModule",
    "GenerativeModule",
    "OptimizerGroup",
    "Pix2Pix",
    "TrainingStep",
]
