"""Run folders (``experiments/<name>/<run>/``) and which one a resumed training continues.

A training that resumes a run's latest state continues in that run's folder, so that one run
stays one folder (and one wandb run): ``resume=auto`` picks the run of ``experiments/<name>/``
whose resumable checkpoint was written last, and ``ckpt_path=<run>/checkpoints/last.ckpt`` names
one. Any other ``ckpt_path`` (a periodic keep, ``best.ckpt``, a file from elsewhere) starts a new
run folder from that state, so that nothing newer in its own run is overwritten. Hydra creates
the run folder before the task starts, so this choice is made by the resolvers below, in
``hydra.run.dir`` and ``hydra.output_subdir`` (see ``conf/train.yaml``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"
#: Lightning's save on SLURM's requeue signal (``SLURMEnvironment(auto_requeue=True)``), written
#: into the trainer's ``default_root_dir``: the run folder.
SLURM_CHECKPOINTS = "hpc_ckpt_*.ckpt"


def resumable_checkpoint(run: Path) -> Path | None:
    """The newest checkpoint ``run`` can resume from: ``checkpoints/last.ckpt`` or Lightning's
    SLURM requeue save, whichever was written last; None if it has neither."""
    candidates = [run / LAST_CHECKPOINT, *run.glob(SLURM_CHECKPOINTS)]
    existing = [path for path in candidates if path.is_file()]
    return max(existing, key=lambda path: path.stat().st_mtime_ns, default=None)


def newest_resumable_run(experiment: Path) -> Path | None:
    """The run folder of ``experiment`` whose resumable checkpoint was written last."""
    if not experiment.is_dir():
        return None
    written = {
        run: checkpoint.stat().st_mtime_ns
        for run in experiment.iterdir()
        if run.is_dir() and (checkpoint := resumable_checkpoint(run)) is not None
    }
    return max(written, key=written.__getitem__, default=None)


def run_dir(experiment: str, timestamp: str, resume: str | None, ckpt_path: str | None) -> str:
    """``hydra.run.dir`` of a training: the folder of the run it continues, else
    ``<experiment>/<timestamp>``."""
    if ckpt_path:
        checkpoint = Path(ckpt_path).expanduser().absolute()
        if checkpoint.parts[-2:] == LAST_CHECKPOINT.parts:
            return str(checkpoint.parent.parent)
    elif resume == "auto" and (newest := newest_resumable_run(Path(experiment))) is not None:
        return str(newest)
    return str(Path(experiment) / timestamp)


def config_subdir(output_dir: str, timestamp: str) -> str:
    """``hydra.output_subdir``: ``.hydra`` for a new run; in a continued run, which already has
    one, ``.hydra/resumed_<timestamp>``, so that the run's own config and overrides are kept."""
    if (Path(output_dir) / ".hydra" / "config.yaml").is_file():
        return f".hydra/resumed_{timestamp}"
    return ".hydra"


def evaluation_dir(
    ckpt: str | Sequence[str] | None, output: str | None, experiments: str, timestamp: str
) -> str:
    """``hydra.run.dir`` of an evaluation: ``output`` if given, else
    ``<run>/evaluation/<timestamp>`` for a checkpoint in a run's ``checkpoints/`` folder, else
    ``evaluation/<timestamp>`` beside the checkpoint (or under ``experiments`` without one);
    for several checkpoints (a comparison), ``<experiments>/comparisons/<timestamp>``."""
    if output:
        return str(Path(output).expanduser().absolute())
    if ckpt is not None and not isinstance(ckpt, str):
        if len(ckpt) > 1:
            return str(Path(experiments) / "comparisons" / timestamp)
        ckpt = ckpt[0] if ckpt else None
    if not ckpt:
        return str(Path(experiments) / "evaluation" / timestamp)
    folder = Path(ckpt).expanduser().absolute().parent
    run = folder.parent if folder.name == "checkpoints" else folder
    return str(run / "evaluation" / timestamp)
