from pathlib import Path

import numpy as np
import pytest

from culturesim.population import Field, Population
from culturesim.random import Stream, Streams


def test_stream_slot_draws_do_not_depend_on_how_many_are_drawn():
    s = Stream(7, "quit")
    full = s.uniform(3, 100)
    assert np.array_equal(s.uniform(3, 40), full[:40])
    assert np.array_equal(s.uniform(3, 100, start=60), full[60:])
    assert np.array_equal(s.normal(3, 100, start=10)[:5], s.normal(3, 15)[10:])
    m = s.matrix16(3, 50, 4)
    assert np.array_equal(s.matrix16(3, 20, 4), m[:20])


def test_stream_draws_in_any_order_match_a_fresh_stream():
    """Draws at fixed positions: the order of the calls must not change a draw."""
    rng = np.random.default_rng(0)
    s = Stream(7, "quit")
    for _ in range(200):
        month, part, start = (int(x) for x in rng.integers(0, [5, 3, 50]))
        stop = start + int(rng.integers(0, 40))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            got, want = (
                s.uniform(month, stop, part, start),
                Stream(7, "quit").uniform(month, stop, part, start),
            )
        elif kind == 1:
            got, want = (
                s.matrix16(month, stop, 3, part),
                Stream(7, "quit").matrix16(month, stop, 3, part),
            )
        else:
            got, want = (
                s.normal(month, stop, part, start),
                Stream(7, "quit").normal(month, stop, part, start),
            )
        assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 11])
def test_stream_is_numpys_pcg64dxsm_number_for_number(seed):
    """The compiled generator gives exactly NumPy's PCG64DXSM draws at every position."""
    from culturesim.random import _name_key

    s = Stream(seed, "quit")
    base = np.random.PCG64DXSM(np.random.SeedSequence([seed, _name_key("quit")]))
    positions = [(0, 0, 0), (1, 0, 0), (3, 2, 17), (59, 1, 123_456), (120, 0, 2**31)]
    for month, part, start in positions:
        numpy_gen = np.random.PCG64DXSM()
        numpy_gen.state = base.state
        numpy_gen.advance(month * 2**40 + part * 2**32 + start)
        assert np.array_equal(
            s.uniform(month, start + 300, part, start), np.random.Generator(numpy_gen).random(300)
        )
        numpy_gen.state = base.state
        numpy_gen.advance(month * 2**40 + part * 2**32)
        raw = numpy_gen.random_raw(25)  # 100 16-bit numbers
        assert np.array_equal(s.matrix16(month, 20, 5, part).ravel(), raw.view(np.uint16))


def test_a_cursor_reads_the_same_numbers_inside_kernels():
    """Kernels read draws by slot through a cursor: the same numbers as the arrays, any gaps."""
    from numba import njit

    from culturesim.random import cursor, uniform_at

    @njit
    def uniforms(key, position, slots):
        cur, out = cursor(key, position), np.empty(slots.size)
        for r in range(slots.size):
            out[r], cur = uniform_at(cur, slots[r])
        return out

    s = Stream(7, "quit")
    slots = np.unique(np.random.default_rng(1).integers(0, 3_000, 300))  # gaps of 1 to dozens
    want = s.uniform(5, 3_000, part=1)[slots]
    assert np.array_equal(uniforms(s.key, s.position(5, part=1), slots), want)
    # gaps jumped at once (from a table up to 64, longer by _advance): around 64 and beyond
    slots = np.cumsum([0, 1, 2, 63, 64, 65, 127, 128, 129, 1_000, 1])
    want = s.uniform(5, slots[-1] + 1, part=1)[slots]
    assert np.array_equal(uniforms(s.key, s.position(5, part=1), slots), want)
    assert np.array_equal(uniforms(s.key, s.position(5, part=1), slots[1:]), want[1:])
    with pytest.raises(ValueError, match="read backwards"):  # not a silently wrong draw
        uniforms(s.key, s.position(5), np.array([10, 3]))


def test_streams_differ_by_name_month_part_and_seed():
    a = Stream(7, "quit").uniform(3, 50)
    assert not np.array_equal(a, Stream(7, "hire").uniform(3, 50))
    assert not np.array_equal(a, Stream(7, "quit").uniform(4, 50))
    assert not np.array_equal(a, Stream(7, "quit").uniform(3, 50, part=1))
    assert not np.array_equal(a, Stream(8, "quit").uniform(3, 50))
    # the same stream drawn in another order gives the same numbers (fixed positions)
    s = Streams(7)
    s["quit"].uniform(9, 10)
    assert np.array_equal(s["quit"].uniform(3, 50), a)


def test_population_grows_without_reindexing():
    pop = Population({"x": Field(float), "v": Field(float, 3)}, capacity=2)
    first = pop.add(2, x=[1.0, 2.0], v=np.ones((2, 3)))
    more = pop.add(5, x=np.arange(5.0))
    assert list(first) == [0, 1]
    assert list(more) == [2, 3, 4, 5, 6]
    assert pop.capacity >= 7
    assert pop.x[1] == 2.0
    assert pop.v[0].tolist() == [1, 1, 1]
    pop.remove(np.array([1, 3]))
    assert pop.ids.tolist() == [0, 2, 4, 5, 6]
    assert pop.count == 5
    again = pop.add(1, x=9.0)
    assert again.tolist() == [7]  # slots are never reused
    with pytest.raises(KeyError, match="unknown field"):
        pop.add(1, nope=1)


def test_every_kernel_releases_the_gil():
    """Runs in threads (a Dask worker's, the classroom's sessions) step on all cores at once."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import culturesim

    modules = [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(culturesim.__path__, "culturesim.")
        if not m.name.endswith("__main__")
    ]
    kernels = {
        f"{module.__name__}.{name}": obj.targetoptions.get("nogil", False)
        for module in modules
        for name, obj in vars(module).items()
        if isinstance(obj, CPUDispatcher)
    }
    assert len(kernels) > 40  # the users', culture, engagement, network, KPI kernels ...
    assert [name for name, nogil in kernels.items() if not nogil] == []


def test_group_by_is_a_stable_sort_by_key():
    from culturesim.compiled import group_by

    keys = np.random.default_rng(1).integers(0, 7, 500)
    start, order = group_by(keys, 9)  # keys 7 and 8 stay empty
    assert np.array_equal(order, np.argsort(keys, kind="stable"))
    assert np.array_equal(np.diff(start), np.bincount(keys, minlength=9))


def test_the_kernels_sorts_put_a_stretch_of_an_array_in_numpys_order():
    from culturesim.compiled import heap_sort, insertion_sort

    rng = np.random.default_rng(2)
    for sort in (heap_sort, insertion_sort):
        for size in (0, 1, 2, 33, 500):
            a = rng.integers(-5, 40, size + 6).astype(np.int32)  # repeats among them
            expected = a.copy()
            expected[3 : 3 + size] = np.sort(a[3 : 3 + size])
            sort(a, 3, 3 + size)  # the three elements either side stay put
            assert np.array_equal(a, expected), (sort, size)


def test_a_changed_callee_in_another_module_is_not_served_from_a_stale_cache(tmp_path):
    """Numba's cache checks a kernel's own file only; caching by the package's digest does not
    serve the old code.

    A kernel in ``caller.py`` calls one in ``callee.py``. After ``callee.py`` changes, a new
    process must compute with the new callee (Numba alone serves the old one from the cache),
    and a process still running the old code must not make later ones read its kernels.
    """
    import shutil
    import subprocess
    import sys

    from culturesim.compiled import cache_folder

    def write(package, guard):
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text(
            "from pathlib import Path\n"
            "from culturesim.compiled import cache_folder, cached_kernels\n"
            "kernel = cached_kernels(cache_folder(Path(__file__).parent))\n"
            if guard
            else "from numba import njit\n\ndef kernel(fn):\n    return njit(cache=True)(fn)\n"
        )
        write_callee(package, 1)
        (package / "caller.py").write_text(
            f"from {package.name} import kernel\nfrom {package.name}.callee import g\n\n"
            "@kernel\ndef f():\n    return g() + 10\n"
        )

    def write_callee(package, value):  # callee.py alone: Numba 0.59-0.61 took caller.py
        # written again, the same text, for a changed caller and compiled it afresh
        (package / "callee.py").write_text(
            f"from {package.name} import kernel\n\n@kernel\ndef g():\n    return {value}\n"
        )

    def f(package):
        code = f"import sys; sys.path.insert(0, sys.argv[1])\nfrom {package.name}.caller import f\n"
        out = subprocess.run(
            [sys.executable, "-c", code + "print(f())", str(package.parent)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return int(out.stdout)

    plain, guarded = tmp_path / "plain", tmp_path / "guarded"
    for package in (plain, guarded):
        write(package, guard=package is guarded)
        assert f(package) == 11
    (old,) = (guarded / "__pycache__").glob("kernels-*")
    shutil.copytree(old, tmp_path / "old-kernels")
    for package in (plain, guarded):
        write_callee(package, 2)
    # the stale cache the digest is for (should Numba ever track callees, this fails: then the
    # digest folder can go)
    assert f(plain) == 11
    assert f(guarded) == 12
    # a process still running the old code writes its kernels late: they are never read
    shutil.copytree(tmp_path / "old-kernels", old)
    assert f(guarded) == 12
    folders = list((guarded / "__pycache__").glob("kernels-*"))  # the old one is gone again
    assert [p.name for p in folders] == [cache_folder(guarded).parent.name] != [old.name]
    assert list(folders[0].rglob("*.nbi"))  # and the new kernels are cached


def test_kernels_are_cached_in_the_home_folder_when_the_package_is_read_only(tmp_path, monkeypatch):
    """An installed, read-only package caches its kernels under ~/.cache, by digest too."""
    from culturesim.compiled import cache_folder

    package = tmp_path / "site" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__pycache__").write_text("")  # not a folder: nothing can be made in it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = cache_folder(package)
    assert folder is not None and folder.is_dir()
    assert folder.parent.parent == tmp_path / "home" / ".cache" / "culturesim"
    assert folder.parent.name.startswith("pkg-kernels-")
    (package / "__init__.py").write_text("x = 1\n")
    newer = cache_folder(package)
    assert newer != folder and not folder.parent.exists()  # a new digest; the old one is gone


def test_each_numba_caches_the_kernels_in_a_folder_of_its_own(tmp_path, monkeypatch):
    """Numba reads only its own version's index, but a file it names could hold code another
    Numba left there (0.59 reading 0.68's stops on "LLVM bitcode parsing error"). Two
    Numbas' kernels of one source are cached side by side; an old source's are removed."""
    import numba

    from culturesim.compiled import cache_folder

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    ours = cache_folder(package)
    monkeypatch.setattr(numba, "__version__", "0.1.0")
    theirs = cache_folder(package)
    assert theirs.parent == ours.parent and theirs != ours and ours.is_dir() and theirs.is_dir()
    (package / "__init__.py").write_text("x = 1\n")
    newer = cache_folder(package)  # a new digest: both Numbas' old kernels are gone
    assert newer.is_dir() and not ours.parent.exists()


def test_a_read_only_package_with_no_home_folder_compiles_without_a_cache(tmp_path, monkeypatch):
    """A container's user with no passwd entry and no HOME (OpenShift's arbitrary user ids):
    ``Path.home()`` raises, which stopped ``import culturesim`` of a read-only install."""
    from pathlib import Path

    from culturesim.compiled import cache_folder

    package = tmp_path / "site" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__pycache__").write_text("")  # not a folder: nothing can be made in it

    def no_home(cls):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert cache_folder(package) is None


def test_warm_compiles_every_kernel_a_run_needs():
    """``python -m culturesim.warm`` (the Makefile runs it after installing) compiles the kernels
    a run needs: after it, a run at the baseline's own size with an event of every kind, one
    with a scale-free market, and the classic models `culturesim dock` runs (Deffuant's update
    of one pair compiled apart) compile none (in a new process: one that compiled kernels for
    another test would hide a missed one). It warns of nothing: its small runs' notices (a small
    company's cash running out) are no news to whoever is installing."""
    import subprocess
    import sys

    code = (
        "from numba.core import event\n"
        "from culturesim import load_scenario, simulate\n"
        "from culturesim.warm import warm, with_every_event\n"
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    warm()\n"
        "print([str(w.message) for w in caught])\n"
        "compiled = event.RecordingListener()\n"
        "event.register('numba:compile', compiled)\n"
        "baseline = load_scenario('baseline')\n"
        "simulate(with_every_event(baseline), seed=4)\n"
        "simulate(baseline.with_changes({'market.user_network': 'scale_free'}), seed=4, months=2)\n"
        "from culturesim.classics.dock import run_checks\n"
        "run_checks(quick=True)\n"
        "print(sorted({e.data['dispatcher'].py_func.__name__ for _, e in compiled.buffer}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    warned, compiled = out.stdout.strip().splitlines()
    assert warned == "[]", warned
    assert compiled == "[]", compiled


#: A package of one cached kernel (float on float arrays, integer on integer ones).
KERNEL_PACKAGE = (
    "from pathlib import Path\n"
    "from culturesim.compiled import cached_kernels\n\n"
    "@cached_kernels(Path(__file__).parent / 'cache')\n"
    "def f(a):\n"
    "    return a.sum() + a[0]\n"
)


#: Lines that print ``f``'s value on ``a`` and whether this process compiled it or loaded it.
CALL_AND_SAY_HOW = (
    "from numba.core import event\n"
    "compiled = event.RecordingListener()\n"
    "event.register('numba:compile', compiled)\n"
    "value = f(a)\n"
    "print(repr(value), 'compiled' if compiled.buffer else 'loaded')\n"
)


def cached_kernel_package(package: Path) -> Path:
    """Write :data:`KERNEL_PACKAGE` as ``package`` (its kernels cached in its ``cache``)."""
    package.mkdir()
    (package / "__init__.py").write_text(KERNEL_PACKAGE)
    return package


def test_a_kernel_read_while_another_process_saves_it_is_read_whole(tmp_path):
    """Numba saves a kernel's index before the code it names and reads both unlocked: a process
    reading between the two reads what the named file held before, say another Numba's code
    (0.59 reading 0.68's stops on "LLVM bitcode parsing error": the likely cause of a child
    process exiting 1 once in `make test-oldest` after `make test`, two Numbas, one cache). Here a
    process reads a kernel while another saves it, its source changed since the cache holds a
    float kernel under that name: unlocked, it ran the float code on an integer array and gave
    1.5e-323 for 3. (Unlocked, it now compiles the kernel instead, as the code read is for
    another signature: see the next test. With the lock it waits for the save and loads it.)"""
    import subprocess
    import sys
    import time

    package = cached_kernel_package(tmp_path / "racing")
    call = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "role, here = sys.argv[1], Path(sys.argv[2])\n"
        "sys.path.insert(0, str(here))\n"
        "from racing import f\n"
        "def wait_for(name, seconds):\n"
        "    for _ in range(int(seconds * 20)):\n"
        "        if (here / name).exists(): return\n"
        "        time.sleep(0.05)\n"
        "if role == 'saver':  # it pauses between index and code till the reader has read\n"
        "    from numba.core.caching import IndexDataCacheFile\n"
        "    save = IndexDataCacheFile._save_data\n"
        "    def paused(self, name, data):\n"
        "        (here / 'indexed').touch()\n"
        "        wait_for('reading', 120)\n"
        "        wait_for('reader', 3)  # its output: a reader the lock holds off gives none\n"
        "        save(self, name, data)\n"
        "    IndexDataCacheFile._save_data = paused\n"
        "if role == 'reader':\n"
        "    (here / 'reading').touch()\n"
        "a = np.ones(3) if role == 'first' else np.arange(3)\n"
        + CALL_AND_SAY_HOW
        + "(here / role).touch()\n"
    )

    def start(role):
        return subprocess.Popen(
            [sys.executable, "-c", call, role, str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def result(proc):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        return out.strip()

    assert result(start("first")) == "4.0 compiled"  # cached: the float kernel, file 1
    (package / "__init__.py").write_text(KERNEL_PACKAGE + "# changed\n")  # the index is stale
    saver = start("saver")  # compiles the integer kernel, names file 1, pauses
    for _ in range(2400):
        if (tmp_path / "indexed").exists() or saver.poll() is not None:
            break
        time.sleep(0.05)
    assert (tmp_path / "indexed").exists(), saver.communicate()[1]
    assert result(start("reader")) == "3 loaded"  # what the saver saved, whole
    assert result(saver) == "3 compiled"


def test_a_kernel_whose_save_was_killed_between_index_and_code_is_compiled_again(tmp_path):
    """A save killed after the index and before the code (Ctrl-C, an out-of-memory kill) left an
    index naming a file of the stale index: the float kernel's code, run on an integer array
    (1.5e-323 for 3). Code read for a signature is used only if it was compiled for it, and a
    file that cannot be read back is compiled again (it stopped the run)."""
    import subprocess
    import sys

    package = cached_kernel_package(tmp_path / "killed")
    call = (
        "import os, sys\n"
        "import numpy as np\n"
        "role = sys.argv[1]\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from killed import f\n"
        "if role == 'killed':  # the index is written, then the process dies\n"
        "    from numba.core.caching import IndexDataCacheFile\n"
        "    IndexDataCacheFile._save_data = lambda self, name, data: os._exit(9)\n"
        "a = np.ones(3) if role == 'first' else np.arange(3)\n"
    ) + CALL_AND_SAY_HOW

    def run(role):
        return subprocess.run(
            [sys.executable, "-c", call, role, str(tmp_path)], capture_output=True, text=True
        )

    def said(role):
        out = run(role)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert said("first") == "4.0 compiled"  # cached: the float kernel, file 1
    (package / "__init__.py").write_text(KERNEL_PACKAGE + "# changed\n")  # the index is stale
    assert run("killed").returncode == 9  # the integer kernel indexed under file 1, not saved
    assert said("again") == "3 compiled"
    assert said("again") == "3 loaded"  # and saved this time
    for code in (package / "cache").rglob("*.nbc"):  # a file that cannot be read back: a miss
        code.write_bytes(b"cut short")
    assert said("again") == "3 compiled"
    assert said("again") == "3 loaded"  # saved over it


def test_a_kernel_whose_cache_cannot_be_written_runs_and_says_so_once(tmp_path, monkeypatch):
    """A full disk where the kernels are cached failed a run that writes nothing (`culturesim
    run` without --out: "cannot write: No space left on device"): Numba raised its cache
    file's error from the kernel's first call."""
    import errno
    import warnings

    from numba.core.caching import IndexDataCacheFile

    from culturesim import compiled
    from culturesim.notices import KernelCacheWarning

    def full(self, name, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(IndexDataCacheFile, "_save_data", full)
    monkeypatch.setattr(compiled, "CACHE_ERRORS", set(), raising=False)
    kernel = compiled.cached_kernels(tmp_path)

    @kernel
    def twice(x):
        return 2 * x

    @kernel
    def thrice(x):
        return 3 * x

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert twice(21) == 42 and thrice(2) == 6 and twice(2.5) == 5.0  # three compilations
    assert [w.category for w in said] == [KernelCacheWarning], said  # once, not thrice
    assert str(said[0].message) == (
        f"cannot cache the compiled kernels in {tmp_path}: No space left on device: each new "
        "process compiles them again (half a minute or more); free some space"
    )
    assert not list(tmp_path.rglob("*.nbc"))  # nothing half-written left
    monkeypatch.undo()  # space freed: the next compilation is cached
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert thrice(2.5) == 7.5
    assert not said and list(tmp_path.rglob("*.nbc"))


def test_a_sweeps_run_keeps_its_kernel_cache_warning_for_the_sweep_to_say(tmp_path, monkeypatch):
    """A sweep's worker processes each warned in Python's two-line form ("compiled.py:162:
    KernelCacheWarning: ..." and the line of code under it), on a Dask cluster out of sight
    in another machine's log: a run whose notices are kept quiet keeps this warning too, for
    the sweep to say once (run_one hands it back)."""
    import errno
    import warnings

    from numba.core.caching import IndexDataCacheFile

    from culturesim import compiled, load_scenario
    from culturesim.batch.sweep import run_one
    from culturesim.notices import notices_kept_quiet

    def full(self, name, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(IndexDataCacheFile, "_save_data", full)
    monkeypatch.setattr(compiled, "CACHE_ERRORS", set(), raising=False)
    monkeypatch.setattr(compiled, "_WARNED", set(), raising=False)

    @compiled.cached_kernels(tmp_path)
    def twice(x):
        return 2 * x

    with warnings.catch_warnings(record=True) as said, notices_kept_quiet():
        warnings.simplefilter("always")
        assert twice(21) == 42
    assert not said
    message = (
        f"cannot cache the compiled kernels in {tmp_path}: No space left on device: each new "
        "process compiles them again (half a minute or more); free some space"
    )
    assert {message} == compiled.CACHE_ERRORS
    frame = run_one(load_scenario("baseline").to_dict(), {}, 0, 1, ["headcount"])
    assert frame.attrs["uncached"] == [message]
    with warnings.catch_warnings(record=True) as said:  # the sweep says it, once
        warnings.simplefilter("always")
        compiled.warn_uncached(message)
        compiled.warn_uncached(message)
    assert [str(w.message) for w in said] == [message]
