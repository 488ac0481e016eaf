from unpaired.models.base import GANModule
from unpaired.models.cut import CUT
from unpaired.models.cyclegan import CycleGAN
from unpaired.models.pix2pix import Pix2Pix

__all__ = ["CUT", "CycleGAN", "GANModule", "Pix2Pix"]
