"""Opt-in speed levers of a training run that leave what it computes unchanged (up to float
rounding): the channels-last memory layout and ``torch.compile`` of each network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch

from unpaired.utils.compile import compile_options


class SpeedOptions(L.Callback):
    """Applies the speed options to the module once, at the start of ``fit``.

    Args:
        channels_last: keep every network's weights in the channels-last (NHWC) layout, which
            the convolutions then also give their activations: faster on GPUs, especially in
            bf16; slower to train on the CPUs we measured (README, Performance).
        compile: ``torch.compile`` each network (every child module with parameters): ``True``
            for torch's defaults, a mapping of ``torch.compile`` arguments (e.g.
            ``{mode: max-autotune}``), or ``False`` to stay eager. Networks are compiled in
            place, so parameter names, checkpoints and resuming are the same as eager runs'.

    Lightning calls ``setup`` before it moves the module to its device (which keeps the layout)
    and builds the optimisers (which see the same parameter objects either way).
    """

    def __init__(self, channels_last: bool = False, compile: bool | Mapping[str, Any] = False):
        super().__init__()
        self.channels_last = channels_last
        self.compile_options = compile_options(compile, "callbacks.speed.compile")

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.channels_last:
            pl_module.to(memory_format=torch.channels_last)
        if self.compile_options is None:
            return
        for network in pl_module.children():
            compiled = getattr(network, "_compiled_call_impl", None) is not None
            if not compiled and any(True for _ in network.parameters()):
                network.compile(**self.compile_options)
