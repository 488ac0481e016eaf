"""Fixtures shared by the whole suite: composing the Hydra config, running the entry points,
tiny in-process CycleGAN fits, and small data-set archives served by a local HTTP server."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import threading
import types
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback, Checkpoint
from omegaconf import DictConfig
from PIL import Image

from unpaired.cli.common import null_group_overrides
from unpaired.config import config_dir, register_resolvers
from unpaired.data import synthetic
from unpaired.data.datamodule import SyntheticDataModule
from unpaired.models import CycleGAN
from unpaired.models.base import GenerativeModule
from unpaired.nn.face_landmarks import FAN
from unpaired.utils.checkpoint import MODEL_TARGET_KEY, SafeCheckpointIO

SRC_DIR = Path(__file__).resolve().parents[1] / "src"


class RunsAShellCommand:
    """An object whose unpickling would run a shell command: what a hostile file carries."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def hostile_file(tmp_path: Path) -> tuple[Path, Path]:
    """(a file carrying code, the marker file its code would create). It has a checkpoint's
    ``state_dict`` and an authors' generator key beside the code, and an authors' file name."""
    marker = tmp_path / "pwned"
    path = tmp_path / "latest_net_G_A.pth"
    payload = {"model.1.weight": torch.zeros(1), "state_dict": {}, "x": RunsAShellCommand(marker)}
    torch.save(payload, path)
    return path, marker


@pytest.fixture
def compose_train() -> Callable[..., DictConfig]:
    """Compose conf/train.yaml with overrides, as the CLI would (without running anything)."""
    register_resolvers()

    def _compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
        overrides = null_group_overrides(overrides, config_dir())
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose(config_name, overrides=overrides, return_hydra_config=True)

    return _compose


@pytest.fixture
def tiny_overrides(tmp_path: Path) -> list[str]:
    """A CycleGAN run small enough for a test: 32x32 synthetic images, 8 per domain, tiny nets,
    one epoch, CSV logging, everything inside ``tmp_path``."""
    root = tmp_path
    return [
        f"paths.data_dir={root / 'data'}",
        f"paths.experiments_dir={root / 'experiments'}",
        "data.image_size=32",
        "data.load_size=32",
        "data.crop_size=32",
        "data.n_train=8",
        "data.n_test=4",
        "data.num_workers=0",
        "model.generator.ngf=8",
        "model.generator.n_blocks=1",
        "model.discriminator.ndf=8",
        "model.discriminator.n_layers=2",
        "model.scheduler.n_epochs=1",
        "model.scheduler.n_epochs_decay=0",
        "logger=csv",
        "trainer.accelerator=cpu",
        "trainer.log_every_n_steps=1",
    ]


@pytest.fixture
def save_checkpoint() -> Callable[[GenerativeModule, Path], Path]:
    """Save a module as a training checkpoint with Lightning's keys, at ``path``."""

    def save(module: GenerativeModule, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                MODEL_TARGET_KEY: module.target(),
                "hyper_parameters": dict(module.hparams),
                "state_dict": module.state_dict(),
                "epoch": 0,
                "global_step": 0,
            },
            path,
        )
        return path

    return save


#: Test images per domain of ``evaluation_overrides``' synthetic set.
EVALUATION_N_TEST = 3


@pytest.fixture
def evaluation_overrides(tmp_path: Path) -> list[str]:
    """``unpaired-evaluate`` on a tiny synthetic set (32x32, 3 test images per domain) built in
    ``tmp_path/data``, with runs under ``tmp_path/experiments``."""
    return [
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.experiments_dir={tmp_path / 'experiments'}",
        "data.image_size=32",
        "data.load_size=32",
        "data.crop_size=32",
        "data.n_train=1",
        f"data.n_test={EVALUATION_N_TEST}",
        "data.num_workers=0",
    ]


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m unpaired.cli.<tool> args...`` in a fresh process, as a user would."""

    def _run(
        tool: str, args: Sequence[str], cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(SRC_DIR), "WANDB_SILENT": "true"}
        return subprocess.run(
            [sys.executable, "-m", f"unpaired.cli.{tool}", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return _run


# --- data-set archives and a local HTTP server (downloads) ---

SPLITS = ("trainA", "trainB", "testA", "testB")


def png_bytes(seed: int, size: int = 8) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def dataset_members(top: str, per_split: int = 2) -> dict[str, bytes]:
    """``top/<split>/<i>.png`` for the four unaligned splits, like the authors' zips."""
    return {
        f"{top}/{split}/{index}.png": png_bytes(seed=100 * number + index)
        for number, split in enumerate(SPLITS)
        for index in range(per_split)
    }


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A tar.gz of ``members`` plus symbolic links ``name -> target``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


@dataclass
class ArchiveServer:
    """A local HTTP server of in-memory files, with HTTP Range support.

    ``files``: path -> bytes. ``cut_after``: path -> number of bytes after which the next
    response for that path is cut off (once), as a dropped connection would. ``ranges``: the
    Range header of every request (None without one). ``sent``: the bytes of body sent in
    answer to every request. ``honour_ranges``: False makes it answer every request with the
    whole file, like servers without Range support. ``content_range``: False leaves the
    Content-Range header out of 206 and 416 answers, as some servers and proxies do.
    """

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    honour_ranges: bool = True
    content_range: bool = True


def _handler(server: ArchiveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = server.files.get(self.path)
            requested = self.headers.get("Range")
            server.ranges.append(requested)
            server.sent.append(0)
            if data is None:
                self.send_error(404)
                return
            start = 0
            if requested and server.honour_ranges:
                start = int(requested.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    if server.content_range:
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                if server.content_range:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = server.cut_after.pop(self.path, None)
            body = body if cut is None else body[:cut]
            self.wfile.write(body)
            server.sent[-1] = len(body)
            if cut is not None:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

    return Handler


@pytest.fixture
def archive_server() -> Iterator[ArchiveServer]:
    """An :class:`ArchiveServer` on 127.0.0.1 at a free port, for the length of a test."""
    state = ArchiveServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def archives() -> types.SimpleNamespace:
    """The archive builders of this file: ``zip``, ``tar_gz``, ``dataset`` (members), ``png``."""
    return types.SimpleNamespace(
        zip=zip_bytes, tar_gz=tar_gz_bytes, dataset=dataset_members, png=png_bytes
    )


# --- tiny in-process CycleGAN fits (checkpointing, resume, faults) ---

#: Images per domain in the tiny synthetic set: an epoch is 4 batches of one image.
N_TRAIN = 4
TINY_SPEC = synthetic.SyntheticSpec(image_size=32, n_train=N_TRAIN, n_test=2, seed=0)


@pytest.fixture
def make_cyclegan() -> Callable[..., CycleGAN]:
    """Factory: the configured CycleGAN with tiny networks; ``make(*overrides)`` adds overrides
    of the model config such as ``"model.generator.ngf=16"``."""

    def make(*overrides: str) -> CycleGAN:
        tiny = ["model.generator.ngf=8", "model.generator.n_blocks=1", "model.discriminator.ndf=8"]
        with initialize_config_dir(str(config_dir()), version_base="1.3"):
            cfg = compose("train", overrides=[*tiny, *overrides])
        return instantiate(cfg.model, _recursive_=False, _convert_="all")

    return make


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    synthetic.ensure(root, TINY_SPEC)
    return root


@pytest.fixture
def tiny_data(synthetic_root: Path) -> Callable[[], SyntheticDataModule]:
    """Factory of data modules over the tiny synthetic set (32x32, 4 training pairs)."""

    def make() -> SyntheticDataModule:
        return SyntheticDataModule(
            root=str(synthetic_root),
            image_size=TINY_SPEC.image_size,
            n_train=TINY_SPEC.n_train,
            n_test=TINY_SPEC.n_test,
            load_size=32,
            crop_size=32,
            val_batch_size=2,
            num_workers=0,
        )

    return make


@pytest.fixture
def fit(
    tmp_path: Path, tiny_data: Callable[[], SyntheticDataModule]
) -> Iterator[Callable[..., L.Trainer]]:
    """Factory: ``fit(model, callbacks, max_epochs=2, ckpt_path=None)`` trains ``model`` on the
    tiny set on the CPU, with our checkpoint I/O, and returns the trainer. Runs on one thread:
    for networks this small, more threads cost more than they bring (several times the time on
    a busy machine)."""

    def run(
        model: CycleGAN,
        callbacks: Sequence[Callback] = (),
        max_epochs: int = 2,
        ckpt_path: Path | None = None,
    ) -> L.Trainer:
        trainer = L.Trainer(
            accelerator="cpu",
            max_epochs=max_epochs,
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            enable_checkpointing=any(isinstance(c, Checkpoint) for c in callbacks),
            callbacks=list(callbacks),
            plugins=[SafeCheckpointIO()],
            default_root_dir=tmp_path,
        )
        trainer.fit(model, datamodule=tiny_data(), ckpt_path=ckpt_path)
        return trainer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield run
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_checkpoint(
    tmp_path: Path, make_cyclegan: Callable[..., CycleGAN], fit: Callable[..., L.Trainer]
) -> Path:
    """A Lightning checkpoint of a tiny CycleGAN after one epoch on the tiny set, written by
    Lightning itself (so with every ``on_save_checkpoint`` entry), as a run's would be."""
    trainer = fit(make_cyclegan("model.scheduler.n_epochs=1"), max_epochs=1)
    path = tmp_path / "tiny.ckpt"
    trainer.save_checkpoint(path)
    return path


# --- a randomly initialised FID Inception network (the real architecture, not its weights) ---


@pytest.fixture(scope="session")
def random_inception_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state dict of torch-fidelity's FID Inception network with random weights, saved under
    the real file's name: the evaluation runs as with the real weights, only the numbers differ."""
    from unittest import mock

    from torch_fidelity import feature_extractor_inceptionv3 as inception

    torch.manual_seed(0)
    with (
        mock.patch.object(inception, "load_state_dict_from_url", return_value={}),
        mock.patch.object(inception.FeatureExtractorInceptionV3, "load_state_dict"),
    ):
        network = inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    for module in network.modules():  # variance-keeping weights: features that tell images apart
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    path = tmp_path_factory.mktemp("inception") / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(network.state_dict(), path)
    return path


@pytest.fixture(scope="session")
def random_lpips_weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(AlexNet, LPIPS linear) weight files with random weights, under the real files' names and
    keys (``lpips_weights.<i>.main.1.weight``, as in the StarGAN v2 authors' file)."""
    from torchvision.models import alexnet

    from unpaired.metrics.lpips import ALEXNET_FILE, LPIPS_FILE

    folder = tmp_path_factory.mktemp("lpips")
    torch.manual_seed(0)
    network = alexnet()
    torch.save(network.state_dict(), folder / ALEXNET_FILE)
    channels = [m.out_channels for m in network.features if isinstance(m, torch.nn.Conv2d)]
    linear = {
        f"lpips_weights.{i}.main.1.weight": torch.rand(1, count, 1, 1)
        for i, count in enumerate(channels)
    }
    torch.save(linear, folder / LPIPS_FILE)
    return folder / ALEXNET_FILE, folder / LPIPS_FILE


@pytest.fixture
def wing_file(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    """A file of the layout of StarGAN v2's face-landmark weights ``wing.ckpt`` (``{"state_dict":
    ...}``, with entries of the later stages that their network drops), with random weights
    (batch-norm variances positive), and the network's weights."""
    generator = torch.Generator().manual_seed(7)
    state = {
        key: torch.rand(value.shape, generator=generator) + 0.5
        if value.is_floating_point()
        else value
        for key, value in FAN("random").state_dict().items()
    }
    later_stages = {"m1.coordconv.conv.weight": torch.zeros(1), "l1.weight": torch.zeros(1)}
    path = tmp_path / "wing.ckpt"
    torch.save({"state_dict": {**state, **later_stages}}, path)
    return path, state
