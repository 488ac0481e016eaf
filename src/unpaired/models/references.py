"""What the methods that translate in the style of reference images (MUNIT, StarGAN v2) share."""

from __future__ import annotations

from unpaired.errors import ConfigError


def check_reference_count(references: int, images: int) -> None:
    """Style references come one for the whole batch, or one per image; anything else is a
    clear error rather than a broadcast failure deep in a network."""
    if references not in (1, images):
        raise ConfigError(
            f"got {references} style reference images for {images} images; "
            "give one reference for all of them, or one per image."
        )
