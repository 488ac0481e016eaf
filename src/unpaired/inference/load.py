"""One call from any trained-model file to a function that translates images.

    translator = load_translator("run/checkpoints/last.ckpt", direction="AtoB", device="cuda")
    fake_B = translator(real_A)       # N x C x H x W in [-1, 1], any H and W; same size back

:func:`load_translator` accepts, told apart by content and suffix:

- a Lightning checkpoint (``.ckpt``) of one of our modules: read weights-only, the module class
  named by its ``model_target`` entry rebuilt from its ``hyper_parameters``, ``translate`` used;
- our safetensors files: ``*.generators.safetensors`` (:func:`unpaired.utils.checkpoint.
  save_generators`: every generator of a module, both directions) or a single exported
  generator (``unpaired-export``, header ``generator``: its Hydra node, ``direction``);
- a TorchScript file exported by ``unpaired-export`` (``.pt``);
- an ONNX file exported by ``unpaired-export`` (``.onnx``; needs ``onnxruntime``);
- the CycleGAN/pix2pix authors' generator state dicts (``latest_net_G_A.pth``), architecture
  inferred from the keys (:mod:`unpaired.inference.authors`); ``generator_overrides`` replace
  inferred arguments. Such a file is one generator: ``direction`` does not apply to it.

Anything else, or a file that does not fit, raises one :class:`~unpaired.errors.CheckpointError`
naming the file and the fix. Pickled code is never executed. A model trained with averaged
weights (``model.ema``) translates with them unless ``weights="raw"`` asks for the trained ones.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from safetensors import SafetensorError, safe_open
from torch import Tensor, nn

from unpaired.data.padding import crop_padding, pad_to_multiple
from unpaired.errors import CheckpointError, ConfigError
from unpaired.inference.authors import is_authors_state_dict, load_authors_generator
from unpaired.models.base import GenerativeModule
from unpaired.utils.checkpoint import MODEL_TARGET_KEY, generator_state_dict, load_checkpoint
from unpaired.utils.compile import compile_options

#: Entries of an exported generator's metadata (safetensors header, TorchScript extra file,
#: ONNX metadata): its Hydra node, its direction, and the side multiple it needs.
GENERATOR_KEY, DIRECTION_KEY, SIZE_MULTIPLE_KEY = "generator", "direction", "size_multiple"
#: The metadata key of a network of a model that translates with a style (StarGAN v2's export).
STYLE_NETWORK_KEY = "style_network"
TORCHSCRIPT_METADATA = "unpaired.json"


#: ``precision`` values of a translator: fp32, or bf16 autocast.
PRECISIONS = ("32", "bf16")


@dataclass
class Translator:
    """Maps a batch of images in [-1, 1] (``N x C x H x W``, any ``H``, ``W``) to its
    translation of the same size, in float32: pads to a multiple of ``size_multiple`` by
    reflection, runs ``net`` without gradients on ``device`` (under bf16 autocast with
    ``precision="bf16"``), crops back (:mod:`unpaired.data.padding`).

    ``net`` takes padded images; ``module`` is the PyTorch module behind it (None for the
    exported formats), which ``unpaired-export`` traces.
    """

    net: Callable[[Tensor], Tensor]
    size_multiple: int
    device: torch.device
    module: nn.Module | None = None
    precision: str = "32"

    def __call__(self, images: Tensor) -> Tensor:
        autocast = (
            torch.autocast(self.device.type, dtype=torch.bfloat16)
            if self.precision == "bf16"
            else nullcontext()
        )
        with torch.inference_mode(), autocast:
            padded, padding = pad_to_multiple(
                images.to(self.device, non_blocking=True), self.size_multiple
            )
            return crop_padding(self.net(padded), padding).float()


def module_translator(
    module: nn.Module,
    device: torch.device,
    channels_last: bool = False,
    precision: str | int = "32",
    compile: bool | Mapping[str, Any] = False,
) -> Translator:
    """A :class:`Translator` running the PyTorch ``module`` (padded images to translations) on
    ``device`` with the speed options (conf/inference/default.yaml): ``channels_last`` puts its
    weights, and so the convolutions' outputs, in the NHWC layout (float rounding aside, the
    same results); ``precision`` ``"bf16"`` runs under bf16 autocast (slightly different
    results); ``compile`` wraps it in ``torch.compile`` (``True``, or ``torch.compile``
    arguments). ``module`` itself is put in eval mode and moved, and stays uncompiled (for
    export)."""
    precision = str(precision)
    if precision not in PRECISIONS:
        raise ConfigError(
            f"inference.precision={precision} is not one of {', '.join(PRECISIONS)}: use 32 "
            "(float32) or bf16 (bf16 autocast)."
        )
    module = module.to(device).eval().requires_grad_(False)
    if channels_last:
        module.to(memory_format=torch.channels_last)
    options = compile_options(compile, "inference.compile")
    net = module if options is None else torch.compile(module, **options)
    return Translator(net, size_multiple(module), device, module, precision)


class DirectionalTranslation(nn.Module):
    """A module's ``translate(images, direction)`` as a plain module, for tracing and export;
    ``direction`` must be a translation the module makes (``AtoB``, ``cat_to_dog``, ...)."""

    def __init__(self, module: GenerativeModule, direction: str) -> None:
        super().__init__()
        self.module = module
        self.direction = module.translation(direction)  # checked now, not at the first image
        self.size_multiple = size_multiple(module)

    def forward(self, images: Tensor) -> Tensor:
        return self.module.translate(images, self.direction)


def size_multiple(module: nn.Module) -> int:
    """The least common multiple of the ``size_multiple`` its generators declare (1 if none):
    of its ``translation_networks`` where it names them (a method whose other networks, such as
    Recycle-GAN's predictors, do not translate), else of all its modules."""
    names = getattr(module, "translation_networks", None)
    parts = [getattr(module, name) for name in names] if names else [module]
    return math.lcm(*(int(getattr(m, "size_multiple", 1)) for p in parts for m in p.modules()))


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"``: the GPU when there is one, else the CPU; anything else as torch reads it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise ConfigError(
            f"device={device}: {error}. Use auto, cpu, cuda or cuda:<index>"
        ) from error


def load_translator(
    path: str | Path,
    direction: str = "AtoB",
    device: str | torch.device = "cpu",
    generator_overrides: Mapping[str, Any] | None = None,
    channels_last: bool = False,
    precision: str | int = "32",
    compile: bool | Mapping[str, Any] = False,
    weights: str = "ema",
) -> Translator:
    """The translator in ``direction`` (``AtoB``, ``BtoA``, ``cat_to_dog``: a translation the
    model makes) stored in ``path``, on ``device``
    (``"auto"``: the GPU if there is one). ``generator_overrides``: generator arguments that
    replace those inferred from the authors' files (ignored for our own files, which say
    theirs). ``weights``: ``ema``, the averaged weights of a model trained with them (else its
    weights), or ``raw``, the trained ones. ``channels_last``, ``precision``, ``compile``: the
    speed options of
    :func:`module_translator`; the defaults compute exactly what the module does. TorchScript
    and ONNX files run as they were exported: only the defaults apply to them (channels-last is
    a layout and is ignored). See the module docstring for the formats.

    Raises:
        CheckpointError: missing file, unknown or unsafe format, or weights that do not fit.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"model file {path} not found: pass ckpt=<existing file>")
    device = resolve_device(device)
    exported = path.suffix == ".onnx" or (path.suffix != ".safetensors" and _is_torchscript(path))
    if exported and (str(precision) != "32" or compile_options(compile, "compile") is not None):
        raise ConfigError(
            f"{path} is an exported model, which runs as it was exported: inference.precision "
            "and inference.compile apply to checkpoints (.ckpt, .safetensors, .pth) only. "
            "Leave them at 32 and false, or translate with the run's checkpoint."
        )
    if path.suffix == ".onnx":
        return _onnx_translator(path, direction, device)
    if exported:
        return _torchscript_translator(path, direction, device)
    if path.suffix == ".safetensors":
        module = load_safetensors(path, direction, weights)
    else:
        module = load_torch_generator(path, direction, generator_overrides, weights)[0]
    return module_translator(module, device, channels_last, precision, compile)


def load_torch_generator(
    path: Path,
    direction: str,
    generator_overrides: Mapping[str, Any] | None = None,
    weights: str = "ema",
) -> tuple[nn.Module, dict[str, Any] | None]:
    """From a Lightning checkpoint or an authors' state dict: the module translating in
    ``direction`` (with ``weights``, see :func:`load_translator`), and its generator's Hydra
    node when it is a single generator (authors')."""
    checkpoint = load_checkpoint(path)
    if isinstance(checkpoint, Mapping) and "state_dict" in checkpoint:
        return DirectionalTranslation(trained_module(checkpoint, path, weights), direction), None
    if isinstance(checkpoint, Mapping) and is_authors_state_dict(checkpoint):
        return load_authors_generator(checkpoint, path, generator_overrides)
    raise CheckpointError(
        f"{path} is neither a Lightning checkpoint of ours (no 'state_dict') nor a generator "
        "state dict of the CycleGAN/pix2pix authors. Pass a run's checkpoints/*.ckpt, a "
        "safetensors, TorchScript or ONNX file from unpaired-export, or a latest_net_G*.pth."
    )


def load_trained_module(path: Path, weights: str = "ema") -> GenerativeModule | None:
    """The module of a Lightning checkpoint of ours with ``weights``; None for other files."""
    checkpoint = load_checkpoint(path)
    if isinstance(checkpoint, Mapping) and "state_dict" in checkpoint:
        return trained_module(checkpoint, path, weights)
    return None


def trained_module(
    checkpoint: Mapping[str, Any], path: Path, weights: str = "ema"
) -> GenerativeModule:
    """The module of a Lightning checkpoint of ours with its ``weights`` (``ema`` or ``raw``)."""
    module = build_module(checkpoint, path)
    _load_weights(module, checkpoint["state_dict"], path, strict=True)
    module.select_weights(weights)
    return module


def build_module(checkpoint: Mapping[str, Any], path: Path) -> GenerativeModule:
    """A fresh module of the class and hyperparameters recorded in ``checkpoint``."""
    target = checkpoint.get(MODEL_TARGET_KEY)
    if target is None:
        raise CheckpointError(
            f"{path} does not name its model class ('{MODEL_TARGET_KEY}'): it was written by an "
            "older version of unpaired. Resume its training for one step with this version "
            "(unpaired-train ckpt_path=...) to get a checkpoint that does."
        )
    try:
        cls = get_class(target)
    except Exception as error:  # Hydra wraps the import error in several types
        raise CheckpointError(
            f"{path} was written by model class {target}, which cannot be imported here: "
            "install the version of unpaired that trained it."
        ) from error
    if not (isinstance(cls, type) and issubclass(cls, GenerativeModule)):
        raise CheckpointError(f"{path} names {target}, which is not one of our models")
    arguments = dict(checkpoint.get("hyper_parameters", {}))
    for name in cls.pretrained_weight_files:  # the checkpoint's state dict holds those weights
        if name in arguments:
            arguments[name] = "random"
    return cls(**arguments)


def _load_weights(
    module: nn.Module, weights: Mapping[str, Tensor], path: Path, strict: bool
) -> None:
    try:
        module.load_state_dict(weights, strict=strict)
    except RuntimeError as error:
        raise CheckpointError(
            f"the weights in {path} do not fit the model they name ({error}); the file was "
            "probably edited or written by another version of unpaired."
        ) from error


def load_safetensors(path: Path, direction: str, weights: str = "ema") -> nn.Module:
    """The translating module of one of our safetensors files (module docstring)."""
    try:
        with safe_open(path, framework="pt") as file:
            header = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors file: {error}") from error
    if GENERATOR_KEY in header:
        _check_direction(path, header.get(DIRECTION_KEY), direction)
        generator: nn.Module = instantiate(json.loads(header[GENERATOR_KEY]))
        _load_weights(generator, tensors, path, strict=True)
        return generator
    if "hyper_parameters" not in header:
        raise CheckpointError(
            f"{path} has no architecture in its header: only safetensors files written by "
            "unpaired (unpaired-export, save_generators) can be loaded."
        )
    checkpoint = {**header, "hyper_parameters": json.loads(header["hyper_parameters"])}
    module = build_module(checkpoint, path)
    expected = generator_state_dict(module).keys()
    if tensors.keys() != expected:
        raise CheckpointError(
            f"the generator weights in {path} do not fit {header.get(MODEL_TARGET_KEY)}: "
            f"{len(expected - tensors.keys())} missing, {len(tensors.keys() - expected)} "
            "unexpected. The file was probably edited or written by another version."
        )
    _load_weights(module, tensors, path, strict=False)
    module.select_weights(weights)
    return DirectionalTranslation(module, direction)


def _check_direction(path: Path, exported: str | None, requested: str) -> None:
    if exported is not None and exported != requested:
        raise CheckpointError(
            f"{path} translates {exported} only, not {requested}: export the {requested} "
            f"generator (unpaired-export direction={requested}) or pass direction={exported}."
        )


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives are zip files with a ``code/`` folder (torch.save files have none)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


def _torchscript_translator(path: Path, direction: str, device: torch.device) -> Translator:
    extra = {TORCHSCRIPT_METADATA: ""}
    try:
        net = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except RuntimeError as error:
        raise CheckpointError(f"{path} is not a readable TorchScript file: {error}") from error
    metadata = json.loads(extra[TORCHSCRIPT_METADATA] or "{}")
    if STYLE_NETWORK_KEY in metadata:
        raise CheckpointError(
            f"{path} is the {metadata[STYLE_NETWORK_KEY]} of a model that translates with a "
            f"style code, not a generator of images alone: it takes {metadata['inputs']}. "
            "Load it with torch.jit.load, or translate from the run's .ckpt."
        )
    _check_direction(path, metadata.get(DIRECTION_KEY), direction)
    return Translator(net.eval(), int(metadata.get(SIZE_MULTIPLE_KEY, 1)), device)


def _onnx_translator(path: Path, direction: str, device: torch.device) -> Translator:
    try:
        import onnxruntime
    except ImportError as error:
        raise CheckpointError(
            f"{path} is an ONNX model, and running one needs onnxruntime: pip install "
            "'unpaired[export]' (or onnxruntime / onnxruntime-gpu)."
        ) from error
    providers = ["CPUExecutionProvider"]
    if device.type == "cuda":
        providers.insert(0, "CUDAExecutionProvider")
    try:
        session = onnxruntime.InferenceSession(str(path), providers=providers)
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise CheckpointError(f"{path} is not a readable ONNX model: {error}") from error
    metadata = session.get_modelmeta().custom_metadata_map
    _check_direction(path, metadata.get(DIRECTION_KEY), direction)
    input_name = session.get_inputs()[0].name

    def run(images: Tensor) -> Tensor:
        (output,) = session.run(None, {input_name: images.float().cpu().numpy()})
        return torch.from_numpy(output).to(images.device)

    return Translator(run, int(metadata.get(SIZE_MULTIPLE_KEY, 1)), device)
