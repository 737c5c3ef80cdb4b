"""The documentation, checked: what the guides show runs, and nothing is left out.

- the example programs the guides quote (docs/examples/*.c, built by
  docs/meson.build) run against real fixtures, and every C excerpt of a
  guide is a verbatim piece of its example, so a guide cannot show code
  that does not compile;
- the man page covers every command and option of `jobreg --help`, and
  renders without warnings;
- the README opens with its two commands and links every guide, and no
  relative link of the docs points nowhere.

Environment (tests/docs/meson.build): JOBREG, JOBREG_SOURCE_ROOT,
EXAMPLE_HOST, EXAMPLE_BACKEND, EXAMPLE_WORKER.
"""
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("JOBREG_SOURCE_ROOT", Path(__file__).resolve().parents[2]))
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
JOBREG = os.environ["JOBREG"]

# Each guide and the example program its C excerpts come from.
GUIDE_EXAMPLES = {
    "host-in-c.md": "host.c",
    "storage-backend.md": "storage_backend.c",
    "workers.md": "worker.c",
}

# Files in docs/ that are not guides: the API reference's front page.
NOT_GUIDES = {"api-mainpage.md"}


def run(*cmd, cwd=None, check=True):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    if check:
        assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# ---- the example programs --------------------------------------------------


def test_example_host_loads_refreshes_enables_and_runs_a_job(tmp_path):
    db = tmp_path / "jobs.db"
    first = run(os.environ["EXAMPLE_HOST"], EXAMPLES, db)
    lines = first.stdout.splitlines()
    assert lines[0] == "4 jobs loaded"
    assert [line.split()[1] for line in lines if line.startswith("created")] == [
        "device_jobs.CleanupDevices",
        "inventory.check_inventory.CheckInventory",
        "my_app.jobs.cleanup.PurgeStaleInterfaces",
        "my_app.jobs.report.SoftwareComplianceReport",
    ]
    assert json.loads(lines[-1]) == {"status": "success", "error": None, "files": [],
                                     "result": {"dry_run": True, "removed": 0}}
    assert ("[Purge Stale Interfaces] INFO: purging stale interfaces (dry run: True)"
            in first.stderr)
    assert "load error" not in first.stderr

    again = run(os.environ["EXAMPLE_HOST"], EXAMPLES, db)
    assert "unchanged   4" in again.stdout.splitlines()
    assert not any(line.startswith("created") for line in again.stdout.splitlines())


def test_example_host_reports_a_failure_with_the_library_message(tmp_path):
    proc = run(os.environ["EXAMPLE_HOST"], EXAMPLES, tmp_path / "no" / "such" / "folder.db",
               check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("database: ")
    assert "(JOBREG_ESTORAGE)" in proc.stderr


def test_example_backend_keeps_the_storage_contract():
    proc = run(os.environ["EXAMPLE_BACKEND"], EXAMPLES / "jobs")
    assert proc.stdout.splitlines() == [
        "sync: 2 created, 0 unchanged, 0 source(s) skipped",
        # Version-2 callbacks: the unchanged jobs root is not imported again.
        "sync: 0 created, 2 unchanged, 1 source(s) skipped",
        "git state: current_head 0123456789abcdef0123456789abcdef01234567",
        # A failing write_record: its message, and the transaction rolled back.
        "enable: example backend: the disk is full (JOBREG_ESTORAGE)",
        "enabled after the rollback: 0",
        "enable again: ok",
    ]


def make_repo(path, returns):
    """An upstream repository with the git layout, one commit per call."""
    (path / "jobs").mkdir(parents=True, exist_ok=True)
    (path / "__init__.py").write_text("")
    (path / "jobs" / "__init__.py").write_text("from . import vlans  # noqa: F401\n")
    (path / "jobs" / "vlans.py").write_text(textwrap.dedent(f"""\
        from jobreg.jobs import Job, register_jobs

        class AuditVlans(Job):
            def run(self):
                self.logger.info("auditing")
                return {returns!r}

        register_jobs(AuditVlans)
    """))
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    if not (path / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", returns], cwd=path, env=env, check=True)


def test_example_worker_follows_the_recorded_head_not_the_branch_tip(tmp_path):
    upstream = tmp_path / "upstream"
    make_repo(upstream, "v1")
    repo = f"git_repositories:\n  - slug: net_jobs\n    remote_url: file://{upstream}\n"
    site, worker = tmp_path / "site", tmp_path / "worker"
    site.mkdir()
    worker.mkdir()
    (site / "jobreg.yaml").write_text(repo)
    # The worker shares the syncer's database, and has checkouts of its own.
    (worker / "jobreg.yaml").write_text("database: ../site/.jobreg/jobreg.db\n" + repo)
    ref = "net_jobs.jobs.AuditVlans"

    def work():
        proc = run(os.environ["EXAMPLE_WORKER"], worker / "jobreg.yaml", ref)
        head, result = proc.stdout.splitlines()
        assert "INFO: auditing" in proc.stderr
        return head.split(":")[1].split()[0], json.loads(result)["result"]

    run(JOBREG, "-c", site / "jobreg.yaml", "sync")
    run(JOBREG, "-c", site / "jobreg.yaml", "enable", ref)
    assert work() == ("moved", "v1")      # cloned, at the recorded head
    assert work() == ("stays", "v1")      # nothing to do: no fetch, no import

    make_repo(upstream, "v2")             # the branch moves on...
    assert work() == ("stays", "v1")      # ...but no sync recorded it yet

    run(JOBREG, "-c", site / "jobreg.yaml", "sync")
    assert work() == ("moved", "v2")
    assert work() == ("stays", "v2")

    run(JOBREG, "-c", site / "jobreg.yaml", "disable", ref)
    refused = run(os.environ["EXAMPLE_WORKER"], worker / "jobreg.yaml", ref, check=False)
    assert refused.returncode == 1 and "not enabled" in refused.stderr


def fenced_blocks(text, language):
    return re.findall(r"^```" + language + r"\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.parametrize("guide", sorted(GUIDE_EXAMPLES))
def test_every_c_excerpt_of_a_guide_is_a_piece_of_its_compiled_example(guide):
    source = (EXAMPLES / GUIDE_EXAMPLES[guide]).read_text()
    lines = [line.rstrip() for line in source.splitlines()]
    blocks = fenced_blocks((DOCS / guide).read_text(), "c")
    assert blocks, f"{guide} shows no C"
    for block in blocks:
        excerpt = [line.rstrip() for line in block.splitlines()]
        n = len(excerpt)
        assert any(lines[i:i + n] == excerpt for i in range(len(lines) - n + 1)), (
            f"this excerpt of docs/{guide} is not in docs/examples/{GUIDE_EXAMPLES[guide]} "
            f"(copy it from there, so that it is compiled):\n{block}")


# ---- the man page ------------------------------------------------------------


def deroff(text):
    """Roff source without comments and markup (enough to find words in it)."""
    text = "\n".join(line for line in text.splitlines() if not line.startswith('.\\"'))
    text = re.sub(r"\\f[BIRP]", "", text)
    text = text.replace("\\-", "-").replace("\\(aq", "'")
    return re.sub(r"^\.[A-Z]+ ?", "", text, flags=re.M)


def man_page():
    """docs/jobreg.1 as text, and the tags of the entries of its COMMANDS section."""
    source = (DOCS / "jobreg.1").read_text()
    commands = source.split("\n.SH COMMANDS\n", 1)[1].split("\n.SH ", 1)[0]
    tags = re.findall(r"^\.TP\n(.*)$", commands, flags=re.M)
    return deroff(source), [deroff(tag) for tag in tags]


def help_commands():
    """{command: [its options]} and the global options, from `jobreg --help`."""
    out = run(JOBREG, "--help").stdout
    commands, global_options, section = {}, [], None
    for line in out.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            section = line[:-1]
        elif section == "commands" and line.startswith("  "):
            usage = re.split(r"\s{2,}", line.strip())[0]
            commands[usage.split()[0]] = re.findall(r"--[a-z-]+", usage)
        elif section == "options" and line.startswith("  "):
            global_options += re.findall(r"(?<![\w-])--?[a-z][a-z-]*", line.split("  ")[1])
    return commands, global_options


def word(w):
    return rf"(?<![\w-]){re.escape(w)}(?![\w-])"


def test_every_command_and_option_of_the_help_is_in_the_man_page():
    text, tags = man_page()
    commands, global_options = help_commands()
    assert len(commands) >= 8 and {"-c", "--config", "--help", "--version"} <= set(global_options)
    for option in global_options:
        assert re.search(word(option), text), f"jobreg.1 does not mention the option {option}"
    for command, options in commands.items():
        entry = [tag for tag in tags if re.search(word(command), tag)]
        assert entry, f"jobreg.1's COMMANDS section has no entry (.TP) for '{command}'"
        for option in options:
            assert re.search(word(option), entry[0]), (
                f"jobreg.1's entry for '{command}' does not show its option {option}")


def test_every_command_of_the_help_is_in_cli_md():
    text = (DOCS / "cli.md").read_text()
    for command in help_commands()[0]:
        assert f"`{command}" in text, f"docs/cli.md does not describe '{command}'"


def test_the_man_page_names_the_version_of_the_command():
    version = run(JOBREG, "--version").stdout.split()[1]
    title = next(line for line in (DOCS / "jobreg.1").read_text().splitlines()
                 if line.startswith(".TH "))
    assert f'"libjobreg {version}"' in title, (
        f"update the .TH line of docs/jobreg.1 for version {version}: {title}")


def test_the_man_page_renders_without_warnings():
    groff = shutil.which("groff")
    if not groff:
        pytest.skip("groff is not installed")
    proc = run(groff, "-man", "-ww", "-z", "-Tutf8", DOCS / "jobreg.1", check=False)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# ---- the README and the links ------------------------------------------------


def test_the_readme_opens_with_its_two_commands():
    text = (ROOT / "README.md").read_text()
    before_first_rule = text.split("\n---\n", 1)[0]
    assert fenced_blocks(before_first_rule, "sh") == ["sh tools/run-examples.sh\n",
                                                     "sh tools/run-tests.sh\n"]
    # Only the title comes before them.
    assert [line for line in before_first_rule.splitlines() if line.startswith("#")] == [
        "# libjobreg"]


def test_the_readme_links_every_guide_and_the_man_page():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Documentation", 1)
    assert len(section) == 2, "README.md has no '## Documentation' section"
    index = section[1].split("\n## ", 1)[0]
    guides = sorted(p.name for p in DOCS.glob("*.md") if p.name not in NOT_GUIDES)
    missing = [g for g in guides + ["jobreg.1"] if f"](docs/{g})" not in index]
    assert not missing, f"README.md's Documentation list does not link {missing}"


def test_relative_links_in_the_docs_lead_somewhere():
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken
