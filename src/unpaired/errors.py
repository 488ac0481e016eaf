"""Errors a user can act on.

Raise an :class:`UnpairedError` (or a subclass) when the user can fix the problem: the message
names the file or config key at fault and says what to do. The command-line entry points print
only the message, without a traceback; every other exception is a bug and keeps its traceback.
"""


class UnpairedError(Exception):
    """Base class of the errors whose message alone tells the user how to fix them."""


class DataError(UnpairedError):
    """A data set on disk is missing, incomplete or not what the configuration expects."""


class ConfigError(UnpairedError):
    """A configuration value is invalid or inconsistent with another one."""


class BadImageError(DataError):
    """An image file cannot be decoded: corrupt, truncated, or not an image at all."""


class TrainingError(UnpairedError):
    """A training ran but its outcome cannot be used (e.g. its metric is not finite)."""


class CheckpointError(UnpairedError):
    """A checkpoint cannot be written, cannot be read safely, or does not fit the configuration."""


class NonFiniteError(UnpairedError):
    """Training produced non-finite losses or gradients for too many optimiser steps in a row."""
