import math

import pytest
import torch

from unpaired.domains import Translation, pairs
from unpaired.metrics.ground_truth import (
    ground_truth_errors,
    per_clip_temporal_error,
    per_image_errors,
)


def test_l1_and_psnr_in_unit_intensity_per_image():
    target = torch.full((2, 3, 4, 4), -1.0)  # black in [-1, 1]
    prediction = target.clone()
    prediction[0] += 0.2  # 0.1 in [0, 1] intensity everywhere
    errors = per_image_errors(prediction, target)
    assert errors["L1"].tolist() == pytest.approx([0.1, 0.0])
    assert errors["PSNR"][0].item() == pytest.approx(10 * math.log10(1 / 0.01), rel=1e-5)
    assert errors["PSNR"][1].item() == pytest.approx(100.0)  # a perfect image is capped


def test_only_directions_with_a_truth_and_a_translation_are_measured():
    images = torch.zeros(1, 3, 2, 2)
    batch = {"A": images, "B": images, "target_B": images}
    outputs = {"fake_B": images + 0.5, "fake_A": images}
    two_way = pairs(("A", "B"))
    errors = ground_truth_errors(batch, outputs, two_way)
    assert set(errors) == {"L1_AB", "PSNR_AB"}
    assert errors["L1_AB"].item() == pytest.approx(0.25)
    assert ground_truth_errors({"A": images}, outputs, two_way) == {}
    # named domains: the truth of cat -> dog is target_dog, the translation fake_dog
    named = {"cat": images, "target_dog": images}
    errors = ground_truth_errors(named, {"fake_dog": images + 1}, [Translation("cat", "dog")])
    assert set(errors) == {"L1_cat_to_dog", "PSNR_cat_to_dog"}
    assert errors["L1_cat_to_dog"].item() == pytest.approx(0.5)


def test_temporal_error_measures_how_the_change_between_frames_differs_from_the_truths():
    truth = torch.zeros(2, 3, 3, 2, 2)
    truth[:, 1] = 0.4  # the true clip brightens at frame 1 and stays
    truth[:, 2] = 0.4
    constant_error = truth + 0.6  # wrong everywhere, but changes as the truth does
    flicker = truth.clone()
    flicker[:, 1] += 0.2  # one frame off by 0.1 in [0, 1]: two changes wrong by 0.1 each
    no_flicker = per_clip_temporal_error(constant_error, truth).tolist()
    assert no_flicker == pytest.approx([0, 0], abs=1e-7)
    assert per_clip_temporal_error(flicker, truth).tolist() == pytest.approx([0.1, 0.1])
    batch = {"A": truth, "target_B": truth}
    errors = ground_truth_errors(batch, {"fake_B": flicker}, [Translation("A", "B")])
    assert set(errors) == {"L1_AB", "PSNR_AB", "TL1_AB"}
    assert errors["TL1_AB"].tolist() == pytest.approx([0.1, 0.1])
    assert errors["L1_AB"].tolist() == pytest.approx([0.1 / 3, 0.1 / 3])  # per clip
    with pytest.raises(ValueError, match="clips of at least 2 frames"):
        per_clip_temporal_error(truth[:, :1], truth[:, :1])


def test_three_domains_measure_each_translation_under_its_own_name():
    """With three domains two translations end in each domain: each has its own truth and
    output (``target_cat_to_dog``), which win over the target-domain names."""
    images = torch.zeros(1, 3, 2, 2)
    domains = ("cat", "dog", "wild")
    batch = {f"target_{s}_to_{t}": images for s in domains for t in domains if s != t}
    batch["target_dog"] = images + 1  # the two-domain name, which must not be read here
    outputs = {f"fake_{s}_to_{t}": images for s in domains for t in domains if s != t}
    outputs["fake_cat_to_dog"] = images + 0.2
    outputs["fake_dog"] = images
    errors = ground_truth_errors(batch, outputs, pairs(domains))
    assert {k for k in errors if k.startswith("L1_")} == {
        f"L1_{s}_to_{t}" for s in domains for t in domains if s != t
    }
    assert errors["L1_cat_to_dog"].item() == pytest.approx(0.1)
    assert errors["L1_wild_to_dog"].item() == pytest.approx(0.0)
