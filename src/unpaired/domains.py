"""Domains and translations between them, by name.

A data set has an ordered list of domain names: ``A`` and ``B`` in the authors' two-folder layout
(``trainA/``, ``trainB/``), the folder names in the multi-domain layout (``train/cat/``,
``train/dog/``: ``cat``, ``dog``), one name for a single-domain set. A :class:`Translation` is a
``source → target`` pair of them: batches, loss and metric names, image grids, evaluation,
inference and export speak of translations this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from unpaired.errors import ConfigError


@dataclass(frozen=True)
class Translation:
    """From domain ``source`` to domain ``target``."""

    source: str
    target: str

    @property
    def single_letters(self) -> bool:
        return len(self.source) == len(self.target) == 1

    @property
    def suffix(self) -> str:
        """The translation in metric and loss names: ``AB`` for the authors' single-letter
        domains (``G_adv_AB``, ``val/fid_AB``), ``cat_to_dog`` for longer names."""
        return f"{self.source}{self.target}" if self.single_letters else str(self)

    @property
    def back(self) -> Translation:
        """The translation the other way."""
        return Translation(self.target, self.source)

    def __str__(self) -> str:
        """``AtoB`` for single-letter domains (the authors' ``direction``), else
        ``cat_to_dog``; :func:`parse_translation` reads both forms."""
        joiner = "to" if self.single_letters else "_to_"
        return f"{self.source}{joiner}{self.target}"


def parse_translation(text: str | Translation, translations: Sequence[Translation]) -> Translation:
    """The translation among ``translations`` that ``text`` names: ``AtoB``, ``A_to_B``,
    ``cat_to_dog`` or ``cat->dog`` (or a :class:`Translation` itself).

    Raises:
        ConfigError: ``text`` names none of them; the message lists those there are.
    """
    for translation in translations:
        names = {
            str(translation),
            f"{translation.source}_to_{translation.target}",
            f"{translation.source}->{translation.target}",
        }
        if text == translation or text in names:
            return translation
    offered = ", ".join(str(t) for t in translations) or "none (it does not translate)"
    hint = ""
    if any(text in (str(t.back), f"{t.target}_to_{t.source}") for t in translations):
        hint = (
            ": it is one-directional. Train another model with the domains swapped "
            "(data.direction=BtoA) for the other way"
        )
    raise ConfigError(
        f"direction={text} is not a translation this model makes; it makes {offered}{hint}."
    )


def pairs(domains: Sequence[str]) -> tuple[Translation, ...]:
    """Every translation between two different ``domains``, in order: A→B, B→A for two."""
    return tuple(Translation(s, t) for s in domains for t in domains if s != t)
