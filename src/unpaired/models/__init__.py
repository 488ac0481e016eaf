from unpaired.models.base import GANModule
from unpaired.models.cyclegan import CycleGAN
from unpaired.models.munit import MUNIT
from unpaired.models.unit import UNIT

__all__ = ["MUNIT", "UNIT", "CycleGAN", "GANModule"]
