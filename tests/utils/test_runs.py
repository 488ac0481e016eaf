import os
from pathlib import Path

from unpaired.utils.runs import config_subdir, newest_resumable_run, resumable_checkpoint, run_dir

STAMP = "2030-01-01_00-00-00"


def make_run(experiment: Path, name: str, checkpoint: str | None, written_at: int = 0) -> Path:
    """A run folder, with ``checkpoint`` (relative path) written at time ``written_at``."""
    run = experiment / name
    (run / ".hydra").mkdir(parents=True)
    if checkpoint is not None:
        path = run / checkpoint
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"ckpt")
        os.utime(path, (written_at, written_at))
    return run


def test_a_new_training_gets_a_new_timestamped_folder(tmp_path: Path) -> None:
    make_run(tmp_path, "old", "checkpoints/last.ckpt")
    assert run_dir(str(tmp_path), STAMP, None, None) == str(tmp_path / STAMP)


def test_resume_auto_continues_the_run_whose_checkpoint_was_written_last(tmp_path: Path) -> None:
    make_run(tmp_path, "2024-01-02_00-00-00", "checkpoints/last.ckpt", written_at=1_000)
    active = make_run(tmp_path, "2024-01-01_00-00-00", "checkpoints/last.ckpt", written_at=2_000)
    make_run(tmp_path, "2024-01-03_00-00-00", None)  # started, killed before any checkpoint
    assert newest_resumable_run(tmp_path) == active
    assert run_dir(str(tmp_path), STAMP, "auto", None) == str(active)


def test_resume_auto_without_any_run_starts_a_new_one(tmp_path: Path) -> None:
    make_run(tmp_path, "no_checkpoint", None)
    assert run_dir(str(tmp_path / "never_trained"), STAMP, "auto", None).endswith(STAMP)
    assert run_dir(str(tmp_path), STAMP, "auto", None) == str(tmp_path / STAMP)


def test_lightning_slurm_save_counts_when_it_is_newer(tmp_path: Path) -> None:
    run = make_run(tmp_path, "run", "checkpoints/last.ckpt", written_at=1_000)
    hpc = run / "hpc_ckpt_1.ckpt"
    hpc.write_bytes(b"ckpt")
    os.utime(hpc, (2_000, 2_000))
    assert resumable_checkpoint(run) == hpc


def test_ckpt_path_continues_only_a_runs_last_checkpoint(tmp_path: Path) -> None:
    run = make_run(tmp_path, "run", "checkpoints/last.ckpt")
    last, kept = run / "checkpoints/last.ckpt", run / "checkpoints/epoch0004.ckpt"
    assert run_dir(str(tmp_path), STAMP, None, str(last)) == str(run)
    assert run_dir(str(tmp_path), STAMP, None, str(kept)) == str(tmp_path / STAMP)


def test_a_continued_run_keeps_its_own_hydra_files(tmp_path: Path) -> None:
    assert config_subdir(str(tmp_path), STAMP) == ".hydra"
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("model: {}")
    assert config_subdir(str(tmp_path), STAMP) == f".hydra/resumed_{STAMP}"
