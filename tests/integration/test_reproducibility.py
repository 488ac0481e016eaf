"""``seed=`` with ``trainer.deterministic=true``: two runs on a CPU train bit-identical weights."""

import torch


def test_two_seeded_deterministic_runs_write_bit_identical_checkpoints(
    tmp_path, tiny_overrides, train_with_probes, save_parameters
):
    overrides = [
        *tiny_overrides,
        "seed=0",
        "trainer.deterministic=true",
        # every source of randomness on: loader workers, B partners, crops and flips, history
        # pools that are full after the first batch and then draw at random
        "data.num_workers=2",
        "data.load_size=36",
        "data.batch_size=2",
        "model.pool_size=2",
        "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=0",
        "callbacks.image_grid=null",
        "callbacks.ground_truth=null",
    ]
    for run in ("first", "second"):
        result = train_with_probes(
            [*overrides, f"name={run}", *save_parameters(tmp_path / run)], tmp_path
        )
        assert result.returncode == 0, result.stderr[-3000:]

    first, second = (
        torch.load(next((tmp_path / "experiments" / run).glob("*/checkpoints/last.ckpt")))
        for run in ("first", "second")
    )
    assert first["global_step"] == second["global_step"] == 6  # 3 batches, G and D each
    assert first["state_dict"].keys() == second["state_dict"].keys()
    for name, value in first["state_dict"].items():
        assert torch.equal(value, second["state_dict"][name]), name
    start = torch.load(tmp_path / "first" / "rank0_start.pt")
    assert any(not torch.equal(start[name], first["state_dict"][name]) for name in start)
