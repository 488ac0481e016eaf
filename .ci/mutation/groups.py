"""The modules that ``make mutate`` mutates and the tests that judge each of them.

A mutant is run against the tests of its own group only (mutmut_plugin.py enforces it): the
networks against tests/nn, not against every model test that happens to build a network. That
keeps the run within reach of a 2-core machine and makes each kill rate say how well a module's
own tests guard it.
"""

from __future__ import annotations

# (name in the report, module prefixes, test paths)
GROUPS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("nn", ("unpaired.nn.",), ("tests/nn/",)),
    ("losses", ("unpaired.losses.",), ("tests/losses/", "tests/models/")),
    ("models", ("unpaired.models.",), ("tests/models/", "tests/losses/")),
    (
        "utils/checkpoint.py",
        ("unpaired.utils.checkpoint.",),
        ("tests/utils/test_checkpoint.py", "tests/callbacks/test_checkpointing.py"),
    ),
    (
        "callbacks/checkpoint.py",
        ("unpaired.callbacks.checkpoint.",),
        ("tests/utils/test_checkpoint.py", "tests/callbacks/test_checkpointing.py"),
    ),
    ("data/download.py", ("unpaired.data.download.",), ("tests/data/test_download.py",)),
]


def group_of(function: str) -> tuple[str, tuple[str, ...]] | None:
    """(group name, its test paths) of a mutated function's qualified name, or None."""
    for name, prefixes, tests in GROUPS:
        if function.startswith(prefixes):
            return name, tests
    return None
