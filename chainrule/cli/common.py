"""What the `chainrule` commands share: the parser, the error the user can fix, flag types, the
data flags (`train` and `eval` pick their points the same way) and the run folder (`train`
and `preset` write theirs the same way).

The commands import from here and `main.py` imports the commands, so imports flow one way:
common <- the command modules <- main.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..extras import MissingExtra, missing, missing_message
from ..learn import data, inputs, io
from ..viz import plots


class UsageError(Exception):
    """A mistake in what the user asked for; reported in one line, exit status 2."""


@contextmanager
def usage_errors(prefix: str, *kinds: type[Exception]) -> Iterator[None]:
    """Errors of the kinds `kinds` in the block are the user's to fix: each becomes a one-line
    `UsageError`, `prefix` then the error's own text (an OSError's without its number and
    file: "Permission denied"), without a traceback."""
    try:
        yield
    except kinds as err:
        raise UsageError(f"{prefix}{getattr(err, 'strerror', None) or err}") from None


def require_packages(purpose: str, modules: Sequence[str], extra: str) -> None:
    """Before any work: every module `purpose` needs is installed, or one `MissingExtra`
    naming all that are not and the extra that brings them."""
    absent = missing(modules)
    if absent:
        raise MissingExtra(missing_message(purpose, absent, extra), absent, extra)


def percent(x: float | None) -> str:
    """A fraction as a percentage to one decimal, or n/a."""
    return "n/a" if x is None else f"{100 * x:.1f}%"


# -- the parser -----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse's parser, kinder to a learner's typing.

    * Errors are one line (argparse's default prints the whole usage first), except for a
      flag it does not know, which gets the nearest flag it does know and that flag's usage:
      `--dataset` answers "did you mean --data?".
    * A prefix is not a flag: argparse would take `--epoch` for `--epochs` without a word
      (`allow_abbrev=False`), so a typo could silently mean something else.
    * A mistyped choice (`--data moon`) gets the nearest valid one too.

    Subcommands made with `add_subparsers(parser_class=Parser)` are Parsers as well, and
    each reports its own unknown flags, so the suggestion comes from the right command.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        # Names a mistyped choice may have meant though this command does not take them, and
        # what to run instead (`train --data mnist`: the preset mnist5k, run by `preset`).
        self.elsewhere: dict[str, str] = {}

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is None:  # a command: nothing below can take them
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        usage = ""
        if message.startswith("unrecognized arguments: "):
            flags = [a for a in message.split(": ", 1)[1].split() if a.startswith("-")]
            if flags:
                typed = flags[0].split("=", 1)[0]
                action = self._nearest_flag(typed)
                if action is not None:
                    longs = [o for o in action.option_strings if o.startswith("--")]
                    nearest = max(longs or action.option_strings, key=_likeness(typed))
                    message += f"; did you mean {nearest}?"
                    shown = self._get_formatter()._format_args(action, action.dest.upper())
                    usage = f"usage: {self.prog} {nearest} {shown}".rstrip()
                else:
                    usage = f"usage: {self.prog} [options]"
                usage += f"   ({self.prog} --help lists every flag)\n"
        elif "invalid choice: " in message:
            found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
            if found:
                choices = [c.strip(" '") for c in found.group(2).split(",")]
                close = difflib.get_close_matches(found.group(1), choices + [*self.elsewhere])
                if close:
                    message += f"; did you mean {close[0]!r}?"
                    if close[0] in self.elsewhere:
                        message += f" ({self.elsewhere[close[0]]})"
        self.exit(2, f"{self.prog}: error: {message}\n{usage}")

    def _nearest_flag(self, typed: str) -> Any:
        """The action of the known flag nearest to `typed`, or None if none is near."""
        by_flag = {o: a for a in self._actions for o in a.option_strings if o.startswith("--")}
        longer = [o for o in by_flag if o.startswith(typed) and len(typed) > 3]  # --epoch
        if longer:
            return by_flag[min(longer, key=len)]
        shorter = [o for o in by_flag if typed.startswith(o) and len(o) > 3]  # --dataset
        if shorter:
            return by_flag[max(shorter, key=len)]
        close = difflib.get_close_matches(typed, list(by_flag), n=1, cutoff=0.6)
        return by_flag[close[0]] if close else None


def _likeness(typed: str) -> Callable[[str], float]:
    return lambda o: difflib.SequenceMatcher(None, typed, o).ratio()


# -- flag types: argparse turns their ArgumentTypeError into a one-line usage error ------------


def _typed(kind: Callable[[str], Any], test: Callable[[Any], bool], what: str) -> Callable:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
        return value

    return parse


# Caps, checked before anything is allocated: a count of points past MAX_POINTS, or a number
# past MAX_NUMBER, would only run out of memory or overflow to inf/nan later.
MAX_POINTS = 1_000_000
MAX_COUNT = 10**12
MAX_NUMBER = 1e12


def _whole(low: int, high: int) -> Callable:
    return _typed(int, lambda v: low <= v <= high, f"must be a whole number from {low} to {high:,}")


positive_int = _whole(1, MAX_COUNT)
nonneg_int = _whole(0, MAX_COUNT)
points = _whole(1, MAX_POINTS)
nonneg_points = _whole(0, MAX_POINTS)
at_least_two = _whole(2, MAX_POINTS)
_M = f"{MAX_NUMBER:g}"
positive_float = _typed(float, lambda v: 0 < v <= MAX_NUMBER, f"must be a number > 0 and <= {_M}")
nonneg_float = _typed(float, lambda v: 0 <= v <= MAX_NUMBER, f"must be a number from 0 to {_M}")
finite_float = _typed(float, lambda v: abs(v) <= MAX_NUMBER, f"must be a number from -{_M} to {_M}")
fraction = _typed(float, lambda v: 0 < v < 1, "must be a fraction between 0 and 1")
port = _typed(int, lambda v: 0 <= v <= 65535, "must be a port number from 0 to 65535")
worker_port = _typed(int, lambda v: 0 < v <= 65535, "must be a port number from 1 to 65535")
momentum = _typed(float, lambda v: 0 <= v < 1, "must be a number in [0, 1)")


def path(text: str) -> Path:
    """A flag's file or folder: an empty name is refused (it would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a file or folder, got {text!r}")
    return Path(text)


def check_file(flag: str, file: Path | None, formats: Collection[str]) -> None:
    """Refuse, before any work, a file flag that cannot be written: a folder, an extension not
    among `formats`, a folder that does not exist or cannot be written in."""
    if file is None:
        return
    if file.is_dir():
        raise UsageError(f"{flag} {file} is a folder; name a file")
    if file.suffix.lower() not in formats:
        shown = f"'{file.suffix}'" if file.suffix else "no extension"
        raise UsageError(
            f"{flag} {file}: {shown} is not a format chainrule can write; "
            f"use one of {', '.join(formats)}"
        )
    check_folder(flag, file, file.parent)


def check_folder(flag: str, file: Path, folder: Path) -> None:
    """Refuse, before any work, a `folder` for `file` that does not exist or cannot be
    written in."""
    if not folder.is_dir():
        raise UsageError(f"{flag} {file}: folder {folder} does not exist")
    try:  # a file made and removed: permissions alone do not tell (root, /proc, read-only)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise UsageError(
            f"{flag} {file}: cannot write in folder {folder} ({err.strerror})"
        ) from None


layer_sizes = _typed(
    lambda text: [int(part) for part in text.split(",")],
    lambda sizes: len(sizes) >= 2 and 1 <= min(sizes) and max(sizes) <= MAX_POINTS,
    f"must be layer sizes like 2,16,16,1 (inputs first, at least two, each <= {MAX_POINTS:,})",
)


# -- the points: the data flags of `train` and `eval` ---------------------------------------

DEFAULT_DATA_SEED = 1
# The flags that choose the points (argparse's names): kept in a model file's metadata, so
# `chainrule eval` can score the model on the very points it was trained and tested on.
DATA_FLAGS = tuple(io.DATA_FLAGS)


def add_flags(group: Any, table: Sequence[tuple[str, Any, str]]) -> None:
    """Add the flags of a table of (flag and its metavar, what it takes, help): a type
    (`("--samples N", points, ...)`), a list of choices, or an action (`"store_true"`).
    Defaults are the parser's (`set_defaults`), None where not set."""
    for spec, kind, text in table:
        flag, _, metavar = spec.partition(" ")
        if isinstance(kind, str):
            group.add_argument(flag, action=kind, help=text)
        elif isinstance(kind, (list, tuple)):
            group.add_argument(flag, choices=kind, metavar=metavar or None, help=text)
        else:
            group.add_argument(flag, type=kind, metavar=metavar or None, help=text)


def add_data_flags(parser: Any, data_default: str | None) -> None:
    """The flags that pick the points, shared by `train` and `eval`; the data sets are
    `chainrule.learn.data.DATASETS`."""
    g = parser.add_argument_group("data")
    default = data_default or "the one the model was trained on"
    parser.set_defaults(data=data_default)
    add_flags(g, [
        ("--data NAME", list(data.DATASETS), f"data set: {', '.join(data.DATASETS)} (default: "
         f"{default})"),
        ("--samples N", points,
         "training points to draw (default: 100; toy and digits are fixed sets)"),
        ("--noise SD", nonneg_float, "noise of the generated points (default: the data set's own)"),
        ("--classes K", at_least_two, "number of classes, for blobs and spirals"),
        ("--data-seed S", nonneg_int, f"seed of the data draw (default: {DEFAULT_DATA_SEED})"),
    ])  # fmt: skip
    add_flags(g.add_mutually_exclusive_group(), [
        ("--test-samples N", nonneg_points,
         "held-out points, a separate draw with --data-seed + 1 (default: 100; 0 for none)"),
        ("--test-fraction F", fraction,
         "hold out this fraction of the --samples points instead (digits: 0.25)"),
    ])  # fmt: skip


def required_modules(args: argparse.Namespace) -> list[str]:
    """What a run on `--data` needs installed: the data set's loader, the pictures (matplotlib
    and numpy, which the tensor engine needs too), the progress bar unless --quiet."""
    needed = [*data.DATASETS[args.data].needs, "matplotlib", "numpy"]
    return needed if getattr(args, "quiet", True) else [*needed, "tqdm"]


def load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """Training and held-out points as the flags ask, and a line that describes them; a flag
    the data set does not take is an error.

    Fills in, on `args`, the settings it resolved (`data_seed`, `samples`, `test_fraction`), so
    that the data flags record exactly the points used."""
    row = data.DATASETS[args.data]
    takes = set(inspect.signature(row.load).parameters)
    args.data_seed = DEFAULT_DATA_SEED if args.data_seed is None else args.data_seed
    if args.test_samples is None and args.test_fraction is None:
        args.test_fraction = row.defaults.test_fraction
    kwargs: dict[str, Any] = {}
    for flag, value, names in (
        ("--samples", args.samples, ("n",)),
        ("--noise", args.noise, ("noise",)),
        ("--classes", args.classes, ("centers", "classes")),
    ):
        name = next((n for n in names if n in takes), None)
        if value is not None and name is None:
            raise UsageError(f"{flag} does not apply to --data {args.data}")
        if value is not None:
            kwargs[str(name)] = value
    if "n" in takes:
        args.samples = kwargs.setdefault("n", row.defaults.samples)
    seed = {"seed": args.data_seed} if "seed" in takes else {}
    X_test = y_test = None
    with usage_errors("", ValueError):
        X, y = row.load(**kwargs, **seed)
        if args.test_fraction is not None:
            X, X_test, y, y_test = data.train_test_split(X, y, args.test_fraction, args.data_seed)
        elif args.test_samples != 0 and seed:
            n_test = args.test_samples or 100
            if "centers" in takes:
                # Where the seed places the clusters (blobs), another seed is another problem:
                # draw train and held-out points together, then split them.
                n = kwargs["n"]
                both = row.load(**dict(kwargs, n=n + n_test), **seed)
                X, X_test, y, y_test = data.train_test_split(
                    *both, n_test / (n + n_test), seed=args.data_seed
                )
            else:
                X_test, y_test = row.load(**dict(kwargs, n=n_test), seed=held_out_seed(args))
        elif args.test_samples:
            raise UsageError(
                f"--test-samples needs a generated data set; {args.data} is fixed "
                "(use --test-fraction)"
            )
    parts = [f"noise {kwargs['noise']:g}"] if "noise" in kwargs else []
    parts += [f"seed {args.data_seed}"] if seed else []
    about = f"{args.data}: {len(X)} points" + (f" ({', '.join(parts)})" if parts else "")
    if X_test is not None:
        fresh = args.test_fraction is None and "centers" not in takes
        how = f"seed {held_out_seed(args)}" if fresh else "split off"
        about += f", {len(X_test)} held-out points ({how})"
    return X, y, X_test, y_test, about


def held_out_seed(args: argparse.Namespace) -> int:
    """The seed of a separate held-out draw: the next one, within the 32 bits seeds have."""
    return int((args.data_seed + 1) % 2**32)


# -- the run folder: refused before any work if it cannot take the run, then written whole ----

RUN_FILES = ("model.json", "loss.png", "boundary.png", "confusion.png", "samples.png")
Writers = dict[str, Callable[[Path], Any]]  # file name -> what writes it, given its path


def check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, an --out that is a file or that already holds a run."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not force:
        taken = [name for name in RUN_FILES if (out / name).exists()]
        if taken:
            raise UsageError(
                f"--out {out} already holds a run ({', '.join(taken)}); "
                "pass --force to replace it, or choose another --out"
            )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {out}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK) and not out.exists():
                raise UsageError(f"--out {out}: cannot create folders in {parent}")
            break


def write_run(out: Path, writers: Writers, force: bool) -> None:
    """Write every file of the run, or none of them.

    The files are first written into a temporary folder next to `out`, which then takes the
    place of `out` in one step: a new `out` by rename; an earlier run (with --force) as a
    whole, renamed aside and then removed, so that no file of it stays beside the new ones and
    a crash leaves the old run or the new one, never a mix. A folder with files of its own,
    not a run's (or the current folder, or a link), is not replaced: the files are written
    inside it and replace the run's by rename, once all were written, and an earlier run's
    files that this run does not write are removed. A failure leaves `out` as it was.
    """
    check_out(out, force)
    with usage_errors(f"cannot write the run into {out}: ", OSError):
        out.parent.mkdir(parents=True, exist_ok=True)
        own = out.is_dir() and (
            out.is_symlink()
            or out.resolve() == Path.cwd().resolve()
            or any(p.name not in RUN_FILES for p in out.iterdir())
        )
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out if own else out.parent))
        try:
            for name, write in writers.items():
                write(stage / name)
            if own:
                for name in RUN_FILES:
                    if name in writers:
                        os.replace(stage / name, out / name)
                    else:
                        (out / name).unlink(missing_ok=True)
            else:
                mask = os.umask(0o022)  # the only portable way to read the umask is to set it
                os.umask(mask)
                os.chmod(stage, 0o777 & ~mask)  # mkdtemp makes it private (0700)
                aside = stage.with_name(f"{stage.name}.old")
                if out.exists():
                    os.rename(out, aside)
                try:
                    os.rename(stage, out)
                except OSError:
                    if aside.exists():
                        os.rename(aside, out)  # the old run back in its place
                    raise
                shutil.rmtree(aside, ignore_errors=True)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def save_run(
    out: Path, force: bool, model: Any, history: Any, metadata: dict[str, Any], more: Writers
) -> list[Path]:
    """Write the run into `out` (`write_run`): model.json, its metadata with the run's final
    numbers (and the workers of a data-parallel run), loss.png and the `more` pictures; returns
    the files written."""
    workers = getattr(history, "workers", None)  # a ParallelHistory's
    metadata = {
        **metadata,
        "threshold": history.threshold,
        "steps": history.steps,
        "final_loss": history.final_loss,
        "train_accuracy": history.final_train_accuracy,
        "test_accuracy": history.final_test_accuracy,
        "train_seconds": history.total_time,
        "seconds_per_step": history.time_per_step,
        "warnings": [w.text("cli") for w in history.warnings],
        **({} if workers is None else {"engine": "torch", "workers": workers}),
    }
    writers: Writers = {
        "model.json": lambda p: io.save(model, p, metadata=metadata),
        "loss.png": lambda p: plots.plot_history(history, p, loss=metadata.get("loss")),
        **more,
    }
    write_run(out, writers, force)
    return [out / name for name in writers]


def report(history: Any, wall: float, written: list[Path], after: str = "") -> None:
    """The last lines of a run: how long it took, and what it wrote."""
    print(
        f"time   training {history.total_time:.2f} s ({history.steps} steps, "
        f"{1e3 * history.time_per_step:.2f} ms/step); wall {time.perf_counter() - wall:.2f} s"
        + (f" {after}" if after else "")
    )
    print(f"wrote  {', '.join(map(str, written))}")


# -- a saved model: `eval` and `predict` read one the same way -----------------------------------


def load_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """The model a file holds, and its metadata; a bad file is a one-line `UsageError`."""
    with usage_errors("", io.ModelFileError):
        return io.load(path), io.read_metadata(path)


def network_inputs(path: Path, recipe: Any, points: Any) -> list[list[float]]:
    """Points in the data set's units as a playground model takes them (scaled onto the
    page's plane, then its features: `chainrule.learn.inputs`)."""
    with usage_errors(f"{path}: ", ValueError):
        return inputs.network_inputs(recipe, points)
