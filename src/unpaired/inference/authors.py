"""The generators published by the CycleGAN/pix2pix (and CUT) authors, in our networks.

Their files (``latest_net_G_A.pth``, ``horse2zebra.pth``, ...) are plain state dicts of their
``ResnetGenerator`` or ``UnetGenerator``, whose module trees ours mirror module for module
(docs/papers.md, "Networks and parameter counts"), so the key mapping is the identity: no key
is renamed, and loading is strict. What the file does not say is the architecture; it is read
off the keys and shapes:

- ResNet: ``ngf``/``input_nc`` from the first 7x7 conv, ``output_nc`` from the last one,
  ``n_blocks`` from the ``conv_block`` keys, dropout from where a block's second conv sits
  (``conv_block.6`` instead of ``conv_block.5``), zero padding from a conv at ``conv_block.0``,
  the CUT authors' anti-aliasing from the blur filters (``filt`` buffers) before / after the
  blocks.
- U-Net: ``num_downs`` from the nesting depth, ``ngf``/``input_nc`` from the outermost conv,
  ``output_nc`` from the outermost transposed conv. Its dropout holds no weights, so it cannot be
  seen: it is off unless overridden (only the authors' test-time train mode would use it).
- Norm: batch norm has weights and running statistics; their instance norm has none, and the
  identical ``none`` layout is read as instance norm.

Two old-file quirks their own loader patches are patched the same way: running statistics of
instance norms (saved by PyTorch < 0.4) are dropped, and missing ``num_batches_tracked`` entries
of batch norms are taken from the fresh network. A ``module.`` prefix (a DataParallel save) is
removed. Their G_A maps A→B and G_B maps B→A: a file is one generator, one direction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from torch import Tensor, nn

from unpaired.errors import CheckpointError

_RESNET_TARGET = "unpaired.nn.ResnetGenerator"
_UNET_TARGET = "unpaired.nn.UnetGenerator"
_BLOCK_KEY = re.compile(r"model\.(\d+)\.conv_block\.(\d+)\.weight")
_FILTER_KEY = re.compile(r"model\.(\d+)\.filt")
_STAT_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")


def is_authors_state_dict(checkpoint: Mapping[str, Any]) -> bool:
    """Whether ``checkpoint`` looks like one of the authors' generator state dicts."""
    keys = list(strip_data_parallel(checkpoint))
    return bool(keys) and all(isinstance(key, str) and key.startswith("model.") for key in keys)


def strip_data_parallel(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """``state_dict`` without the ``module.`` prefix that a DataParallel save adds to every key."""
    if state_dict and all(str(key).startswith("module.") for key in state_dict):
        return {key[len("module.") :]: value for key, value in state_dict.items()}
    return dict(state_dict)


def infer_generator_node(state_dict: Mapping[str, Tensor], path: Path) -> dict[str, Any]:
    """The Hydra node (``_target_`` + arguments) of our generator with ``state_dict``'s layout."""
    if "model.1.weight" in state_dict and any(_BLOCK_KEY.fullmatch(k) for k in state_dict):
        return _resnet_node(state_dict)
    if "model.model.0.weight" in state_dict:
        return _unet_node(state_dict)
    raise CheckpointError(
        f"{path} is not a generator of the CycleGAN/pix2pix authors: expected the keys of their "
        f"ResnetGenerator or UnetGenerator (model.1.weight, model.model.0.weight, ...), found "
        f"{', '.join(list(state_dict)[:3])}. Pass one of their latest_net_G*.pth files."
    )


def _resnet_node(state_dict: Mapping[str, Tensor]) -> dict[str, Any]:
    first = state_dict["model.1.weight"]
    blocks: dict[int, set[int]] = {}  # block index -> positions of its convs (4-d weights)
    for key, value in state_dict.items():
        if (match := _BLOCK_KEY.fullmatch(key)) and value.ndim == 4:
            blocks.setdefault(int(match[1]), set()).add(int(match[2]))
    first_block, last_block = min(blocks), max(blocks)
    filters = [int(m[1]) for key in state_dict if (m := _FILTER_KEY.fullmatch(key))]
    last_conv = max(
        int(key.split(".")[1]) for key in state_dict if re.fullmatch(r"model\.\d+\.weight", key)
    )
    convs = blocks[first_block]
    zero_padding = 0 in convs  # no padding layer before the first conv
    return {
        "_target_": _RESNET_TARGET,
        "input_nc": int(first.shape[1]),
        "output_nc": int(state_dict[f"model.{last_conv}.weight"].shape[0]),
        "ngf": int(first.shape[0]),
        "n_blocks": len(blocks),
        "norm": "batch" if "model.2.weight" in state_dict else "instance",
        # [pad, conv, norm, relu, dropout, pad, conv]: dropout moves the second conv from 5 to 6
        # (zero padding, without the pad layers: from 3 to 4)
        "use_dropout": max(convs) == (4 if zero_padding else 6),
        "padding_type": "zero" if zero_padding else "reflect",
        "antialias": any(index < first_block for index in filters),
        "antialias_up": any(index > last_block for index in filters),
    }


def _unet_node(state_dict: Mapping[str, Tensor]) -> dict[str, Any]:
    outer_down = state_dict["model.model.0.weight"]
    depth = max(key.split(".").count("model") for key in state_dict) - 1
    return {
        "_target_": _UNET_TARGET,
        "input_nc": int(outer_down.shape[1]),
        "output_nc": int(state_dict["model.model.3.weight"].shape[1]),
        "num_downs": depth,
        "ngf": int(outer_down.shape[0]),
        "norm": "batch" if "model.model.1.model.2.weight" in state_dict else "instance",
        "use_dropout": False,
    }


def load_authors_generator(
    checkpoint: Mapping[str, Any], path: Path, overrides: Mapping[str, Any] | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Our generator holding the weights of the authors' state dict ``checkpoint`` (read from
    ``path``), in eval mode, and its Hydra node. ``overrides`` replace inferred arguments
    (``{"use_dropout": True}``, say)."""
    state_dict = strip_data_parallel(checkpoint)
    node = {**infer_generator_node(state_dict, path), **(overrides or {})}
    generator: nn.Module = instantiate(node)
    state_dict = _patch_norm_statistics(state_dict, generator)
    missing = sorted(generator.state_dict().keys() - state_dict.keys())
    unexpected = sorted(state_dict.keys() - generator.state_dict().keys())
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not fit the generator {node}: missing keys {missing[:3]}, unexpected "
            f"keys {unexpected[:3]}. Give the architecture explicitly (generator options)."
        )
    try:
        generator.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(
            f"{path} does not fit the generator {node}: {error}. Give the architecture "
            "explicitly (generator options)."
        ) from error
    return generator.eval(), node


def _patch_norm_statistics(
    state_dict: Mapping[str, Tensor], generator: nn.Module
) -> dict[str, Tensor]:
    """Drop running statistics our network has no place for (old instance norms) and add the
    ``num_batches_tracked`` counters that files older than PyTorch 0.4.1 lack."""
    expected = generator.state_dict()
    patched = {
        key: value
        for key, value in state_dict.items()
        if key in expected or not key.endswith(_STAT_SUFFIXES)
    }
    for key, value in expected.items():
        if key.endswith(".num_batches_tracked") and key not in patched:
            patched[key] = value
    return patched
