"""Import Gradio without its stub-writing pass: about 2 s of `qa serve`'s start-up.

Every time Gradio is imported, each component class it defines reads its own
source file, parses it and rewrites (or re-checks) a ``.pyi`` stub beside it
(``gradio.component_meta.create_or_modify_pyi``). The stubs are for type
checkers of Gradio's own developers; the running app never reads them. On
this 2-core machine that pass is 2.2-2.4 s of a 4.9 s ``import gradio``.

:func:`import_gradio` imports Gradio with that one function replaced by a
no-op, nothing else changed. If a Gradio release renames or drops it, the
import is simply the ordinary one; so it is with ``DOCQA_GRADIO_STUBS=1`` in
the environment (the escape hatch, and bench/speed.py's baseline row).
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
from types import ModuleType

_MODULE = "gradio.component_meta"
_FUNCTION = "create_or_modify_pyi"
KEEP_STUBS_ENV = "DOCQA_GRADIO_STUBS"


def _no_stubs(*args, **kwargs) -> None:
    """Stands in for Gradio's stub writer: the app never reads the stubs."""


class _SkipStubs(importlib.abc.MetaPathFinder):
    """Finds gradio.component_meta through the other finders and patches it
    right after it runs, before any component class is defined."""

    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            if callable(getattr(module, _FUNCTION, None)):
                setattr(module, _FUNCTION, _no_stubs)

        loader.exec_module = exec_module  # this file's own loader object, used once
        return spec


def import_gradio() -> ModuleType:
    """The gradio module; imported without the stub pass if not imported yet."""
    if "gradio" in sys.modules:
        return sys.modules["gradio"]
    if os.environ.get(KEEP_STUBS_ENV) == "1":
        return importlib.import_module("gradio")
    finder = _SkipStubs()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module("gradio")
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
