"""``unpaired-bench train``: every mode in its own process, and a record a reader can trust."""

import json
from pathlib import Path

import pytest
import torch

from unpaired.bench.modes import ModeChoice, parse_mode, unique_modes
from unpaired.bench.train import TRAIN_MODES
from unpaired.cli.bench import main
from unpaired.errors import ConfigError

from .conftest import QUICK, TINY_MODEL


def test_every_mode_is_timed_and_recorded(tmp_path: Path, tiny_model, capsys) -> None:
    output = tmp_path / "train.json"
    modes = ["reference", "fast", "data"]
    arguments = [arg for mode in modes for arg in ("--mode", mode)]
    main(["train", *tiny_model, *QUICK, *arguments, "--json", str(output)])

    printed = capsys.readouterr().out
    assert "vs reference" in printed and "data wait" in printed
    record = json.loads(output.read_text())
    assert record["subject"] == "train" and record["overrides"] == tiny_model
    assert record["machine"]["versions"]["torch"] == torch.__version__
    assert record["machine"]["device"] == "cpu"
    assert record["config"]["model"]["_target_"] == "unpaired.models.CycleGAN"
    assert [mode["name"] for mode in record["modes"]] == ["reference", "fast", "data"]
    assert record["speedup"]["reference"] == 1.0
    for mode in record["modes"]:
        steps = mode["steps_per_second"]
        assert 0 < steps["low"] <= steps["median"] <= steps["high"]
        assert mode["images_per_second"]["median"] == steps["median"]  # batch size 1
        assert mode["peak_memory_bytes"] > 0 and mode["threads"] == 1
        assert 0 <= mode["data_wait_fraction"] < 1
        assert mode["flops_per_second"] == pytest.approx(mode["flops_per_step"] * steps["median"])
    # our step does exactly the authors' work: the same convolutions, forward and backward
    assert len({mode["flops_per_step"] for mode in record["modes"]}) == 1
    assert record["modes"][0]["flops_per_step"] > 0


def test_the_data_mode_without_the_data_says_how_to_do_without(tmp_path, caplog):
    missing = ["data=folder", f"data.root={tmp_path / 'nowhere'}", "data.num_workers=0"]
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *TINY_MODEL, *missing, *QUICK, "--mode", "data"])
    assert exit_info.value.code == 2
    assert "nowhere" in caplog.text and "leave out --mode data" in caplog.text


def test_modes_are_built_in_names_or_labelled_variants_of_fast() -> None:
    assert parse_mode("reference", TRAIN_MODES) == ModeChoice("reference", "reference")
    variant = parse_mode("bf16: trainer.precision=bf16-mixed model.channels_last=true", TRAIN_MODES)
    assert variant == ModeChoice(
        "bf16", "fast", ("trainer.precision=bf16-mixed", "model.channels_last=true")
    )
    for bad in ("fastest", "bf16:", ":trainer.precision=bf16-mixed", "fast:model.compile=true"):
        with pytest.raises(ConfigError, match="--mode"):
            parse_mode(bad, TRAIN_MODES)
    with pytest.raises(ConfigError, match="'x'"):
        unique_modes([ModeChoice("x", "fast", ("a=1",)), ModeChoice("x", "fast", ("a=2",))])
