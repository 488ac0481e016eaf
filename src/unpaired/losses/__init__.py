from unpaired.losses.adversarial import GAN_MODES, AdversarialLoss, gradient_penalty
from unpaired.losses.patchnce import PatchNCELoss

__all__ = ["GAN_MODES", "AdversarialLoss", "PatchNCELoss", "gradient_penalty"]
