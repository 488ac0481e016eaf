"""``unpaired-bench infer``: the authors' test loop and our translator, side by side."""

import json
from pathlib import Path

import pytest

from unpaired.cli.bench import main

from .conftest import QUICK


def test_every_mode_is_timed_and_recorded(tmp_path: Path, tiny_model, capsys) -> None:
    output = tmp_path / "infer.json"
    modes = ["--mode", "reference", "--mode", "fast", "--mode", "bf16:inference.precision=bf16"]
    size = ["--size", "36", "--batch", "3"]
    main(["infer", *tiny_model, *size, *QUICK, *modes, "--json", str(output)])

    assert "vs reference" in capsys.readouterr().out
    record = json.loads(output.read_text())
    assert record["subject"] == "infer" and record["settings"]["size"] == 36
    assert record["settings"]["batch"] == 3
    assert record["config"]["inference"]["channels_last"] is True
    assert [mode["name"] for mode in record["modes"]] == ["reference", "fast", "bf16"]
    assert record["modes"][2]["base"] == "fast"
    assert record["modes"][2]["overrides"] == ["inference.precision=bf16"]
    for mode in record["modes"]:
        steps, images = mode["steps_per_second"], mode["images_per_second"]
        assert 0 < steps["low"] <= steps["median"] <= steps["high"]
        assert images["median"] == pytest.approx(3 * steps["median"])
        assert mode["peak_memory_bytes"] > 0
    # one batch of three 36x36 images, whichever way it is run
    assert len({mode["flops_per_step"] for mode in record["modes"]}) == 1
    assert record["speedup"]["fast"] == pytest.approx(
        record["modes"][1]["images_per_second"]["median"]
        / record["modes"][0]["images_per_second"]["median"]
    )


def test_a_size_the_generator_cannot_take_whole_is_refused(tiny_model, caplog) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["infer", *tiny_model, "--size", "30", *QUICK, "--mode", "reference"])
    assert exit_info.value.code == 2
    assert "--size 30" in caplog.text and "--size 32" in caplog.text
