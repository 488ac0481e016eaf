"""The ``compile`` option of the configs: off, torch's defaults, or ``torch.compile`` arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from unpaired.errors import ConfigError


def compile_options(value: bool | Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """``torch.compile`` keyword arguments for the config value ``key``: None for ``false``
    (stay eager), ``{}`` for ``true``, the mapping itself (e.g. ``{mode: max-autotune}``)."""
    if isinstance(value, bool):
        return {} if value else None
    if isinstance(value, Mapping):
        return dict(value)
    raise ConfigError(
        f"{key} must be true, false or a mapping of torch.compile arguments "
        f"(e.g. {key}={{mode:max-autotune}}), got {value!r}."
    )
