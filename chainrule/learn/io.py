"""Save and load models as small, versioned, human-readable JSON files.

A model file holds what is needed to rebuild the model and nothing that could run code:

    {"format": "chainrule.model", "version": 1,
     "config": model.config(),          # the architecture: layer sizes, activations
     "parameters": model.state_dict(),  # every weight, by name, as plain numbers
     "metadata": {...}}                 # optional: accuracy, training time, data set ...

Why JSON and not pickle: loading a pickle runs whatever code the file asks for, so a model
file from someone else would be a program. Here `load` only parses JSON and rebuilds the model
with `from_config`, from `MODELS`, the one table of the models of both engines, and it checks
everything it reads: a missing, truncated or edited file
gives a `ModelFileError` that names the file and says what is wrong with it.

Floats are written with Python's shortest round-trip repr, so a loaded model computes exactly
the same numbers as the one that was saved. Files are written atomically (temporary file in
the same folder, fsync, rename), so a crash mid-save never damages an existing file.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import nn
from ..extras import MissingExtra
from ..files import atomic_write
from ..nn import Module, build_model, count_parameters
from . import inputs
from .data import DATASETS
from .inputs import _number
from .losses import LOSSES

try:
    from ..tensor.layers import KINDS as TENSOR_KINDS
except MissingExtra:  # no numpy: the scalar models load, a tensor config is an unknown type
    TENSOR_KINDS = {}

__all__ = [
    "FORMAT", "MODELS", "VERSION", "ModelFileError", "from_config", "load", "parameter_count",
    "read_config", "read_metadata", "save",
]  # fmt: skip

# Every kind of model a file may hold, by the "type" of its config: the one table of models.
MODELS: dict[str, type[Module]] = {**nn.KINDS, **TENSOR_KINDS}

FORMAT = "chainrule.model"
VERSION = 1

# A file is read whole and then parsed, so what it may hold is bounded before either: a link to
# /dev/zero or a gigabyte file is refused unread, 100,000 opening brackets unparsed, and a
# config of a billion parameters unbuilt. A model file nests a few levels deep and spends some
# 30 bytes on each of its numbers.
MAX_FILE_BYTES = 256 * 2**20
MAX_DEPTH = 32
MAX_PARAMETERS = MAX_FILE_BYTES // 32


class ModelFileError(ValueError):
    """A model file that cannot be loaded: missing, unreadable, truncated or tampered with.

    `path` is the file and `reason` what is wrong with it; the message holds both. A
    `ValueError`, so that a caller that checks input in general catches it too.

    Args:
        path: The file.
        reason: What is wrong with it.

    Examples:
        >>> from chainrule.learn import io
        >>> io.load("missing.json")
        Traceback (most recent call last):
        ...
        chainrule.learn.io.ModelFileError: missing.json: no such file
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def save(
    model: Any, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write `model` (its config and parameters) to `path` as JSON, atomically; return the path.

    `metadata` is any JSON-compatible dict you want kept alongside (accuracy, data set, time).
    Weights that are not finite numbers are refused up front, with their names: a NaN weight
    means training diverged, and a file that cannot be loaded back is worse than no file.

    Args:
        model: A chainrule model of either engine (it has `config()` and `state_dict()`).
        path: Where to write; the folder must exist.
        metadata: JSON-compatible facts to keep with the model.

    Returns:
        The path written, as a `Path`.

    Raises:
        TypeError: `model` is not a chainrule model.
        ValueError: A weight is not a finite number (named).
        IsADirectoryError: `path` is a folder.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn import io
        >>> model = nn.MLP(2, [3, 1], seed=0)
        >>> io.save(model, "model.json", metadata={"accuracy": 0.97}).name
        'model.json'
        >>> loaded = io.load("model.json")
        >>> loaded
        MLP(2 -> [3, 1], activation='tanh'
          (layers.0): Layer(2 -> 3, activation='tanh')
          (layers.1): Layer(3 -> 1, activation='tanh')
        )  # 13 parameters
        >>> loaded([1.0, 2.0]).data == model([1.0, 2.0]).data  # the same numbers, exactly
        True
    """
    path = Path(path)
    try:
        config, parameters = model.config(), model.state_dict()
    except AttributeError:
        raise TypeError(
            f"save() needs a chainrule model with config() and state_dict(), "
            f"got {type(model).__name__}"
        ) from None
    bad = _bad_leaves(parameters)
    if bad:
        raise ValueError(f"cannot save to {path}: parameter {bad[0]} is not a finite number")
    document = {"format": FORMAT, "version": VERSION, "config": config, "parameters": parameters}
    document["metadata"] = dict(metadata or {})
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder")
    with atomic_write(path) as handle:
        json.dump(document, handle, allow_nan=False, indent=1)
        handle.write("\n")
    return path


def from_config(config: Any) -> Module:
    """Build a fresh model of either engine (new random weights) of the architecture `config`.

    The class comes from `MODELS`, the table of both engines' models
    (`chainrule.nn.build_model`).

    Args:
        config: The architecture, as `model.config()` returned it.

    Returns:
        The model, with fresh weights.

    Raises:
        chainrule.nn.ConfigError: The config cannot be rebuilt; the message says why.

    Examples:
        >>> from chainrule.learn import io
        >>> io.from_config({"type": "Neuron", "nin": 2})
        Neuron(2, activation='tanh')  # 3 parameters
    """
    return build_model(config, MODELS)


def parameter_count(config: Any) -> int:
    """Count the numbers a model of this config learns, without building it.

    Args:
        config: The architecture, as `model.config()` returned it.

    Returns:
        The number of learned numbers.

    Raises:
        chainrule.nn.ConfigError: The config names no known model.
        ValueError: A size in it is not a positive whole number.

    Examples:
        >>> from chainrule.learn import io
        >>> io.parameter_count({"type": "MLP", "nin": 2, "nouts": [16, 16, 1]})
        337
    """
    return count_parameters(config, MODELS)


def load(path: str | os.PathLike[str]) -> Any:
    """Rebuild the model stored at `path` (see `save`); any problem is a `ModelFileError`.

    Only JSON is parsed and only the classes of `MODELS` are called: a model file never runs
    code. Everything read is checked before the model is built.

    Args:
        path: The model file.

    Returns:
        The model, with the saved weights.

    Raises:
        ModelFileError: The file is missing, unreadable, truncated, not a model file, or its
            config and weights do not fit; the message names the file and the problem.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn import io
        >>> path = io.save(nn.Neuron(2, seed=0), "neuron.json")
        >>> io.load(path).state_dict() == nn.Neuron(2, seed=0).state_dict()
        True
        >>> _ = open("notes.txt", "w").write("hello")
        >>> io.load("notes.txt")
        Traceback (most recent call last):
        ...
        chainrule.learn.io.ModelFileError: notes.txt: not a model file: it is not JSON ...
    """
    model, _ = _read(path)
    return model


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the `metadata` dict of a model file, after checking the whole file as `load` does.

    Args:
        path: The model file.

    Returns:
        The metadata saved with the model (empty if none).

    Raises:
        ModelFileError: The file cannot be loaded, as for `load`.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn import io
        >>> path = io.save(nn.Neuron(2, seed=0), "neuron.json", metadata={"steps": 100})
        >>> io.read_metadata(path)
        {'steps': 100}
    """
    _, document = _read(path)
    return document["metadata"]


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a model config from a JSON file, bounded and checked as `load` reads a model file.

    The file holds a config (what `model.config()` gives) or a whole model file, whose config
    is taken. The model is not built: its size is counted and must be at most
    `MAX_PARAMETERS`.

    Args:
        path: The JSON file.

    Returns:
        The config.

    Raises:
        ModelFileError: The file is missing, too large or too deeply nested, not JSON, or not
            a config of a known model of a size that can be built.

    Examples:
        >>> from chainrule.learn import io
        >>> _ = open("wide.json", "w").write('{"type": "MLP", "nin": 2, "nouts": [64, 1]}')
        >>> io.read_config("wide.json")
        {'type': 'MLP', 'nin': 2, 'nouts': [64, 1]}
    """
    config = _parse(path)
    if isinstance(config.get("config"), dict):
        config = config["config"]  # a saved model file: its architecture
    needed = _size(path, config)
    if needed > MAX_PARAMETERS:  # what a model file may hold: a model that could not be saved
        raise ModelFileError(
            path, f"the config describes {needed:,} parameters; the most is {MAX_PARAMETERS:,}"
        )
    return config


# -- reading and checking ---------------------------------------------------------------------


def _read(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    document = _parse(path)
    kind, version = document.get("format"), document.get("version")
    document.setdefault("metadata", {})
    # What a model file must be, in the order it is checked: the first that fails is said.
    musts = [
        (kind == FORMAT, f"not a chainrule model file (format is {kind!r}, expected {FORMAT!r})"),
        (type(version) is int, f"version must be an integer, got {version!r}"),
        (
            version == VERSION,
            f"file format version {version} is not supported (this chainrule reads {VERSION})",
        ),
    ]
    for key in ("config", "parameters", "metadata"):
        got = document.get(key)
        musts.append((isinstance(got, dict), f"'{key}' must be a JSON object, got {_kind(got)}"))
    failed = next((why for ok, why in musts if not ok), None)
    if failed:
        raise ModelFileError(path, failed)

    parameters = document["parameters"]
    bad = _bad_leaves(parameters)
    if bad:
        raise ModelFileError(path, f"parameter {bad[0]} is not a finite number: {bad[1]}")
    _check_metadata(path, document["metadata"])
    needed = _size(path, document["config"])  # before building: a tampered config allocates
    stored = sum(1 for _ in _leaves(parameters))
    if needed > stored and needed > _BUILD_TO_DIAGNOSE:
        raise ModelFileError(
            path, f"the config describes {needed:,} parameters but the file holds {stored:,}"
        )
    try:
        model = from_config(document["config"])
    except (ValueError, TypeError, KeyError, IndexError) as err:
        raise ModelFileError(path, f"bad model config: {_describe(err)}") from None
    _check_same_shape(path, model.state_dict(), parameters)
    try:
        model.load_state_dict(parameters)
    except (ValueError, TypeError, KeyError, IndexError) as err:
        raise ModelFileError(path, f"parameters do not fit the model: {_describe(err)}") from None
    return model, document


def _parse(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the JSON object in `path`, bounded in size and depth, with finite numbers only.

    The file is a regular file of at most `MAX_FILE_BYTES`, nested at most `MAX_DEPTH` deep.
    """
    raw = _read_bytes(path)
    if not raw.strip():
        raise ModelFileError(path, "the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(
            path, "not a model file: it is not JSON (binary data, not UTF-8 text)"
        ) from None
    if _nesting(raw) > MAX_DEPTH:
        raise ModelFileError(
            path,
            f"arrays and objects are nested more than {MAX_DEPTH} deep; a model file's are not",
        )
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        start = text.lstrip()[:1]
        if start not in ("{", "["):  # a model file is a JSON object: this is something else
            first = text.strip().splitlines()[0]
            shown = first if len(first) <= 40 else first[:37] + "..."
            raise ModelFileError(
                path,
                f"not a model file: it is not JSON (it starts with {shown!r}; a model "
                "file is the JSON object that chainrule.learn.io.save writes)",
            ) from None
        what = err.msg.removesuffix(" starting at")
        where = f"at line {err.lineno} column {err.colno}"
        stripped = text.rstrip()
        if err.pos >= len(stripped) or not stripped.endswith("}"):  # an object cut short
            what = "it ends early (truncated?)"
            where = f"at line {text.count(chr(10)) + 1}"
        raise ModelFileError(path, f"not valid JSON: {what} {where}") from None
    except RecursionError:  # _nesting's bound is kept well below the parser's own
        raise ModelFileError(path, "arrays and objects are nested too deeply") from None
    except ValueError as err:  # NaN / Infinity, refused by _refuse_constant; a 5,000-digit int
        raise ModelFileError(path, str(err)) from None
    if not isinstance(document, dict):
        raise ModelFileError(path, f"not a chainrule model file (top level is {_kind(document)})")
    return document


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a regular file of at most `MAX_FILE_BYTES`.

    A device, a pipe or a file too large is refused before a byte is read, and the read is
    capped (the file may still grow).
    """
    too_large = f"larger than {MAX_FILE_BYTES // 2**20} MiB, the most a model file may hold"
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(path, "not a regular file (a device, a pipe or a socket)")
        if info.st_size > MAX_FILE_BYTES:
            raise ModelFileError(path, too_large)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ModelFileError(path, "no such file") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a folder, not a model file") from None
    except OSError as err:
        raise ModelFileError(path, f"cannot read it ({err.strerror or err})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ModelFileError(path, too_large)
    return raw


_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # JSON strings, in linear time
_OPENERS = re.compile(rb"[\[{]+")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def _nesting(raw: bytes) -> int:
    """How deeply JSON text nests, found without parsing it (at least up to `MAX_DEPTH` + 1).

    Brackets in strings are dropped, then each pass removes every innermost empty pair, "[]"
    and "{}", all at once: the passes count the levels (a pass may take two of alternating
    kinds, so the count is at least half the depth), and what no pass can remove (a file cut
    short, or only opening brackets) counts by its longest run of opening brackets.
    """
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for level in range(MAX_DEPTH + 1):
        inner = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if inner == brackets:
            return level + max(map(len, _OPENERS.findall(brackets)), default=0)
        brackets = inner
    return MAX_DEPTH + 1


def _size(path: str | os.PathLike[str], config: Any) -> int:
    """The parameters a config describes, counted without building it."""
    try:
        return parameter_count(config)
    except (ValueError, TypeError) as err:
        raise ModelFileError(path, f"bad model config: {_describe(err)}") from None


def _fraction(v: Any) -> bool:
    return v is None or (_number(v) and 0 <= v <= 1)


def _whole(low: int) -> Callable[[Any], bool]:
    return lambda v: v is None or (type(v) is int and v >= low)


# What each data flag a training run recorded (`metadata["data_flags"]`, which `chainrule eval`
# draws the points with again) must be; null is a flag that was not given.
DATA_FLAGS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data": (lambda v: v in DATASETS, f"one of {', '.join(DATASETS)}"),
    "samples": (_whole(1), "a whole number >= 1"),
    "noise": (lambda v: v is None or (_number(v) and v >= 0), "a number >= 0"),
    "classes": (_whole(2), "a whole number >= 2"),
    "test_samples": (_whole(0), "a whole number >= 0"),
    "test_fraction": (lambda v: v is None or (_number(v) and 0 < v < 1), "a fraction in (0, 1)"),
    "data_seed": (_whole(0), "a whole number >= 0"),
}

# The metadata that chainrule reads back (`eval`, `predict`) and what each must be; any other
# key is the saver's own and is kept as it is.
METADATA: dict[str, tuple[Callable[[Any], bool], str]] = {
    "loss": (lambda v: v in LOSSES, f"one of {', '.join(LOSSES)}"),
    "threshold": (_number, "a finite number"),
    "steps": (_whole(0), "a whole number >= 0"),
    "train_accuracy": (_fraction, "a fraction in [0, 1] or null"),
    "test_accuracy": (_fraction, "a fraction in [0, 1] or null"),
    "data_flags": (lambda v: isinstance(v, dict), "a JSON object"),
}


def _check_metadata(path: str | os.PathLike[str], metadata: dict[str, Any]) -> None:
    """Check the metadata chainrule reads back, naming the first field that is wrong."""
    fields = [(k, metadata[k], *METADATA[k]) for k in METADATA if k in metadata]
    flags = metadata.get("data_flags")
    if isinstance(flags, dict):
        fields += [(f"data_flags.{k}", flags[k], *DATA_FLAGS[k]) for k in DATA_FLAGS if k in flags]
    for name, value, ok, what in fields:
        if not ok(value):
            raise ModelFileError(path, f"metadata {name!r} must be {what}, got {_shown(value)}")
    if metadata.get("inputs") is not None:
        try:
            inputs.check(metadata["inputs"])
        except ValueError as err:
            raise ModelFileError(path, f"metadata {err}") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid weight (only finite numbers are)")


# A config that needs more parameters than the file holds cannot load. Small models are still
# built, so that the error can name the missing parameters; past this size building would cost
# real memory (a tampered `nouts: [10**9]`), so the mismatch is reported from the counts alone.
_BUILD_TO_DIAGNOSE = 1_000_000


def _leaves(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a parameter tree (nested objects and lists), with its dotted name."""
    if isinstance(tree, (dict, list, tuple)):
        items = tree.items() if isinstance(tree, dict) else enumerate(tree)
        for key, value in items:
            yield from _leaves(value, _join(prefix, str(key)))
    else:
        yield prefix or "<root>", tree


def _bad_leaves(tree: Any) -> tuple[str, Any] | None:
    """Find the first leaf that is not a finite real number (bools excluded), with its name."""
    return next(((name, _shown(v)) for name, v in _leaves(tree) if not _number(v)), None)


def _check_same_shape(
    path: str | os.PathLike[str], expected: Any, got: Any, name: str = ""
) -> None:
    """Check that the file's parameter names and sizes match those of the model they rebuild.

    An object and a list are compared alike, key by key (a list's keys are its indices), once
    the list's length is found right: the first difference is named.
    """
    where = f"parameter {name}" if name else "parameters"
    if not isinstance(expected, (dict, list, tuple)):
        if isinstance(got, (dict, list)):
            raise ModelFileError(path, f"{where} should be a number, got {_kind(got)}")
        return
    listed = not isinstance(expected, dict)
    if not isinstance(got, list if listed else dict):
        need = f"a list of {len(expected)}" if listed else "an object"
        raise ModelFileError(path, f"{where} should be {need}, got {_kind(got)}")
    if len(got) != len(expected) and listed:
        raise ModelFileError(
            path, f"{where} has {len(got)} entries, the model needs {len(expected)}"
        )
    want, have = (dict(enumerate(x)) if listed else x for x in (expected, got))
    missing = [k for k in want if k not in have]
    if missing:
        raise ModelFileError(
            path, f"missing parameter {_join(name, missing[0])} ({len(missing)} missing in all)"
        )
    extra = next((k for k in have if k not in want), None)
    if extra is not None:
        raise ModelFileError(
            path,
            f"unexpected parameter {_join(name, extra)} "
            "(not part of the model its config describes)",
        )
    for key in want:
        _check_same_shape(path, want[key], have[key], _join(name, key))


def _shown(value: Any) -> str:
    """A value as a message shows it: an integer of 400 digits by its first and last few."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _kind(obj: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names[type(None)] = "null"
    number = isinstance(obj, (int, float)) and not isinstance(obj, bool)
    return f"the number {obj!r}" if number else names.get(type(obj), type(obj).__name__)


def _describe(err: BaseException) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return text or type(err).__name__
