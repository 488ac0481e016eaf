import errno
import json
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from unpaired.errors import CheckpointError
from unpaired.models import CycleGAN
from unpaired.utils.checkpoint import (
    SafeCheckpointIO,
    check_compatible,
    load_checkpoint,
    save_generators,
    setting_differences,
)

MakeCycleGAN = Callable[..., CycleGAN]


def lightning_like(model: CycleGAN) -> dict[str, Any]:
    """The entries of a Lightning checkpoint that the compatibility check reads."""
    return {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}


def test_safe_io_round_trips_a_checkpoint(tmp_path: Path) -> None:
    io = SafeCheckpointIO()
    checkpoint = {"state_dict": {"w": torch.arange(3.0)}, "epoch": 2, "rng": (3, (1, 2), None)}
    io.save_checkpoint(checkpoint, tmp_path / "last.ckpt")
    loaded = io.load_checkpoint(tmp_path / "last.ckpt", weights_only=False)
    assert torch.equal(loaded["state_dict"]["w"], torch.arange(3.0))
    assert loaded["epoch"] == 2 and loaded["rng"] == (3, (1, 2), None)


def test_full_disk_during_a_save_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    io, path = SafeCheckpointIO(), tmp_path / "last.ckpt"
    io.save_checkpoint({"epoch": 1}, path)
    real_save = torch.save

    def save_until_the_disk_is_full(obj: Any, file: Any) -> None:
        real_save(obj, file)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", save_until_the_disk_is_full)
    with pytest.raises(CheckpointError, match=r"No space left on device.*intact"):
        io.save_checkpoint({"epoch": 2}, path)
    assert load_checkpoint(path)["epoch"] == 1


def test_a_checkpoint_carrying_code_is_refused_without_running_it(
    hostile_file: tuple[Path, Path],
) -> None:
    path, marker = hostile_file
    with pytest.raises(CheckpointError, match=r"refusing to load .*latest_net_G_A.pth.*system"):
        load_checkpoint(path)
    assert not marker.exists()


def test_the_refusal_names_what_the_file_holds(tmp_path: Path) -> None:
    # a class the weights-only loader does not allow: named, so the user knows what it holds
    named = tmp_path / "slice.ckpt"
    torch.save({"state_dict": {}, "s": slice(1, 2)}, named)
    with pytest.raises(CheckpointError, match=r"it holds a reference to slice, which"):
        load_checkpoint(named)
    # a pickle the weights-only loader cannot read at all (a set, protocol 4): no name to give
    unnamed = tmp_path / "set.ckpt"
    unnamed.write_bytes(pickle.dumps({1, 2}, protocol=4))
    with pytest.raises(CheckpointError, match=r"it holds objects other than tensors, which"):
        load_checkpoint(unnamed)


def test_safe_io_loads_onto_the_cpu_when_no_device_is_given(tmp_path: Path) -> None:
    io = SafeCheckpointIO()
    io.save_checkpoint({"w": torch.arange(3.0)}, tmp_path / "last.ckpt")
    assert io.load_checkpoint(tmp_path / "last.ckpt")["w"].device == torch.device("cpu")


def test_a_truncated_or_missing_checkpoint_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    torch.save({"w": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.ckpt")


def test_another_architecture_names_the_keys_and_the_settings_that_differ(
    make_cyclegan: MakeCycleGAN,
) -> None:
    checkpoint = lightning_like(
        make_cyclegan("model.generator.ngf=16", "model.generator.n_blocks=2")
    )
    with pytest.raises(CheckpointError) as failure:
        check_compatible(checkpoint, make_cyclegan(), Path("run/checkpoints/last.ckpt"))
    message = str(failure.value)
    assert "does not fit the configured model" in message
    assert "unexpected keys (G_AB.model.11." in message  # the second residual block
    assert "shape mismatches (G_AB.model.1.bias: checkpoint (16,), model (8,)" in message
    assert "model.generator.n_blocks=2 (config: 1)" in message
    assert "model.generator.ngf=16 (config: 8)" in message
    assert "overrides.yaml" in message


def test_a_long_list_of_keys_shows_the_first_three_and_counts_the_rest(tmp_path: Path) -> None:
    module = torch.nn.ModuleDict({name: torch.nn.Linear(1, 1, bias=False) for name in "abcde"})
    with pytest.raises(
        CheckpointError, match=r"5 missing keys \(a\.weight, b\.weight, c\.weight, \+2 more\)"
    ):
        check_compatible({"state_dict": {}}, module, tmp_path / "x.ckpt")
    with pytest.raises(
        CheckpointError, match=r"3 missing keys \(c\.weight, d\.weight, e\.weight\)\."
    ):
        check_compatible(
            {"state_dict": {"a.weight": torch.zeros(1, 1), "b.weight": torch.zeros(1, 1)}},
            module,
            tmp_path / "x.ckpt",
        )


def test_setting_differences_list_every_changed_added_and_removed_setting_in_order() -> None:
    saved = {"lambda_A": 10.0, "generator": {"ngf": 64, "layers": (0, 4)}, "old": 1}
    current = {"lambda_A": 5.0, "generator": {"ngf": 64, "layers": [0, 4]}, "new": 2}
    assert setting_differences(saved, current) == (
        "model.lambda_A=10.0 (config: 5.0), model.new=<absent> (config: 2), "
        "model.old=1 (config: <absent>)"
    )  # a tuple saved and a list configured are the same setting
    assert setting_differences(saved, saved) == ""


def test_a_checkpoint_without_settings_or_weights_is_judged_by_its_weights(
    tmp_path: Path, caplog: Any
) -> None:
    module = torch.nn.Linear(2, 2)  # no hparams either
    with caplog.at_level(logging.WARNING):
        check_compatible({"state_dict": module.state_dict()}, module, tmp_path / "x.ckpt")
    assert caplog.records == []
    with pytest.raises(
        CheckpointError,
        match=r"2 missing keys \(bias, weight\)\. No model setting differs, so it may come from",
    ):
        check_compatible({}, module, tmp_path / "x.ckpt")


def test_other_loss_settings_only_warn(make_cyclegan: MakeCycleGAN, caplog: Any) -> None:
    checkpoint = lightning_like(make_cyclegan("model.lambda_A=5.0"))
    with caplog.at_level(logging.WARNING):
        check_compatible(checkpoint, make_cyclegan(), Path("last.ckpt"))
    assert "model.lambda_A=5.0 (config: 10.0)" in caplog.text


def test_generators_exported_as_safetensors(make_cyclegan: MakeCycleGAN, tmp_path: Path) -> None:
    model = make_cyclegan()
    path = tmp_path / "last.generators.safetensors"
    save_generators(model, path, epoch="3")
    tensors = load_file(path)
    expected = {
        f"{name}.{key}": value
        for name in ("G_AB", "G_BA")
        for key, value in getattr(model, name).state_dict().items()
    }
    assert tensors.keys() == expected.keys()
    assert all(torch.equal(tensors[key], expected[key]) for key in expected)
    with safe_open(path, "pt") as file:
        metadata = file.metadata()
    assert metadata["epoch"] == "3"
    assert json.loads(metadata["hyper_parameters"])["generator"]["ngf"] == 8
