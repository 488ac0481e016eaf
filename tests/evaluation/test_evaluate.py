"""The evaluation of a one-directional model, and without the Inception metrics."""

from collections.abc import Callable
from pathlib import Path

from unpaired.data.datamodule import SyntheticDataModule
from unpaired.evaluation.evaluate import Evaluation, MetricOptions
from unpaired.models import CycleGAN


def test_a_one_directional_model_is_judged_a_to_b_without_reconstructions(
    make_cyclegan: Callable[..., CycleGAN],
    tiny_data: Callable[[], SyntheticDataModule],
    tmp_path: Path,
) -> None:
    module = make_cyclegan().eval()
    module.directions = ("AtoB",)  # as CUT and pix2pix declare
    options = MetricOptions(fid=False, kid=False)
    results = Evaluation(module, tiny_data(), tmp_path, options).run()

    assert set(results) == {"AtoB", "protocol"}
    assert "fid" not in results["AtoB"] and "inception_weights" not in results["protocol"]
    assert set(results["AtoB"]["ground_truth"]) == {"L1", "PSNR", "SSIM"}
    folders = sorted(p.name for p in (tmp_path / "images").iterdir())
    assert folders == ["fake_B", "real_A", "real_B"]
    page = (tmp_path / "index.html").read_text()
    assert "reconstruction" not in page and page.count("<tr>") == 2  # the 2 test images of A
