"""U-Net generator of pix2pix/CycleGAN, nested exactly like the authors' ``UnetGenerator``.

Each block is ``down -> submodule -> up``; the module tree (``model.model.1.model.3...``)
matches theirs so that their published state dicts load by key.
"""

import torch
from torch import nn

from unpaired.nn.norm import norm_layer, uses_bias


class UnetSkipConnectionBlock(nn.Module):
    """One U-Net level: returns ``cat([x, up(sub(down(x)))])``, or just the output if outermost.

    The down path's LeakyReLU is in place, as in the authors' code, so for inner blocks the skip
    connection carries the activated input; pretrained weights were trained with that behaviour.
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: str = "batch",
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        if not innermost and submodule is None:
            raise ValueError("a block that is not innermost needs a submodule")
        self.outermost = outermost
        make_norm = norm_layer(norm)
        bias = uses_bias(norm)
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=bias)
        downrelu = nn.LeakyReLU(0.2, True)
        uprelu = nn.ReLU(True)
        # the submodule returns its input concatenated to its output: twice the channels
        up_in = inner_nc if innermost else inner_nc * 2
        if outermost:
            upconv = nn.ConvTranspose2d(up_in, outer_nc, kernel_size=4, stride=2, padding=1)
            layers = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        else:
            upconv = nn.ConvTranspose2d(
                up_in, outer_nc, kernel_size=4, stride=2, padding=1, bias=bias
            )
            up = [uprelu, upconv, make_norm(outer_nc)]
            if innermost:
                layers = [downrelu, downconv, *up]
            else:
                layers = [downrelu, downconv, make_norm(inner_nc), submodule, *up]
                if use_dropout:
                    layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net with ``num_downs`` stride-2 levels (8 for 256x256 inputs, 7 for 128x128)."""

    size_multiple: int

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: str = "batch",
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be >= 5, got {num_downs}")
        self.size_multiple = 2**num_downs
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, norm=norm, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(
                ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=use_dropout
            )
        for mult in (4, 2, 1):
            block = UnetSkipConnectionBlock(ngf * mult, ngf * mult * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm=norm
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
