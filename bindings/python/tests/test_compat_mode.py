"""Nautobot 1.x jobs, opt-in, from Python: ``JOBREG_NAUTOBOT_COMPAT=1.x`` at
import, each source's ``nautobot_compat`` property, and the configuration's
``nautobot_compat`` keys.

A probe module writes, every time its body runs, the ``nautobot_1x``
attribute of the library's loader object that is importing it (found on the
call stack): one log says whether the source was imported, and in which mode.
"""

import os
import subprocess
import sys
import textwrap

import pytest

import jobreg
from conftest import write_tree

PROBE = '''
    import sys
    _frame, _mode = sys._getframe(), "no loader on the stack"
    while _frame is not None:
        _self = _frame.f_locals.get("self")
        if type(_self).__module__ == "jobreg._loader" and hasattr(_self, "load"):
            _mode = getattr(_self, "nautobot_1x", "not set")
            break
        _frame = _frame.f_back
    del _frame, _self
    with open({log!r}, "a") as _log:
        _log.write(f"{{_mode}}\\n")
    '''


@pytest.fixture
def probe_root(tmp_path):
    """(jobs root holding the probe and one registered job, read_log())."""
    log = tmp_path / "imports.log"
    root = write_tree(tmp_path / "jobs", {
        "probe.py": PROBE.format(log=str(log)),
        "alpha.py": '''
            from jobreg.jobs import Job, register_jobs

            class Alpha(Job):
                pass

            register_jobs(Alpha)
            ''',
    })

    def read_log():
        text = log.read_text() if log.exists() else ""
        log.unlink(missing_ok=True)
        return text

    return root, read_log


def test_a_source_starts_with_none_and_takes_2x_1x_and_none(tmp_path):
    with jobreg.DirSource(tmp_path) as src:
        assert src.nautobot_compat is None
        src.nautobot_compat = "1.x"
        assert src.nautobot_compat == "1.x"
        src.nautobot_compat = "2.x"
        assert src.nautobot_compat == "2.x"
        src.nautobot_compat = None
        assert src.nautobot_compat is None
    with jobreg.AppSource("my_app") as app:
        assert app.nautobot_compat is None


@pytest.mark.parametrize("bad", ["1.X", "3.x", "", 2, True, jobreg._ffi.lib.JOBREG_COMPAT_OFF])
def test_anything_else_is_refused_and_the_mode_stays(tmp_path, bad):
    with jobreg.DirSource(tmp_path) as src:
        src.nautobot_compat = "1.x"
        with pytest.raises(ValueError, match="nautobot_compat must be None, '2.x' or '1.x'"):
            src.nautobot_compat = bad
        assert src.nautobot_compat == "1.x"


def test_a_git_source_has_the_property_too(tmp_path):
    with jobreg.GitSource("my_repo", "https://example.invalid/r.git", tmp_path) as src:
        assert src.nautobot_compat is None
        src.nautobot_compat = "1.x"
        assert src.nautobot_compat == "1.x"


def test_the_loader_is_told_the_mode_and_a_switch_reimports(registry, probe_root):
    root, read_log = probe_root
    reg = registry()
    src = reg.add_dir(root)
    reg.load()
    assert read_log() == "False\n"
    reg.reload()
    assert read_log() == ""
    src.nautobot_compat = "1.x"  # on a source the registry owns
    snap = reg.reload()
    assert read_log() == "True\n"
    assert "alpha.Alpha" in snap and snap.generation == 2
    reg.reload()
    assert read_log() == ""
    src.nautobot_compat = None
    reg.reload()
    assert read_log() == "False\n"
    src.nautobot_compat = "2.x"  # the same mode in effect: nothing to import
    reg.reload()
    assert read_log() == ""


def test_a_switch_makes_the_next_sync_import_again(registry, probe_root):
    root, read_log = probe_root
    storage = jobreg.Storage.memory()

    def sync(mode):
        reg = registry()
        reg.add_dir(root).nautobot_compat = mode
        result = reg.sync(storage)
        reg.close()
        return result.skipped

    assert sync(None) == 0 and read_log() == "False\n"
    assert sync(None) == 1 and read_log() == ""
    assert sync("1.x") == 0 and read_log() == "True\n"
    assert sync("1.x") == 1 and read_log() == ""
    assert sync("2.x") == 0 and read_log() == "False\n"


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("value, expected", [("1.x", "True"), ("2.x", "False"), ("", "False")])
def test_jobreg_nautobot_compat_at_import_sets_every_sources_default(probe_root, value,
                                                                     expected):
    root, read_log = probe_root
    proc = run_python(f'''
        import jobreg
        import nautobot.apps.jobs  # 1.x provides the compatibility modules too
        reg = jobreg.Registry()
        src = reg.add_dir({str(root)!r})
        assert src.nautobot_compat is None
        reg.load()
        src.nautobot_compat = "2.x"
        reg.reload()
        src.nautobot_compat = "1.x"
        reg.reload()
        reg.close()
        ''', JOBREG_NAUTOBOT_COMPAT=value)
    assert proc.returncode == 0, proc.stderr
    # The default, then 2.x (imported again only when it differs), then 1.x.
    if expected == "True":
        assert read_log() == "True\nFalse\nTrue\n"
    else:
        assert read_log() == "False\nTrue\n"


def test_the_configuration_reads_1x_and_2x(tmp_path):
    cfg = jobreg.Config.parse(
        'nautobot_compat: "1.x"\n'
        "git_repositories:\n"
        "  - slug: old_jobs\n"
        "    remote_url: u\n"
        "    nautobot_compat: 1.x\n"
        "  - slug: new_jobs\n"
        "    remote_url: u\n"
        '    nautobot_compat: "2.x"\n'
        "  - slug: plain\n"
        "    remote_url: u\n", base_dir=tmp_path)
    assert cfg.nautobot_compat == "1.x"
    assert [r.nautobot_compat for r in cfg.git_repositories] == ["1.x", "2.x", None]
    assert cfg.git_repositories[2] == jobreg.GitRepositoryConfig("plain", "u", "main", None)
    assert jobreg.Config.parse("nautobot_compat: 2.x\n").nautobot_compat is True
    assert jobreg.Config.parse("nautobot_compat: false\n").nautobot_compat is False
    with pytest.raises(jobreg.ConfigError) as info:
        jobreg.Config.parse("jobs_root: j\nnautobot_compat: yes please\n", name="c.yaml")
    assert info.value.message == ("c.yaml:2:18: 'nautobot_compat' must be true, false, "
                                  "\"1.x\" or \"2.x\", not the string 'yes please'")


def test_a_job_without_register_jobs_is_a_job_only_in_1x_mode(registry, tmp_path):
    root = write_tree(tmp_path / "jobs", {
        "legacy.py": '''
            from nautobot.extras.jobs import Job

            class LegacyJob(Job):
                def run(self, data, commit):
                    pass
            ''',
    })
    reg = registry()
    src = reg.add_dir(root)
    assert "legacy.LegacyJob" not in reg.load()
    src.nautobot_compat = "1.x"
    assert reg.reload().class_paths == ["legacy.LegacyJob"]
    src.nautobot_compat = "2.x"
    assert "legacy.LegacyJob" not in reg.reload()
