import random
from pathlib import Path

import numpy as np
import torch

from unpaired.utils.rng import restore_rng_states, rng_states


def draws() -> tuple[float, float, torch.Tensor]:
    return random.random(), float(np.random.rand()), torch.rand(3)


def test_restored_states_repeat_the_same_draws_after_a_weights_only_round_trip(
    tmp_path: Path,
) -> None:
    np.random.randn()  # leave a cached gaussian in NumPy's state
    torch.save({"rng_states": rng_states()}, tmp_path / "states.pt")
    expected = draws()
    draws()  # move every generator on
    restore_rng_states(torch.load(tmp_path / "states.pt", weights_only=True)["rng_states"])
    python, numpy_value, torch_values = draws()
    assert (python, numpy_value) == expected[:2]
    assert torch.equal(torch_values, expected[2])
