"""sync_crash.py: `jobreg sync` killed with SIGKILL at random moments (issue 14).

A real upstream repository (file:// URL: the crash does not depend on the
transport) grows by one commit per trial, good or refused at random: a
refused commit's `jobs/__init__.py` raises, so git sync's validation refuses
it. Each trial starts `jobreg sync` on a SQLite database, kills it after a
random delay (anywhere from Python's start-up to the recording of the
heads), then checks the database as the dead process left it, runs a clean
`jobreg sync` and checks again:

- the installed git records are exactly those of one good commit, never a
  refused commit's (its job, or none at all);
- the recorded head is a good commit; after the clean sync it is the tip
  when the tip is good, else the head recorded before, and the records are
  that head's;
- after the clean sync the checkout is at the recorded head, with no trial
  journal, partial pack or lock file left.

JOBREG names the command. JOBREG_CRASH_SEED replays a run (the seed is
printed), JOBREG_CRASH_TRIALS sets the number of trials (default 200),
JOBREG_CRASH_SECONDS the time after which no new trial starts (default 75;
a sanitizer build on a busy machine runs fewer trials, and says so).
Two sites run side by side, one per core.
"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

JOBREG = os.environ["JOBREG"]
# A sanitizer build's leak check at exit costs a second per command and is
# not the subject here (the cli suite checks leaks): off for these commands.
RUN_ENV = dict(os.environ)
if "ASAN_OPTIONS" in RUN_ENV:
    RUN_ENV["ASAN_OPTIONS"] += ":detect_leaks=0"
SLUG = "crash_jobs"
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME="/nonexistent")


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def good_module(n):
    # A little import time, so that kills land in the trial too.
    return ("import time\n"
            "from jobreg.jobs import Job, register_jobs\n"
            "time.sleep(0.02)\n\n\n"
            f"class Good{n}(Job):\n"
            "    def run(self):\n"
            f"        return {n}\n\n\n"
            f"register_jobs(Good{n})\n")


def refused_module(n):
    return ("import time\n"
            "time.sleep(0.02)\n"
            f"raise RuntimeError('commit {n} is broken')\n")


# A refused commit also has a sub-module whose job would be installed if its
# code were ever loaded and refreshed.
def refused_extra(n):
    return ("from jobreg.jobs import Job, register_jobs\n\n\n"
            f"class Refused{n}(Job):\n"
            "    def run(self):\n"
            "        return 0\n\n\n"
            f"register_jobs(Refused{n})\n")


class Failure(Exception):
    pass


class Site:
    """One upstream, one site (jobreg.yaml, database, checkout), one RNG."""

    def __init__(self, base, rng, name):
        self.rng = rng
        self.name = name
        self.up = base / "upstream"
        self.site = base / "site"
        self.db = self.site / ".jobreg" / "jobreg.db"
        self.checkout = self.site / ".jobreg" / "git" / SLUG
        self.good = {}  # commit -> class path of its job
        self.refused = set()
        self.n = 0
        self.stats = {"trials": 0, "finished_before_kill": 0, "killed": 0,
                      "journal_found": 0, "stale_found": 0, "db_mixed": 0}
        self.delays = []
        self.durations = []
        self.up.mkdir(parents=True)
        self.site.mkdir(parents=True)
        git(self.up, "init", "-q", "-b", "main")
        (self.up / "__init__.py").write_text("")
        (self.site / "jobreg.yaml").write_text(
            "git_repositories:\n"
            f"  - slug: {SLUG}\n"
            f"    remote_url: file://{self.up}\n")

    def commit(self, good):
        self.n += 1
        jobs = self.up / "jobs"
        jobs.mkdir(exist_ok=True)
        extra = jobs / "extra.py"
        if good:
            (jobs / "__init__.py").write_text(good_module(self.n))
            if extra.exists():
                extra.unlink()
        else:
            (jobs / "__init__.py").write_text(refused_module(self.n))
            extra.write_text(refused_extra(self.n))
        git(self.up, "add", "-A")
        git(self.up, "commit", "-q", "-m", f"commit {self.n}")
        head = git(self.up, "rev-parse", "HEAD")
        if good:
            self.good[head] = f"{SLUG}.jobs.Good{self.n}"
        else:
            self.refused.add(head)
        return head

    def sync(self):
        start = time.monotonic()
        proc = subprocess.run([JOBREG, "-c", str(self.site / "jobreg.yaml"), "sync"],
                              cwd=self.site, env=RUN_ENV, capture_output=True, text=True,
                              timeout=120)
        self.durations.append(time.monotonic() - start)
        return proc

    def state(self):
        """(installed git class paths, recorded head) as the database holds them."""
        if not self.db.exists():
            return None, None
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            tables = {r[0] for r in con.execute("select name from sqlite_master")}
            if "jobreg_records" not in tables:
                return None, None
            installed = {r[0] for r in con.execute(
                "select class_path from jobreg_records "
                "where source_type = 'git' and installed = 1")}
            row = con.execute("select current_head from jobreg_git_state where slug = ?",
                              (SLUG,)).fetchone() if "jobreg_git_state" in tables else None
        finally:
            con.close()
        return installed, row[0] if row else None

    def check_state(self, when, installed, head):
        if installed is None:
            return
        known = {self.good[c] for c in self.good}
        if len(installed) != 1 or not installed <= known:
            raise Failure(f"{when}: installed git records {sorted(installed)} are not those of "
                          "one good commit")
        if head not in self.good:
            what = "a refused commit" if head in self.refused else "no good commit"
            raise Failure(f"{when}: the recorded head {head} is {what}")
        if self.good[head] not in installed:
            self.stats["db_mixed"] += 1  # records of the next good commit, head not yet stored

    def leftovers(self):
        dotgit = self.checkout / ".git"
        found = [str(p.relative_to(dotgit)) for p in dotgit.rglob("*")
                 if p.is_file() and ("_git2_" in p.name or p.name.endswith(".lock"))]
        journal = self.site / ".jobreg" / "git" / f".{SLUG}.trial"
        return found, journal.exists()

    def start(self):
        """The first state: one good commit, synced cleanly."""
        self.commit(True)
        for _ in range(3):  # also measures how long a sync takes
            proc = self.sync()
            if proc.returncode != 0:
                raise Failure(f"the first sync failed: {proc.stderr}")

    def trial(self, window):
        installed, recorded = self.state()
        tip = self.commit(self.rng.random() < 0.5)
        delay = self.rng.uniform(*window)
        self.delays.append(delay)
        proc = subprocess.Popen([JOBREG, "-c", str(self.site / "jobreg.yaml"), "sync"],
                                cwd=self.site, env=RUN_ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            self.stats["killed"] += 1
        else:
            self.stats["finished_before_kill"] += 1
        proc.wait()
        self.stats["trials"] += 1
        where = f"trial {self.stats['trials']} of {self.name}, kill after {delay:.3f} s"
        self.check_state(f"{where}, as the killed sync left it", *self.state())
        stale, journal = self.leftovers()
        self.stats["journal_found"] += journal
        self.stats["stale_found"] += bool(stale)

        _, before = self.state()
        proc = self.sync()
        installed, head = self.state()
        when = f"{where}, after a clean sync"
        self.check_state(when, installed, head)
        want = tip if tip in self.good else before
        if head != want:
            raise Failure(f"{when}: the recorded head is {head}, expected {want} (tip {tip}, "
                          f"{'good' if tip in self.good else 'refused'}; exit {proc.returncode}: "
                          f"{proc.stderr.strip()})")
        if installed != {self.good[head]}:
            raise Failure(f"{when}: installed {sorted(installed)} are not the records of the "
                          f"recorded head {head}")
        if proc.returncode != (0 if tip in self.good else 1):
            raise Failure(f"{when}: exit status {proc.returncode}: {proc.stderr.strip()}")
        checkout_head = git(self.checkout, "rev-parse", "HEAD")
        if checkout_head != head:
            raise Failure(f"{when}: the checkout is at {checkout_head}, the recorded head {head}")
        stale, journal = self.leftovers()
        if stale or journal:
            raise Failure(f"{when}: left behind: {stale} journal={journal}")


def run_site(site, trials, deadline, errors):
    try:
        site.start()
        for _ in range(trials):
            if time.monotonic() > deadline:
                break
            # Kill anywhere from late in Python's start-up to a little after
            # a sync ends, as long as the last few took (start-up is most of
            # a sync, and uneventful).
            recent = sorted(site.durations[-9:])
            median = recent[len(recent) // 2]
            site.trial((0.25 * median, 1.1 * median))
    except Failure as e:
        errors.append(str(e))
    except Exception as e:  # noqa: BLE001 - reported as the test's failure
        errors.append(f"{site.name}: {type(e).__name__}: {e}")


def main():
    seed = int(os.environ.get("JOBREG_CRASH_SEED") or random.SystemRandom().randrange(1 << 32))
    trials = int(os.environ.get("JOBREG_CRASH_TRIALS", "200"))
    seconds = float(os.environ.get("JOBREG_CRASH_SECONDS", "75"))
    print(f"seed {seed} (replay: JOBREG_CRASH_SEED={seed}), up to {trials} trials "
          f"in {seconds:.0f} s", flush=True)
    errors = []
    with tempfile.TemporaryDirectory(prefix="jobreg-crash-") as tmp:
        sites = [Site(Path(tmp) / f"s{i}", random.Random(seed * 2 + i), f"site {i}")
                 for i in range(2)]
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=run_site,
                                    args=(s, (trials + 1 - i) // 2, deadline, errors))
                   for i, s in enumerate(sites)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = {k: sum(s.stats[k] for s in sites) for k in sites[0].stats}
        delays = sorted(d for s in sites for d in s.delays)
        durations = sorted(d for s in sites for d in s.durations)
        print(f"trials: {total['trials']}; killed: {total['killed']}, finished before the "
              f"kill: {total['finished_before_kill']}; found a dead trial (journal): "
              f"{total['journal_found']}; found partial packs or locks: "
              f"{total['stale_found']}; records ahead of the recorded head: "
              f"{total['db_mixed']}")
        if delays:
            print("kill moments (s): min %.3f, median %.3f, max %.3f; a clean sync takes "
                  "%.3f s (median)" % (delays[0], delays[len(delays) // 2], delays[-1],
                                       durations[len(durations) // 2]))
        print("refused commits: %d, good commits: %d\n" % (
            sum(len(s.refused) for s in sites), sum(len(s.good) for s in sites)))
    for e in errors:
        print(f"FAIL: {e} (seed {seed})", file=sys.stderr)
    if not errors and total["trials"] < 20:
        print(f"FAIL: only {total['trials']} trials ran", file=sys.stderr)
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
