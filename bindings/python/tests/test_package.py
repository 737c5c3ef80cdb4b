"""The package itself: the library it opened, the borrowed interpreter, one Job class,
errors as exceptions carrying the library's code and message."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jobreg
from jobreg import _errors
from jobreg._ffi import lib
from conftest import write_tree


def run_python(code, **env):
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=120)


def test_the_library_comes_from_jobreg_library_when_set():
    if os.environ.get("JOBREG_LIBRARY"):
        assert jobreg.LIBRARY_PATH == os.environ["JOBREG_LIBRARY"]
    else:  # an installed package: the loader's search, or where it was installed
        from jobreg import _ffi

        assert jobreg.LIBRARY_PATH in (_ffi.SONAME, _ffi._installed_library())


def test_a_jobreg_library_that_cannot_be_loaded_fails_the_import_and_says_why(tmp_path):
    missing = tmp_path / "nothing.so"
    proc = run_python("import jobreg", JOBREG_LIBRARY=str(missing))
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and str(missing) in proc.stderr


def test_the_package_version_is_the_librarys():
    assert jobreg.__version__ == "%d.%d.%d" % jobreg.version_info
    assert jobreg.version_info >= (0, 1, 0)


def test_jobreg_jobs_is_the_librarys_module_and_its_job_class_is_jobreg_job():
    import jobreg.jobs as author_api
    from jobreg.jobs import Job, register_jobs

    assert sys.modules["jobreg.jobs"] is author_api is jobreg.jobs
    assert Job is jobreg.Job and register_jobs is jobreg.register_jobs
    # The library's own module (compiled into it), not a file of this package.
    assert Job.run.__code__.co_filename == "<jobreg>/jobreg/jobs.py"
    assert not (Path(jobreg.__file__).parent / "jobs.py").exists()


def test_nautobot_compat_gives_the_very_same_classes():
    from nautobot.apps.apps import NautobotAppConfig
    from nautobot.apps.jobs import Job, StringVar, register_jobs

    assert Job is jobreg.jobs.Job
    assert register_jobs is jobreg.jobs.register_jobs
    assert StringVar is jobreg.jobs.StringVar
    assert NautobotAppConfig is not None


def test_the_package_has_no_file_named_like_a_library_module():
    folder = Path(jobreg.__file__).parent
    for name in jobreg.LIBRARY_MODULES:
        assert not (folder / f"{name}.py").exists(), f"{name}.py belongs to the library"
        assert not (folder / name).exists()


def test_library_modules_names_every_module_of_the_author_api():
    """The binding's package and the author API share the name jobreg: each
    author-API module (src/py/jobreg) must be known here, and installed."""
    from conftest import SOURCE_ROOT

    author_api = {p.stem for p in (SOURCE_ROOT / "src" / "py" / "jobreg").glob("*.py")}
    assert author_api - {"__init__"} <= set(jobreg.LIBRARY_MODULES)
    for name in jobreg.LIBRARY_MODULES:
        module = sys.modules[f"jobreg.{name}"]
        assert not hasattr(module, "__file__"), f"jobreg.{name} comes from a file, not the library"
        if name in author_api:  # _watchdog is a built-in module: in sys.modules only
            assert getattr(jobreg, name) is module


def test_a_job_loaded_from_a_jobs_root_subclasses_the_same_job(registry, jobs_root):
    reg = registry(jobs_root)
    reg.load()
    cleanup = sys.modules["device_jobs"].CleanupDevices  # written against nautobot.apps.jobs
    check = sys.modules["inventory.check_inventory"].CheckInventory  # against jobreg.jobs
    assert issubclass(cleanup, jobreg.Job) and issubclass(check, jobreg.Job)
    assert cleanup.__mro__[1] is check.__mro__[1] is jobreg.jobs.Job


def test_the_interpreter_is_borrowed_and_survives_the_library():
    proc = run_python(
        "import jobreg, sys\n"
        "reg = jobreg.Registry()\n"
        "reg.close()\n"
        "print('alive', sys.version_info[0])\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "alive 3"


def test_objects_left_alive_at_exit_do_not_crash_the_interpreter(tmp_path):
    # Generations hold job classes (with methods) until freed; the library
    # must stay mapped while the interpreter tears down.
    root = tmp_path / "jobs"
    root.mkdir()
    (root / "leftover.py").write_text(
        "from jobreg.jobs import Job, register_jobs\n"
        "class Left(Job):\n"
        "    def run(self):\n"
        "        return 1\n"
        "register_jobs(Left)\n")
    proc = run_python(
        "import jobreg\n"
        f"reg = jobreg.Registry(); reg.add_dir({str(root)!r}); snap = reg.load()\n"
        "job = reg.resolve('leftover.Left')\n"
        "print(len(snap))\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"


def test_nautobot_compat_can_be_turned_off_before_the_import():
    proc = run_python("import jobreg\n"
                      "try:\n"
                      "    import nautobot.apps.jobs\n"
                      "except ImportError:\n"
                      "    print('no nautobot')\n",
                      JOBREG_NAUTOBOT_COMPAT="0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "no nautobot"


# ---- errors -------------------------------------------------------------------

def test_a_failing_call_raises_the_class_of_its_code_with_the_librarys_message(registry):
    reg = registry()
    with pytest.raises(jobreg.NotFound) as info:
        reg.resolve("no_such.Job")
    err = info.value
    assert isinstance(err, jobreg.Error) and isinstance(err, LookupError)
    assert err.code == lib.JOBREG_ENOTFOUND == -4
    assert err.name == "JOBREG_ENOTFOUND"
    assert "no_such.Job" in err.message and str(err) == err.message


def test_every_error_code_has_its_own_exception_class():
    codes = [getattr(lib, n) for n in dir(lib)
             if n.startswith("JOBREG_E") and n not in ("JOBREG_ERROR", "JOBREG_ERROR_CODE_LAST_")]
    assert len(codes) >= 20
    for code in codes:
        exc = _errors.error_for(code, "m")
        assert type(exc) is not jobreg.Error, jobreg.error_name(code)
        assert exc.code == code and exc.name == jobreg.error_name(code)
    generic = _errors.error_for(lib.JOBREG_ERROR, "m")
    assert type(generic) is jobreg.Error and generic.name == "JOBREG_ERROR"
    assert jobreg.strerror(lib.JOBREG_ENOMEM) == "out of memory"


def test_errors_are_read_on_the_failing_thread_only(registry):
    import threading

    reg = registry()
    seen = {}

    def fail_elsewhere():
        try:
            jobreg.Record(source_type="nowhere")
        except jobreg.InvalidArgument as exc:
            seen["other"] = exc

    thread = threading.Thread(target=fail_elsewhere)
    with pytest.raises(jobreg.NotFound) as info:
        thread.start()
        thread.join()
        reg.resolve("missing.Thing")
    assert "missing.Thing" in info.value.message
    assert "nowhere" in seen["other"].message


def test_errors_pickle_with_their_code():
    import pickle

    err = pickle.loads(pickle.dumps(jobreg.Ambiguous("two of them")))
    assert type(err) is jobreg.Ambiguous and err.message == "two of them"


def test_a_closed_object_raises_state_error(registry):
    reg = jobreg.Registry()
    reg.close()
    reg.close()  # twice is fine
    with pytest.raises(jobreg.StateError):
        reg.load()
    with jobreg.Storage.memory() as st:
        pass
    assert st.closed
    with pytest.raises(jobreg.StateError):
        st.list()


def test_an_optimized_interpreter_compiles_the_librarys_modules_itself(tmp_path):
    # The library's Python modules are compiled at build time for an
    # interpreter without -O; under -O it compiles them from their sources
    # instead, and loading behaves the same. (-OO is out of reach: cffi's
    # C parser needs docstrings, docs/python.md.)
    root = write_tree(tmp_path / "jobs", {
        "counted.py": '''
            from jobreg.jobs import IntegerVar, Job, register_jobs

            class Counted(Job):
                """Counts things."""
                count = IntegerVar(default=3, min_value=1)

                class Meta:
                    name = "Counted"

            register_jobs(Counted)
            ''',
        "broken.py": "raise ValueError('on purpose')\n",
    })
    code = f'''
import json, sys
import jobreg
reg = jobreg.Registry()
reg.add_dir({str(root)!r})
snap = reg.load()
job = reg["counted.Counted"]
print(json.dumps({{
    "optimize": sys.flags.optimize,
    "class_paths": snap.class_paths,
    "errors": [(e.module, e.type, e.message) for e in snap.load_errors],
    "name": job.name,
    "count": job.variables["properties"]["count"],
    "code_file": jobreg.jobs.Job.run.__code__.co_filename,
}}))
reg.close()
'''
    proc = subprocess.run([sys.executable, "-O", "-c", code], env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["optimize"] == 1
    assert out["class_paths"] == ["counted.Counted"]
    assert out["errors"] == [["broken", "ValueError", "on purpose"]]
    assert out["name"] == "Counted"
    assert out["count"]["default"] == 3
    assert out["code_file"] == "<jobreg>/jobreg/jobs.py"
