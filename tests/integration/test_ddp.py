"""Data-parallel training on two CPU processes over gloo (``trainer=ddp_cpu``), through the entry
point as a user runs it: gradients are all-reduced once per update, so both ranks hold the same
weights, those of one process training on both ranks' batches at once.

Both runs see the same four training items: an item is a function of (seed, epoch, index), and
the two ranks share one permutation of the indices (unpaired.data.seeding).
"""

import json
from pathlib import Path

import torch

# Plain SGD: Adam divides each gradient by its own magnitude, so the conv biases in front of
# instance norm, whose gradient is zero up to rounding, would move by +-lr with the sign of the
# rounding noise, which differs between the two runs.
SGD = ["model.optimizer._target_=torch.optim.SGD", "~model.optimizer.betas"]
# The weights are compared after one update of each side: later updates amplify rounding
# differences fast (measured in one process, without DDP, summing the same gradients in two
# orders: 1e-8 apart after one update, 5e-8 after two, 3.5e-5 after three).
# Tolerance: the sums of the one update differ in order only (per-rank means, then the
# all-reduce, against one mean over four images); measured 3.6e-7, allowed 1e-5.
TOLERANCE = 1e-5
# Per-rank history pools would give the discriminators other fakes than one process's pool.
QUIET = [
    "model.pool_size=0",
    "trainer.num_sanity_val_steps=0",
    "trainer.limit_val_batches=0",
    "callbacks.image_grid=null",
    "callbacks.ground_truth=null",
]


def count_reductions(folder: Path) -> list[str]:
    return [
        "+callbacks.reductions._target_=probes.CountGradientReductions",
        f"+callbacks.reductions.dirpath={folder}",
    ]


def test_two_ranks_train_the_weights_of_one_process_on_both_their_batches(
    tmp_path, tiny_overrides, train_with_probes, save_parameters
):
    # with averaged generator weights: both ranks must hold the same averages too
    averaged = ["model.ema.enabled=true", "model.ema.decay=0.5"]
    common = [*tiny_overrides, *SGD, *QUIET, *averaged, "model.optimizer.lr=0.01"]
    ddp = train_with_probes(
        [
            *common,
            "name=ddp",
            "trainer=ddp_cpu",
            "data.batch_size=1",
            "trainer.limit_train_batches=2",
            "model.accumulate_grad_batches=2",  # one update: 2 ranks x 2 batches of 1 image
            *save_parameters(tmp_path / "ddp"),
            *count_reductions(tmp_path / "ddp"),
            "+callbacks.collectives._target_=probes.CountCollectives",
            f"+callbacks.collectives.dirpath={tmp_path / 'ddp'}",
            "trainer.log_every_n_steps=1",  # logging every step adds no collective
        ],
        tmp_path,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = train_with_probes(
        [
            *common,
            "name=single",
            "data.batch_size=4",
            "trainer.limit_train_batches=1",
            *save_parameters(tmp_path / "single"),
        ],
        tmp_path,
    )
    assert single.returncode == 0, single.stderr[-3000:]

    rank0, rank1 = (torch.load(tmp_path / "ddp" / f"rank{r}_end.pt") for r in (0, 1))
    reference = torch.load(tmp_path / "single" / "rank0_end.pt")
    initial = torch.load(tmp_path / "single" / "rank0_start.pt")
    assert any(name.startswith("ema.copies.G_AB.") for name in rank0)
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), name
        torch.testing.assert_close(value, reference[name], rtol=0, atol=TOLERANCE, msg=name)
    moved = max((rank0[name] - initial[name]).abs().max() for name in rank0)
    assert moved > 100 * TOLERANCE  # a missing or doubled all-reduce would show

    # gradients were all-reduced on the update batch only (one bucket for G, one for D), and
    # the only other collectives of a step are the two all-reduces deciding whether the G and
    # the D update are finite on every rank: none for logging
    for rank in (0, 1):
        reductions = json.loads((tmp_path / "ddp" / f"reductions_rank{rank}.json").read_text())
        assert reductions == [0, 2]
        collectives = json.loads((tmp_path / "ddp" / f"collectives_rank{rank}.json").read_text())
        assert collectives == [0, 2]

    # one run folder for both ranks, with one set of checkpoints
    (run,) = (tmp_path / "experiments" / "ddp").iterdir()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "last.ckpt",
        "last.generators.safetensors",
    ]


def test_a_multirun_refuses_ddp_that_would_start_its_own_processes(
    tmp_path, tiny_overrides, run_cli
):
    # Lightning would start every DDP process on the whole command line again, sweep included
    args = ["-m", *tiny_overrides, "name=guarded", "trainer=ddp_cpu", "model.lambda_A=5,10"]
    result = run_cli("train", args, cwd=tmp_path)
    assert result.returncode != 0
    assert "a multirun (-m) cannot host" in result.stdout + result.stderr


def test_when_one_rank_alone_sees_a_nonfinite_loss_both_skip_the_update(
    tmp_path, tiny_overrides, train_with_probes, save_parameters
):
    common = [
        *tiny_overrides,
        *QUIET,
        "trainer=ddp_cpu",
        "data.batch_size=1",
        "trainer.limit_train_batches=2",
    ]
    poisoned = train_with_probes(
        [
            *common,
            "name=poisoned",
            *save_parameters(tmp_path / "poisoned"),
            "+callbacks.nan._target_=probes.NonFiniteLossOnOneRank",
            "+callbacks.nan.rank=1",
            "+callbacks.nan.batch=0",
            f"+callbacks.nan.dirpath={tmp_path / 'poisoned'}",
        ],
        tmp_path,
    )
    assert poisoned.returncode == 0, poisoned.stderr[-3000:]
    clean = train_with_probes(
        [*common, "name=clean", *save_parameters(tmp_path / "clean")], tmp_path
    )
    assert clean.returncode == 0, clean.stderr[-3000:]

    counts = [
        json.loads((tmp_path / "poisoned" / f"nonfinite_rank{r}.json").read_text()) for r in (0, 1)
    ]
    assert counts == [1, 1]  # the G update of batch 0, skipped by both
    rank0, rank1 = (torch.load(tmp_path / "poisoned" / f"rank{r}_end.pt") for r in (0, 1))
    assert all(torch.equal(value, rank1[name]) for name, value in rank0.items())
    reference = torch.load(tmp_path / "clean" / "rank0_end.pt")
    generators = [name for name in rank0 if name.startswith("G_")]
    assert any(not torch.equal(rank0[name], reference[name]) for name in generators)
