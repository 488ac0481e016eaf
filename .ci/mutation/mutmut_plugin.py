"""A pytest plugin for the mutation run only (``make mutate`` puts this folder on PYTHONPATH;
pyproject's ``[tool.mutmut]`` loads it with ``-p mutmut_plugin``). The normal suite never loads it.

1. Each mutant is judged by its own module's tests (groups.py). While mutmut records which
   tests reach which function, a hit is kept only when the test belongs to the function's
   group; a network reached from a model test is not thereby "covered".

2. mutmut renames each mutated function (``CUT.__init__`` becomes ``xǁCUTǁ__init____mutmut_orig``
or ``..._mutmut_7``) and calls it through a trampoline. Lightning's ``save_hyperparameters``
finds the constructor's arguments by walking the stack for frames named ``__init__``, so under
mutmut it would record no hyperparameters and every test reading ``model.hparams`` would fail
for a reason that has nothing to do with the mutant. The plugin teaches that walk the renamed
   frames and to step over the trampolines.
"""

from __future__ import annotations

import inspect
import re
import types
from typing import Any

import pytest
from groups import group_of
from lightning.pytorch.utilities import parsing
from mutmut import state
from mutmut.mutation.trampoline import get_mutant_under_test

_MUTMUT_INIT = re.compile(r"^(__init__|xǁ\w+ǁ__init____mutmut_(orig|\d+))$")
_TRAMPOLINES = {"trampoline", "_trampoline_wrapper"}
_original_get_init_args = parsing._get_init_args


def _get_init_args(frame: types.FrameType) -> tuple[Any, dict[str, Any]]:
    if _MUTMUT_INIT.match(frame.f_code.co_name):
        _, _, _, local_vars = inspect.getargvalues(frame)
        if "__class__" in local_vars:
            cls = local_vars["__class__"]
            init_parameters = inspect.signature(cls.__init__).parameters
            self_var, args_var, kwargs_var = parsing.parse_class_init_keys(cls)
            excluded = (*(n for n in (self_var, args_var, kwargs_var) if n), "__class__", "frame")
            local_args = {k: local_vars[k] for k in init_parameters if k in local_vars}
            if kwargs_var:
                local_args.update(local_args.get(kwargs_var, {}))
            local_args = {k: v for k, v in local_args.items() if k not in excluded}
            return local_vars.get(self_var), local_args
    return _original_get_init_args(frame)


def _collect_init_args(
    frame: types.FrameType,
    path_args: list[dict[str, Any]],
    inside: bool = False,
    classes: tuple[type, ...] = (),
) -> list[dict[str, Any]]:
    while frame.f_back is not None and frame.f_code.co_name in _TRAMPOLINES:
        frame = frame.f_back
    _, _, _, local_vars = inspect.getargvalues(frame)
    if not isinstance(frame.f_back, types.FrameType):
        return path_args
    local_self, local_args = _get_init_args(frame)
    if "__class__" in local_vars and (not classes or isinstance(local_self, classes)):
        path_args.append(local_args)
        return _collect_init_args(frame.f_back, path_args, inside=True, classes=classes)
    if not inside:
        return _collect_init_args(frame.f_back, path_args, inside=False, classes=classes)
    return path_args


parsing._get_init_args = _get_init_args
parsing.collect_init_args = _collect_init_args


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Forget the hits of functions outside this test's group, before mutmut records them."""
    if get_mutant_under_test() != "stats":
        return
    hits = state()._stats
    for function in list(hits):
        group = group_of(function)
        if group is None or not item.nodeid.startswith(group[1]):
            hits.discard(function)
