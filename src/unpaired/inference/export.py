"""One generator (one direction) written as TorchScript, ONNX and safetensors.

The exported files run without this package's Python code (TorchScript, ONNX) or without pickle
(safetensors), and :func:`unpaired.inference.load.load_translator` reads all three back. Each
records the generator's direction and the side multiple it needs (TorchScript: an extra file
``unpaired.json``; ONNX: model metadata; safetensors: the header), so the translator pads as
the generator requires. Height and width are free in both traced formats (and the batch size):
the generators are fully convolutional, and tracing records no shape.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes
from torch import nn

from unpaired.errors import CheckpointError, ConfigError
from unpaired.inference.load import (
    DIRECTION_KEY,
    GENERATOR_KEY,
    SIZE_MULTIPLE_KEY,
    STYLE_NETWORK_KEY,
    TORCHSCRIPT_METADATA,
    DirectionalTranslation,
    load_torch_generator,
    load_trained_module,
    size_multiple,
)
from unpaired.utils.disk import atomic_write

FORMATS = ("torchscript", "onnx", "safetensors")
SUFFIXES = {"torchscript": ".pt", "onnx": ".onnx", "safetensors": ".safetensors"}
ONNX_OPSET = 17


def export(
    ckpt: Path,
    output_dir: Path,
    formats: Sequence[str] | None = None,
    direction: str = "AtoB",
    generator_overrides: dict[str, Any] | None = None,
    example_size: int = 64,
    weights: str = "ema",
) -> list[Path]:
    """Write the ``direction`` generator of ``ckpt`` (a Lightning checkpoint or an authors'
    ``.pth``) to ``output_dir/<ckpt stem>_<direction><suffix>`` in each of ``formats``; returns
    the files. ``formats``: None for every format the model can be written in (all three, or
    TorchScript for a model that translates with a style). ``example_size``: side of the image
    traced (a multiple of the generator's).
    ``weights``: ``ema`` exports the averaged weights of a model trained with them, ``raw`` the
    trained ones."""
    if formats is not None and (not formats or set(formats) - set(FORMATS)):
        raise ConfigError(f"formats must be a non-empty list from {FORMATS}, got {list(formats)}")
    module = load_trained_module(ckpt, weights)
    if module is not None and hasattr(module, "exported_networks"):
        return export_style_networks(module.eval(), ckpt, output_dir, formats or ["torchscript"])
    formats = formats or FORMATS
    if module is not None:
        net, node = DirectionalTranslation(module, direction), None
    else:
        net, node = load_torch_generator(ckpt, direction, generator_overrides, weights)
    net = net.eval()
    multiple = size_multiple(net)
    metadata = {DIRECTION_KEY: direction, SIZE_MULTIPLE_KEY: str(multiple)}
    side = -(-example_size // multiple) * multiple
    channels = _input_channels(net)
    example = torch.rand(1, channels, side, side) * 2 - 1
    generator = translating_generator(net, example)
    if isinstance(net, DirectionalTranslation):  # our modules build their generators from it
        node = dict(net.module.hparams["generator"])
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = output_dir / f"{ckpt.stem}_{direction}{SUFFIXES[fmt]}"
        if fmt == "torchscript":
            export_torchscript(generator, example, path, metadata)
        elif fmt == "onnx":
            export_onnx(generator, example, path, metadata)
        else:
            export_safetensors(generator, node, path, metadata)
        written.append(path)
    return written


def export_style_networks(
    module: nn.Module, ckpt: Path, output_dir: Path, formats: Sequence[str]
) -> list[Path]:
    """A model whose translation takes a style (StarGAN v2) as TorchScript files, one per
    network of its ``exported_networks()`` (``<ckpt stem>_<network>.pt``), each with its
    inputs, its model's domains (the index of each) and its size multiple in the metadata.
    They serve every direction, so ``direction`` does not apply. TorchScript only: ONNX and
    safetensors hold one image-to-image generator, which such a model does not have."""
    if list(formats) != ["torchscript"]:
        raise ConfigError(
            f"{type(module).__name__} translates with a style code: it is exported as "
            f"TorchScript networks only (formats=[torchscript]), got formats={list(formats)}"
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (network, inputs, takes) in module.exported_networks().items():
        metadata = {
            STYLE_NETWORK_KEY: name,
            "inputs": takes,
            "domains": json.dumps(list(module.domains)),
            SIZE_MULTIPLE_KEY: str(size_multiple(network)),
        }
        path = output_dir / f"{ckpt.stem}_{name}{SUFFIXES['torchscript']}"
        export_torchscript(network.eval(), inputs, path, metadata)
        written.append(path)
    return written


def translating_generator(net: nn.Module, example: torch.Tensor) -> nn.Module:
    """The one network that a module's ``translate`` runs (CycleGAN's ``G_AB`` or ``G_BA``,
    CUT's and pix2pix's ``G``), found by watching which child runs on ``example``; ``net``
    itself when it is a plain generator. A LightningModule cannot be traced as a whole (tracing
    reads every attribute, and Lightning's raise outside a Trainer).

    pix2pix's paper-style test mode (batch statistics, dropout on) is not exported: the
    exported generator is in eval mode, as with ``model.paper_inference=false``.
    """
    if not isinstance(net, DirectionalTranslation):
        return net
    called: list[nn.Module] = []
    hooks = [
        child.register_forward_hook(lambda module, *_: called.append(module))
        for child in net.module.children()
    ]
    try:
        with torch.no_grad():
            net(example)
    finally:
        for hook in hooks:
            hook.remove()
    networks = list(dict.fromkeys(called))
    if len(networks) != 1:
        raise CheckpointError(
            f"{type(net.module).__name__} translates with {len(networks)} networks; export "
            "supports models that translate with one generator (CycleGAN, CUT, pix2pix)."
        )
    return networks[0]


def _input_channels(net: nn.Module) -> int:
    first_conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    return first_conv.in_channels


def export_torchscript(
    net: nn.Module,
    example: torch.Tensor | tuple[torch.Tensor, ...],
    path: Path,
    metadata: dict[str, str],
) -> None:
    """``net`` traced on ``example`` (its input, or a tuple of them), saved with ``metadata``
    as the extra file."""
    extra = {TORCHSCRIPT_METADATA: json.dumps(metadata)}
    # TorchScript is deprecated in favour of torch.export, whose files need Python to run;
    # TorchScript still runs from C++ (libtorch), which is why it is offered
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        traced = torch.jit.trace(net, example)
        atomic_write(path, lambda file: torch.jit.save(traced, file, _extra_files=extra))


def export_onnx(
    net: nn.Module, example: torch.Tensor, path: Path, metadata: dict[str, str]
) -> None:
    """``net`` as ONNX (opset 17) with free batch, height and width, ``metadata`` attached.

    Uses the TorchScript-based exporter (``dynamo=False``): the dynamo exporter of this torch
    version needs onnxscript and handles reflection padding with free sizes less reliably.
    """
    try:
        import onnx
    except ImportError as error:
        raise ConfigError(
            "exporting to ONNX needs the onnx package: pip install 'unpaired[export]'"
        ) from error
    axes = {0: "batch", 2: "height", 3: "width"}

    def write(file: Any) -> None:
        # the exporter warns about each shape it leaves free and each norm it maps: by design
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"torch\.onnx")
            torch.onnx.export(
                net,
                (example,),
                file,
                input_names=["images"],
                output_names=["translated"],
                dynamic_axes={"images": axes, "translated": axes},
                opset_version=ONNX_OPSET,
                dynamo=False,
            )

    atomic_write(path, write)
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, metadata)
    atomic_write(path, lambda file: file.write(model.SerializeToString()))


def export_safetensors(
    generator: nn.Module, node: dict[str, Any], path: Path, metadata: dict[str, str]
) -> None:
    """``generator``'s weights (keyed as in the generator itself), with its Hydra node
    (``_target_`` + arguments) and ``metadata`` in the header: no pickle, no code."""
    header = {GENERATOR_KEY: json.dumps(node), **metadata}
    weights = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    data = safetensors_bytes(weights, metadata=header)
    atomic_write(path, lambda file: file.write(data))
