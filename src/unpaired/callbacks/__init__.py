from unpaired.callbacks.checkpoint import Checkpointing
from unpaired.callbacks.ground_truth import GroundTruthReport
from unpaired.callbacks.image_grid import ImageGrid
from unpaired.callbacks.nan_guard import NonFiniteGuard
from unpaired.callbacks.preemption import SignalPreemption
from unpaired.callbacks.speed import SpeedOptions
from unpaired.callbacks.validation_fid import ValidationFID

__all__ = [
    "Checkpointing",
    "GroundTruthReport",
    "ImageGrid",
    "NonFiniteGuard",
    "SignalPreemption",
    "SpeedOptions",
    "ValidationFID",
]
