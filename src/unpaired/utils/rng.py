"""The random number generators a training run draws from, captured and restored as plain data.

A checkpoint holds these states so that a resumed run draws the same numbers as an uninterrupted
one: the history pools and the data transforms use torch's generator, other code may use
Python's or NumPy's. Data workers need no state of their own: each epoch's loader iterator draws
its base seed from torch's generator, and every worker seeds itself from that seed and its id
(torch for torch, Lightning's worker_init_fn for Python and NumPy). Restoring the main
generators at an epoch boundary therefore restores the workers' seeds too, as long as workers
are started afresh each epoch (``persistent_workers=false``).

NumPy's state is stored as tensors and ints, so that checkpoints hold no NumPy objects and load
with torch's weights-only unpickler.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_states() -> dict[str, Any]:
    """The states of Python's, NumPy's, torch's CPU and (if in use) CUDA's generators."""
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    states: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Set the generators to states returned by :func:`rng_states`."""
    random.setstate(states["python"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
