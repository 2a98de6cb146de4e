"""Running a compat CLI module's ``main`` when ThyWill's swapped module is run as a program.

``python -m app_helpers.cli.archive_validation validate`` does not import ThyWill's module:
``runpy`` executes its body as ``__main__``. That body is the swap line, so it imports the
compat module (whose own ``if __name__ == "__main__"`` is false: its name is
``thywill_core.compat.…``) and puts it in ``sys.modules["__main__"]``; nothing would call
``main`` and the command would exit 0 having done nothing. So each compat CLI module ends
with ``run_main_if_swapped_in(...)``, which calls ``main`` while the compat module is being
imported when the program being run is ThyWill's file holding the swap line for it.
``main`` ends the program with ``sys.exit`` as ThyWill's did.
"""

from __future__ import annotations

import os
import sys
from typing import Callable


def _program_is_swap_of(module: str) -> bool:
    """True when ``__main__`` is ThyWill's ``<short name>.py`` holding the swap line for
    ``thywill_core.compat.<short name>`` (run with ``python -m`` or as a script)."""
    program = sys.modules.get("__main__")
    if program is None or getattr(program, "__name__", None) != "__main__":
        return False
    short = module.rsplit(".", 1)[-1]
    path = getattr(program, "__file__", None)
    if not path or os.path.basename(path) != f"{short}.py":
        return False
    spec = getattr(program, "__spec__", None)
    if spec is not None and spec.name == module:
        return False  # `python -m thywill_core.compat.<name>`: the module's own test runs it
    try:
        with open(path, encoding="utf-8") as source:
            text = source.read(4096)
    except OSError:
        return False
    return f"from thywill_core.compat import {short} as _m" in text


def run_main_if_swapped_in(module: str, main: Callable[[], None]) -> None:
    """Call ``main`` when the program run is ThyWill's module swapped for ``module``."""
    if _program_is_swap_of(module):
        main()
