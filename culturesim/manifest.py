"""Manifests: the ``manifest.json`` every output folder carries, enough to reproduce it.

Every command that writes a folder (``run``, ``sweep``, ``compare``, ``dock --figures``) starts
its manifest with :func:`provenance`: which command wrote it (``kind``), with which code
(version, git commit, digest of the sources, Python and the packages the numbers depend on) and
the command line. The rest (scenarios, seeds, months, times) is the command's own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from culturesim.interrupts import held

__all__ = [
    "DERIVED",
    "KINDS",
    "RECORDED_PACKAGES",
    "made_folder",
    "maker",
    "now",
    "other_code",
    "provenance",
    "results_kind",
    "running_code",
    "same_folder",
    "scenario_record",
    "set_command_line",
    "why_refused",
    "write_files",
    "write_json",
]

#: The commands that write folders, as a manifest's ``kind`` names them (``analyze`` and
#: ``report`` write one of their own only with ``--out``: else they write into a sweep's).
KINDS = ("run", "sweep", "compare", "dock", "analyze", "report")
#: The kinds whose files derive from a sweep: their own folder's manifest holds the sweep's.
DERIVED = ("analyze", "report")

_command_line: list[str] | None = None  # None: written from Python (a notebook's run_sweep)


def set_command_line(argv: list[str] | None) -> None:
    """Record the culturesim command line now running (``culturesim.cli.main`` does).

    ``None`` when it has returned: a folder written from Python after it (a notebook's
    ``run_sweep``) has no command line.
    """
    global _command_line
    _command_line = None if argv is None else ["culturesim", *argv]


#: The installed packages whose versions a manifest records: the numbers depend on them too.
RECORDED_PACKAGES = ("numpy", "numba", "mesa", "networkx", "scipy", "SALib")


def provenance(kind: str) -> dict:
    """What every manifest starts with: what wrote it, with which code, how.

    Args:
        kind: Which command's results the folder holds (one of :data:`KINDS`).
    """
    from culturesim import __version__

    return {
        "kind": kind,
        "culturesim_version": __version__,
        "git_commit": git_commit(),
        "command": _command_line,
        **running_code(),
    }


@functools.cache
def _package_versions() -> tuple[tuple[str, str | None], ...]:
    """Each of :data:`RECORDED_PACKAGES` with its version (read once: a few ms a package)."""
    return tuple((name, _version(name)) for name in RECORDED_PACKAGES)


def running_code() -> dict:
    """The code this process computes with, as manifests and a sweep's runs record it.

    ``code_digest``: the digest of culturesim's sources (the code itself, where there is no git
    commit); ``python`` and ``packages``: the versions the numbers also depend on (NumPy's
    generator and arrays, Numba's compiler, Mesa's model, networkx's founding ties over Python's
    random, and the designs of sweeps: SciPy's Latin hypercube, SALib's Sobol and Morris samples).
    """
    from culturesim.compiled import SOURCE_DIGEST

    return {
        "code_digest": SOURCE_DIGEST,
        "python": platform.python_version(),
        "packages": dict(_package_versions()),
    }


def other_code(recorded: dict) -> str:
    """How the code ``recorded`` (as :func:`running_code` says it) differs from this process's.

    Only what ``recorded`` holds is compared (older manifests hold no digest or packages).

    Returns:
        The differences in words, ``""`` if there are none.
    """
    here = running_code()
    said = []
    if recorded.get("code_digest", here["code_digest"]) != here["code_digest"]:
        said.append(f"culturesim code digest {recorded['code_digest']}, here {here['code_digest']}")
    if recorded.get("python", here["python"]) != here["python"]:
        said.append(f"Python {recorded['python']}, here {here['python']}")
    for name, version in (recorded.get("packages") or {}).items():
        if name in here["packages"] and version != here["packages"][name]:
            said.append(f"{name} {version}, here {here['packages'][name]}")
    return "; ".join(said)


def scenario_record(scenario, path: str | Path, changes: dict | None = None) -> dict:
    """A scenario as a manifest records it: name, file, hash and the whole scenario.

    Args:
        scenario: The scenario as run (``changes`` applied).
        path: The file (or name) it was read from.
        changes: The changes made to the file's scenario (``--set``), recorded when any.
    """
    record = {
        "scenario_name": scenario.meta.name,
        "scenario_file": str(path),
        "scenario_hash": scenario.digest(),
        "scenario": scenario.to_dict(),
    }
    if changes:
        record["scenario_changes"] = dict(changes)
    return record


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished sweep: its manifest says so and its results are there.

    Light to import (no pandas), so that the commands reading a sweep folder check it before
    they load what reading it takes.
    """
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return sweep_complete(manifest, Path(folder))


def sweep_complete(manifest: object, folder: Path) -> bool:
    """Whether the sweep of ``manifest`` (read from ``folder``) finished, its results there."""
    finished = isinstance(manifest, dict) and manifest.get("status") == "complete"
    results = ("runs.parquet", "timeseries.parquet")
    return finished and all((folder / name).is_file() for name in results)


def results_kind(folder: Path) -> str | None:
    """What ``folder``'s manifest says wrote it: its ``kind``, "unknown", or None (no manifest)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "unknown"
    if not isinstance(manifest, dict):
        return "unknown"
    if "kind" in manifest:
        return str(manifest["kind"])
    if "experiment" in manifest:  # written before manifests said their kind
        return "sweep"
    return "run" if "seeds" in manifest else "unknown"


def why_refused(folder: Path, kind: str, also: tuple[str, ...] = ()) -> str:
    """Why ``kind``'s files may not go into ``folder``, or "" if they may.

    A folder holding another command's results is refused (its manifest would be replaced),
    and so is one whose ``manifest.json`` cannot be read. A folder of ``kind``'s own results
    may be written again, and so may those of ``also`` (commands whose files are among
    ``kind``'s: a report's include analyze's). A folder that does not exist yet may be.
    """
    found = results_kind(folder) if folder.is_dir() else None
    if found == "unknown":
        return (
            f"{folder}: holds a manifest.json culturesim cannot read (damaged, or another "
            "program's); choose another folder"
        )
    if found not in (None, kind, *also):
        return f"{folder}: holds results of {maker(found)}; choose another folder"
    return ""


def maker(kind: str | None) -> str:
    """The command a manifest's ``kind`` names, for a message."""
    return f"culturesim {kind}" if kind in KINDS else "something else"


@contextlib.contextmanager
def made_folder(folder: Path) -> Iterator[None]:
    """Make ``folder`` (and its missing parents) for the block.

    If the block fails or is interrupted, the folders made here are removed again (those
    still empty), so nothing is left behind.

    Raises:
        OSError: If the folder cannot be made.
    """
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)  # failing part-way: the parents made go too
        yield
    except BaseException:
        for empty in made:
            with contextlib.suppress(OSError):
                empty.rmdir()  # only if still empty
        raise


#: Errors of a disk that cannot take a file: full, over quota, read-only, a file-size limit,
#: failing.
DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO)


def probe_folder(folder: Path) -> None:
    """Write a small file into ``folder``, flush it to disk and remove it.

    So that a disk that takes nothing (full, read-only, another user's folder) fails a command
    before its computation, not after. A disk with a little room passes, and the command's
    own writes may still fail (they leave nothing behind either: :func:`write_files`).

    Raises:
        OSError: As writing there would, naming ``folder``: any error making the file, and
            the errors of a disk that cannot take one (:data:`DISK_ERRORS`) writing it.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=".culturesim-probe-", dir=folder)
    except OSError as exc:  # name the folder, as write_files does
        raise type(exc)(exc.errno, exc.strerror, str(folder)) from None
    try:
        os.write(fd, b"culturesim")
        os.fsync(fd)  # a full disk may take the write and fail the flush
    except OSError as exc:
        if exc.errno in DISK_ERRORS:
            raise type(exc)(exc.errno, exc.strerror, str(folder)) from None
    finally:  # other errors (a file system without fsync) are left to the command's writes
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)


def same_folder(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one folder.

    By path (symlinks resolved), or, where both exist, as one folder on disk (a bind mount of
    it elsewhere, say).
    """
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist (yet)
        return False


def now() -> str:
    """The time now (UTC, ISO 8601, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` whole (a temporary name beside it, then renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with replaced_whole(path, tmp):
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")


@contextlib.contextmanager
def replaced_whole(path: Path, tmp: Path) -> Iterator[None]:
    """Write ``tmp`` in the block, then rename it to ``path``: ``path`` is whole or as it was.

    A block that fails (a full disk, a Ctrl-C) removes ``tmp``: nothing cut short is left.
    """
    try:
        yield
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_files(out: Path, writers: dict[str, Callable[[Path], object]]) -> None:
    """Write each file into ``out`` by its writer: all made beside it first, then moved in.

    The files are moved in (renamed) only once every one is written, so a failure or an
    interruption while writing leaves the folder as it was; and they are moved in holding a
    lock on the folder, so that two commands writing one folder at once (two ``run --out``
    with the same folder) leave the files of one of them, not a mix; a stop signal or Ctrl-C
    the program handles (:func:`culturesim.interrupts.held`) waits for the last of them, so it
    cannot leave a mix of the new files and an earlier run's either.

    Args:
        out: An existing folder.
        writers: For each file's name, a function that writes it to the path it is given.

    Raises:
        OSError: If ``out`` cannot be written (named as the error's file) or a writer fails.
    """
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".culturesim-", dir=out))
    except OSError as exc:  # name the folder, not the temporary name inside it
        raise type(exc)(exc.errno, exc.strerror, str(out)) from None
    try:
        for name, write in writers.items():
            write(tmp / name)
        with _folder_lock(out), held():  # a Ctrl-C waits for the last one (microseconds)
            for name in writers:
                os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold the operating system's lock (``flock``) on ``folder`` itself, waiting for it.

    On a file system without locks, or a system without ``flock`` (Windows), the block runs
    unlocked (its renames take milliseconds).
    """
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)  # Windows cannot open a folder so
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):  # no locks here: go on
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def git_commit() -> str | None:
    """The git commit of the code, if it runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(package: str) -> str | None:
    """The installed version of ``package`` (None if it is not installed)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
