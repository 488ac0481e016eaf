from unpaired.callbacks.ground_truth import GroundTruthReport
from unpaired.callbacks.image_grid import ImageGrid

__all__ = ["GroundTruthReport", "ImageGrid"]
