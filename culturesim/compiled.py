"""Compiled kernels: where one loop over the staff beats a chain of array expressions.

Most of culturesim is NumPy array expressions. A month at 10,000 employees is nonetheless about
a thousand passes over arrays of 20,000-30,000 rows, each allocating its result, and network
work (building the adjacency, breadth-first search) is a chain of sorts and scatters. Where a
process's per-person arithmetic or a graph walk is on the hot path it is written once as a loop
compiled with Numba: one pass, no temporaries. The loop reads like the equations it replaces, and
the module docstrings keep the equations.

Two things cost more than they look inside a kernel, and each was worth a 2x on a hot loop:

* **Row views.** ``values[i]`` (a row of a 2-D array) and writing through one (``out[r] = ...``,
  ``row[:] = v``) make an array object each time; pass the array and the row index instead
  (``value_fit(values, i, core)``, ``deffuant_update(x, i, other, j, ...)``) and loop over the
  columns.
* **Branches on random draws.** ``if draw < p: ... elif ...`` per (person, dimension) is
  mispredicted as often as the draws say; write the choice as selects
  (``b = x if draw < p else b``), which the compiler turns into branch-free code.

Kernels release Python's GIL (``nogil``): two runs in two threads of one process (a Dask
worker's threads, the classroom's sessions in the web server) step on two cores at once, 1.9x
as fast as one after the other for the baseline; they would take turns otherwise.

Kernels are compiled on first use and cached on disk, so only the first run on a machine pays
the compile time (half a minute to a minute; ``python -m culturesim.warm``, which the Makefile
runs after installing, pays it ahead). Inside a kernel, NumPy's sorts (``np.sort``,
``np.unique``, ``np.argsort``), ``np.repeat`` and an array's ``max()`` cost seconds of compile
time each for a few lines' work: kernels use :func:`group_by`, :func:`insertion_sort`,
:func:`heap_sort` and loops instead (50 -> 31 s for the whole model, the same numbers).

Kernels are compiled without ``fastmath``: the compiler keeps the order of floating-point
operations as written, so a run is reproducible to the bit on a machine. They use NumPy's error
model: a division by zero gives an infinity or NaN instead of raising ZeroDivisionError.
Python's model checks every division so that it can raise, and the check kept the compiler from
folding small callees such as ``value_fit`` into their loops: engagement, the quit draw and the
staff KPIs ran 12-33% slower with it, to the same numbers. No kernel divides by zero on
purpose; the invariant tests check that no KPI is ever NaN or infinite.

Exponentials, logarithms, powers and the normal distribution come from
:mod:`culturesim.portable`, in kernels and in Python alike: not from NumPy, which picks its
kernels by CPU (on AVX-512 its ``exp`` and ``log1p`` differ from the C library's in the last bit
for 5-9% of inputs), nor from the C library (glibc picks its own by CPU, with or without FMA;
other systems have other ones) or SciPy, which calls it. Ruff's banned-API rule
(``pyproject.toml``) keeps them out of the package (the web UI's display aside); a test runs a
scenario with NumPy and glibc held to their kernels for old CPUs and asks for the same numbers.

To step through a kernel in a debugger, set ``NUMBA_DISABLE_JIT=1``: every kernel then runs
as the Python it is written in. It is for debugging, not for runs: the baseline's first six
months took 32 s instead of 0.6, NumPy warns of overflow in the random streams' 64-bit
arithmetic (which wraps by design, as it does compiled), and the numbers agree with the
compiled ones to about 3e-8, relative, not to the bit (the head counts, hires, quits, ideas and
launches were the same: a NumPy function a kernel calls is Numba's implementation of it
compiled, and NumPy's own in Python).

Numba checks a cached kernel against its own source file only: a kernel that calls a kernel
from another module (``value_fit``, ``group_by``, the random streams' cursors) would keep the
old callee compiled in after that module changed, say after a ``git pull`` or an upgrade, and
silently compute with old code. So the kernels are cached in a folder named by a digest of all
the package's sources (:func:`cache_folder`): any change to any source means a new, empty folder
(one recompile), and an old cache can never be read by new code, not even one written late by a
process still running the old code; within it, each Numba version has a folder of its own.
Processes that share the cache (a sweep's workers, the test suite's) take a lock per kernel to
read or save it, which Numba does not. A cache file that cannot be written (a full disk or
quota) does not fail the run: the kernel runs uncached, and the process warns once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numba
import numpy as np
from numba import config, njit
from numba.core.caching import FunctionCache
from numba.core.sigutils import normalize_signature

from culturesim.notices import KernelCacheWarning, notices_quiet

try:
    import fcntl  # not on Windows
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = [
    "CACHE_ERRORS",
    "CACHE_FOLDER",
    "SOURCE_DIGEST",
    "cache_folder",
    "cached_kernels",
    "group_by",
    "heap_sort",
    "insertion_sort",
    "kernel",
    "kernels_cached",
    "source_digest",
    "unwarned",
    "warn_uncached",
]

_PACKAGE = Path(__file__).resolve().parent


def source_digest(package: Path = _PACKAGE) -> str:
    """A digest of all of ``package``'s Python sources: which code computes a run.

    Two installs give the same numbers for the same scenario and seed when their digests agree
    (and their NumPy and Numba do); a sweep checks that its workers' digest is its own.
    """
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_folder(package: Path = _PACKAGE, digest: str | None = None) -> Path | None:
    """The folder ``package``'s kernels are cached in: by the digest of its sources, by Numba.

    ``__pycache__/kernels-<digest>/numba-<version>`` inside the package, or, where the
    package's folder is read-only (an installed release),
    ``~/.cache/culturesim/<package>-kernels-<digest>/numba-<version>``; the first writable one
    is made and returned, and folders of other digests beside it are removed (as are kernels
    cached by earlier versions straight in ``__pycache__``). None if neither is writable, or
    there is no home folder (a container's user with no passwd entry and no ``HOME``): then
    kernels are compiled in every process, not cached.

    Each Numba has a folder of its own: Numba reads only its own version's index, but a file
    that index names could hold another version's code, left there by it (after an upgrade;
    by the other venv of ``make test-oldest``), which a save stopped between index and code
    would leave named. In its own folder every file is one its reader's Numba wrote, and two
    venvs' kernels stay cached side by side.
    """
    digest = digest or source_digest(package)  # the package's, unless known already
    for pattern in ("__pycache__/*.nb[ic]", "__pycache__/kernels.digest"):  # the old layout
        for stale in package.rglob(pattern):
            with contextlib.suppress(OSError):
                stale.unlink()
    places = [(package / "__pycache__", "kernels-")]
    with contextlib.suppress(RuntimeError):  # no home: HOME unset, a user with no passwd entry
        places.append((Path.home() / ".cache" / "culturesim", f"{package.name}-kernels-"))
    for base, prefix in places:
        folder = base / (prefix + digest) / f"numba-{numba.__version__}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()  # writable?
        except OSError:
            continue
        for other in base.glob(prefix + "*"):
            if other != folder.parent:  # older (or newer) code's kernels: never to be read again
                shutil.rmtree(other, ignore_errors=True)
        return folder
    return None


class _KernelCache(FunctionCache):
    """Numba's on-disk cache of one kernel: safe to share between processes, not failing a run.

    Numba saves a kernel's index (signature -> file name) before the compiled code it names,
    and reads both without a lock: a process reading between the two read whatever the named
    file still held, another signature's code or another Numba's (Numba 0.59 reading 0.68's
    stops on "LLVM bitcode parsing error"), and may run it on arguments of another type
    (a float kernel summing an integer array gave 1.5e-323 for 3). So each kernel's cache has
    a lock file beside its index: a process holds it shared to read the kernel, exclusive to
    save it (``flock``; where there is none, as on Windows, or the lock file cannot be made,
    unguarded, as Numba is). A save killed between the two (Ctrl-C, an out-of-memory kill)
    still leaves an index naming a file of the stale index it replaced (after a source change,
    or with Numba 0.59 a ``touch`` of the kernel's file: it stamps a source by time and size):
    so code read for a signature is used only if it was compiled for that signature, and a
    file that cannot be read back is a miss too (compiled again, and saved over it). Where
    there is no lock, the same check keeps a reader in the gap from running another
    signature's code (it compiles instead; a folder holds one source's kernels, one Numba's).

    Numba raises the error of a cache file it cannot write (a full disk, a quota) from the
    kernel's first call: a run that writes nothing stopped with "cannot write: No space left on
    device". Here the kernel runs, compiled but not cached, and the process warns once
    (:class:`~culturesim.notices.KernelCacheWarning`). Numba removes its half-written file.
    """

    def __init__(self, py_func, folder: Path):
        super().__init__(py_func)
        self.folder = folder  # what to name: the cache path is this folder's subfolder
        self.lock_path = Path(self._cache_path) / f"{self._impl.filename_base}.lock"

    def load_overload(self, sig, target_context):
        """The kernel compiled for ``sig`` if it is cached, else None; read while none saves."""
        with _locked(self.lock_path, exclusive=False):
            try:
                cres = super().load_overload(sig, target_context)
            except Exception:  # a file cut short, or not this Numba's: compiled anew
                return None
        if cres is not None and tuple(cres.signature.args) != normalize_signature(sig)[0]:
            return None  # another signature's code, named by a save killed half-way
        return cres

    def save_overload(self, sig, data):
        """Save the compiled ``data`` for ``sig``, or warn that it could not be."""
        try:
            self._impl.locator.ensure_cache_path()  # the lock's folder
            with _locked(self.lock_path, exclusive=True):
                super().save_overload(sig, data)
        except OSError as exc:
            _cannot_cache(exc, self.folder)


@contextlib.contextmanager
def _locked(path: Path, *, exclusive: bool):
    """Hold ``path``'s ``flock``, shared or ``exclusive``, for the block, where it can be.

    Unguarded where there is no ``flock`` or the lock file cannot be made (the folder gone,
    the disk full): what the block does then is as safe as Numba alone makes it.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644) if fcntl else None
    except OSError:
        fd = None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)  # until closed
        yield
    finally:
        if fd is not None:
            os.close(fd)


#: Why kernels of this process could not be cached (the warnings' words), if any could not.
CACHE_ERRORS: set[str] = set()
_WARNED: set[str] = set()  # the warnings this process gave, its own or its sweep's workers'


def _cannot_cache(exc: OSError, folder: Path) -> None:
    """Warn, once a process, that kernels cannot be cached in ``folder`` and what it costs."""
    said = os.strerror(exc.errno) if exc.errno else str(exc)
    space = exc.errno in (errno.ENOSPC, errno.EDQUOT)  # a disk or a quota full
    message = (
        f"cannot cache the compiled kernels in {folder}: {said}: each new process compiles "
        f"them again (half a minute or more){'; free some space' if space else ''}"
    )
    CACHE_ERRORS.add(message)
    warn_uncached(message)


def warn_uncached(message: str) -> None:
    """Warn of ``message``, that kernels could not be cached, unless this process did already.

    Not in a sweep's run (:func:`culturesim.notices.notices_kept_quiet`): its worker's output
    is out of sight (Python's two-line form under the progress bar, a Dask worker's log on
    another machine). The sweep warns of those its runs bring back
    (``culturesim.batch.sweep.run_one``: its process's :data:`CACHE_ERRORS`), once each.
    """
    if notices_quiet() or message in _WARNED:
        return
    _WARNED.add(message)
    warnings.warn(message, KernelCacheWarning, stacklevel=3)


def unwarned(messages: list[str]) -> list[str]:
    """Those of ``messages`` (see :func:`warn_uncached`) this process has not warned of yet."""
    return [m for m in messages if m not in _WARNED]


def cached_kernels(folder: Path | None):
    """A decorator compiling functions with Numba (nopython, no GIL held), cached in ``folder``.

    Numba puts a function's cache under its ``CACHE_DIR`` when one is set, read once as the
    function is decorated; it is set to ``folder`` for that moment only, so other packages'
    caching is left as it was. A cache file that cannot be written is warned of, not raised
    (:class:`_KernelCache`).
    """

    def compile_cached(fn):
        if folder is None:
            return njit(nogil=True, error_model="numpy")(fn)
        before = config.CACHE_DIR
        config.CACHE_DIR = str(folder)
        try:
            dispatcher = njit(nogil=True, error_model="numpy")(fn)
            dispatcher._cache = _KernelCache(dispatcher.py_func, folder)  # cache=True, guarded
            return dispatcher
        finally:
            config.CACHE_DIR = before

    return compile_cached


#: This package's :func:`source_digest`, read once at import.
SOURCE_DIGEST = source_digest()

#: Where this code's kernels are cached (:func:`cache_folder`; None: not cached).
CACHE_FOLDER = cache_folder(digest=SOURCE_DIGEST)

#: Compile ``fn`` with Numba in nopython mode, cached on disk (see :func:`cache_folder`).
kernel = cached_kernels(CACHE_FOLDER)


def kernels_cached() -> bool:
    """Whether this code's kernels are cached yet: if not, the next run compiles them.

    False after an install or any change to the sources (until a run or ``python -m
    culturesim.warm`` has compiled them), and always where there is no cache folder.
    """
    return CACHE_FOLDER is not None and any(CACHE_FOLDER.rglob("*.nbi"))


@kernel
def group_by(keys, n_keys):
    """Group positions by key with a counting sort (stable, O(n + n_keys)).

    Args:
        keys: A key in ``0 .. n_keys - 1`` for each position.
        n_keys: Number of possible keys.

    Returns:
        ``start`` (``n_keys + 1`` offsets) and ``order``: the positions with key ``k`` are
        ``order[start[k]:start[k + 1]]``, in their original order.
    """
    start = np.zeros(n_keys + 1, np.int64)
    for k in keys:
        start[k + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    cursor = start[:-1].copy()
    order = np.empty(keys.size, np.int64)
    for i in range(keys.size):
        order[cursor[keys[i]]] = i
        cursor[keys[i]] += 1
    return start, order


@kernel
def insertion_sort(a, first, end):
    """Sort ``a[first:end]`` in place (fastest for a few elements, such as a person's ties)."""
    for i in range(first + 1, end):
        v = a[i]
        j = i - 1
        while j >= first and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@kernel
def heap_sort(a, first, end):
    """Sort ``a[first:end]`` in place in O(k log k) for k elements.

    For the kernels' integer rows; NumPy's ``np.sort`` inside a kernel gives the same order but
    takes several seconds more to compile (its quicksort and the slicing's checks).
    """
    n = end - first
    for root in range(n // 2 - 1, -1, -1):  # a max-heap
        _sift_down(a, first, root, n)
    for last in range(n - 1, 0, -1):  # the largest to the back, the heap shrinks
        a[first], a[first + last] = a[first + last], a[first]
        _sift_down(a, first, 0, last)


@kernel
def _sift_down(a, first, root, n):
    """Move ``a[first + root]`` down the heap of ``n`` elements at ``first`` to its place."""
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and a[first + child] < a[first + child + 1]:
            child += 1
        if a[first + root] >= a[first + child]:
            return
        a[first + root], a[first + child] = a[first + child], a[first + root]
        root = child
