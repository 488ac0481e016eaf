from unpaired.models.base import GANModule
from unpaired.models.cyclegan import CycleGAN

__all__ = ["CycleGAN", "GANModule"]
