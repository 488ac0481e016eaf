"""UNIT's per-domain auto-encoder (the authors' PyTorch ``VAEGen``) and the paper's weight sharing.

In the authors' PyTorch code each domain has its own encoder and decoder and no layer is shared:
the latent space is shared only through the losses (decoding one domain's code into the other
domain, and cycling back). The NeurIPS paper (and the authors' earlier code) also tied the last
encoder layers and the first decoder layers of the two domains; :func:`share_latent_blocks`
does that for the residual blocks next to the latent code.
"""

from __future__ import annotations

from torch import Tensor, nn

from unpaired.errors import ConfigError
from unpaired.nn.autoencoder import ContentEncoder, Decoder


class VAEGenerator(nn.Module):
    """Encoder and decoder of one domain around the latent code (instance norm throughout).

    The "VAE" is the authors' reduced one: the code ``encode(x)`` is the mean of a Gaussian with
    identity covariance, so sampling it means adding unit-variance noise (done by the UNIT
    module while training, as in their trainer).
    """

    def __init__(
        self,
        input_nc: int = 3,
        dim: int = 64,
        n_downsample: int = 2,
        n_res: int = 4,
        activation: str = "relu",
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        self.size_multiple = 2**n_downsample
        self.enc = ContentEncoder(
            n_downsample, n_res, input_nc, dim, "instance", activation, pad_type
        )
        self.dec = Decoder(
            n_downsample, n_res, self.enc.output_nc, input_nc, "instance", activation, pad_type
        )

    def encode(self, images: Tensor) -> Tensor:
        """The latent code (the Gaussian's mean), ``(N, dim * 2**n_downsample, H/4, W/4)``."""
        return self.enc(images)

    def decode(self, code: Tensor) -> Tensor:
        return self.dec(code)

    def forward(self, images: Tensor) -> Tensor:
        return self.decode(self.encode(images))


def share_latent_blocks(source: VAEGenerator, target: VAEGenerator, n_blocks: int) -> None:
    """Make the last ``n_blocks`` residual blocks of ``target``'s encoder and its first
    ``n_blocks`` decoder residual blocks the very modules of ``source`` (the paper's weight
    sharing of the high-level layers on both sides of the shared latent space)."""
    available = min(len(source.enc.res_blocks), len(target.enc.res_blocks))
    if not 0 <= n_blocks <= available:
        raise ConfigError(
            f"model.n_shared_blocks={n_blocks} must be between 0 and the generator's n_res "
            f"({available})."
        )
    for i in range(n_blocks):
        target.enc.res_blocks[-1 - i] = source.enc.res_blocks[-1 - i]
        target.dec.res_blocks[i] = source.dec.res_blocks[i]
