"""`nautobot_compat: "1.x"` in jobreg.yaml (SPEC 2 and 6): the command hands
the global mode to jobreg_init() and a repository's own mode to its git
source; switching a source's mode makes the next `jobreg sync` import it.

Each source's stored sync state says the mode it was imported in
(`nautobot=1.x` / `nautobot=2.x`, docs/sync.md).
"""
import sqlite3

from test_cli import (AUDIT_VLANS, imported_marker, imports, jobreg, make_git_repo,  # noqa: F401
                      ok, ok_json, site)


def states(site):
    db = sqlite3.connect(site / ".jobreg" / "jobreg.db")
    rows = db.execute("SELECT source_type, source, state FROM jobreg_source_state "
                      "ORDER BY source_type, source").fetchall()
    db.close()
    return {(t, s): state.split(" nautobot=")[1].split()[0] for t, s, state in rows}


def set_compat(site, value):
    config = site / "jobreg.yaml"
    lines = [line for line in config.read_text().splitlines(keepends=True)
             if not line.startswith("nautobot_compat:")]
    config.write_text("".join(lines) + f"nautobot_compat: {value}\n")


def test_switching_the_global_mode_imports_the_jobs_root_again(site):
    marker = imported_marker(site)
    set_compat(site, '"1.x"')
    ok(site, "sync")
    assert imports(marker) == 1
    assert states(site) == {("local", ""): "1.x"}
    assert "1 source unchanged since the last sync" in ok(site, "sync").stdout
    assert imports(marker) == 1

    set_compat(site, "true")
    again = ok(site, "sync")
    assert "unchanged since the last sync" not in again.stdout
    assert imports(marker) == 2
    assert states(site) == {("local", ""): "2.x"}
    set_compat(site, '"2.x"')  # the same as true
    assert "1 source unchanged since the last sync" in ok(site, "sync").stdout
    assert imports(marker) == 2


def test_a_repository_has_its_own_mode(site, tmp_path):
    make_git_repo(tmp_path / "upstream", AUDIT_VLANS)
    config = (
        "jobs_root: jobs\n"
        "git_repositories:\n"
        "  - slug: old_jobs\n"
        f"    remote_url: file://{tmp_path / 'upstream'}\n"
        "    nautobot_compat: {mode}\n")
    (site / "jobreg.yaml").write_text(config.format(mode='"1.x"'))
    out = ok_json(site, "sync")
    assert "old_jobs.jobs.vlans.AuditVlans" in out["created"] and out["errors"] == []
    assert states(site) == {("git", "old_jobs"): "1.x", ("local", ""): "2.x"}

    (site / "jobreg.yaml").write_text(config.format(mode="2.x"))
    ok(site, "sync", "--offline")
    assert states(site) == {("git", "old_jobs"): "2.x", ("local", ""): "2.x"}


def test_a_bad_mode_is_a_config_error_naming_file_line_and_value(site):
    (site / "jobreg.yaml").write_text(
        "jobs_root: jobs\n"
        "git_repositories:\n"
        "  - slug: r\n"
        "    remote_url: file:///nowhere\n"
        "    nautobot_compat: 3.x\n")
    proc = jobreg(site, "sync")
    assert proc.returncode == 1
    assert ("jobreg.yaml:5:22: 'git_repositories[0].nautobot_compat' must be \"1.x\" or "
            "\"2.x\", not the string '3.x'") in proc.stderr
    assert not (site / ".jobreg").exists()
