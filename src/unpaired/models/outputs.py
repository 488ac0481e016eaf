"""Named tensors that say where they come from when a key is missing.

A method's forward pass produces named outputs (``fake_B``, ``rec_A``, ...) which its losses,
visuals and the ground-truth metrics read by name. A name read that was never produced fails
where it is read, naming the producer and what it did produce, instead of a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor


class MissingOutputError(KeyError):
    """A name read from :class:`Outputs` that its producer did not produce."""

    def __str__(self) -> str:  # KeyError quotes its message
        return str(self.args[0])


class Outputs(dict[str, Tensor]):
    """The outputs of ``producer`` (e.g. ``"CycleGAN.generate"``), a dict of tensors."""

    def __init__(self, values: Mapping[str, Tensor] | None = None, producer: str = "") -> None:
        super().__init__(values or {})
        self.producer = producer

    def __missing__(self, key: str) -> Tensor:
        held = ", ".join(self) or "nothing"
        raise MissingOutputError(
            f"{self.producer or 'the forward pass'} produced no {key!r}: it holds {held}"
        )
