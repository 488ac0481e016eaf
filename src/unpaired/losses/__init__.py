from unpaired.losses.adversarial import GAN_MODES, AdversarialLoss, gradient_penalty

__all__ = ["GAN_MODES", "AdversarialLoss", "gradient_penalty"]
