"""The reference server (docs/examples/server) end to end, in a real headless browser.

devstack starts PostgreSQL, Redis, two Celery workers (w1, w2; two pool
processes each, a git root each) and the web server; a git repository is
served by `git daemon` on 127.0.0.1 (tests/git/serve.py). Chromium, driven
by selenium, then does what an operator does:

1. adds the repository, syncs it from the page, enables its job and runs it
   on each worker: every run reports the synced commit;
2. pushes a new commit, syncs, runs on each worker again: every run reports
   the new commit; the time from the push to the last of those runs is
   printed;
3. pushes a commit with a syntax error, syncs: the page shows the refusal
   and its load error, the recorded head stays, and runs on each worker
   still run the old commit;
4. pushes a fix, renames the repository's slug, syncs it, filters the jobs
   on Installed = No, reviews and deletes the duplicates; the job under the
   new slug runs on each worker.

Screenshots of every step go to $JOBREG_SERVER_SCREENSHOTS (default
<build>/meson-logs/server-screenshots/), the processes' logs to
<build>/meson-logs/server-logs/. Without chromium and chromedriver the test
fails (CI installs them): it does not skip.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SOURCE_ROOT = Path(os.environ.get("JOBREG_SOURCE_ROOT", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("JOBREG_BUILD_DIR", SOURCE_ROOT / "build"))
SERVER = SOURCE_ROOT / "docs" / "examples" / "server"
SERVE = SOURCE_ROOT / "tests" / "git" / "serve.py"
CHROMIUM = os.environ.get("JOBREG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("JOBREG_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("JOBREG_SERVER_SCREENSHOTS",
                                  BUILD_DIR / "meson-logs" / "server-screenshots"))
LOGS = BUILD_DIR / "meson-logs" / "server-logs"
WAIT = 90  # seconds for any one thing to happen on the page
WORKERS = ("w1", "w2")
RUNS_PER_WORKER = 2  # with --concurrency 2, most often both pool processes

sys.path.insert(0, str(SERVER))
import devstack  # noqa: E402

JOBS = '''\
from jobreg.jobs import Job, IntegerVar, StringVar, register_jobs

VERSION = {version}


class Hello(Job):
    """Greets, and says which version of the code it is."""

    who = StringVar(default="world")
    times = IntegerVar(default=2, min_value=1)

    class Meta:
        name = "Hello"

    def run(self, who, times):
        for i in range(times):
            self.logger.info("hello %s from version %d", who, VERSION)
        self.create_file("hello.txt", f"hello {{who}}\\n")
        return {{"version": VERSION, "who": who}}
{extra}

register_jobs({registered})
'''

# A job whose Meta is wrong: a load error of that job, the rest still loads.
BAD_META = '''

class BadMeta(Job):
    class Meta:
        name = "Bad meta"
        soft_time_limit = "soon"

    def run(self):
        return None
'''


def need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: the server's end-to-end test needs "
                    "Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver python3-selenium)", pytrace=False)
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("python3-selenium is not installed (apt-get install python3-selenium)",
                    pytrace=False)


class Upstream:
    """A bare repository served by git daemon, and a clone to push from."""

    def __init__(self, folder):
        self.base = folder / "served"
        self.base.mkdir()
        self.bare = self.base / "net_jobs.git"
        self.work = folder / "work"
        self.git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=folder)
        self.git("clone", "-q", str(self.bare), str(self.work), cwd=folder)
        self.git("checkout", "-q", "-b", "main")
        self.server = subprocess.Popen([sys.executable, str(SERVE), "daemon", str(self.base)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = self.server.stdout.readline().strip()
        if not port.isdigit():
            self.close()
            raise RuntimeError(f"serve.py daemon printed {port!r}, not a port")
        self.url = f"git://127.0.0.1:{port}/net_jobs.git"

    def git(self, *args, cwd=None):
        proc = subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.net",
                               *args], cwd=cwd or self.work, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
        return proc.stdout.strip()

    def push(self, jobs_py, message):
        """Commit jobs.py (and the package's __init__.py) and push; the commit id."""
        (self.work / "__init__.py").write_text("")
        (self.work / "jobs.py").write_text(jobs_py)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "main")
        return self.git("rev-parse", "HEAD")

    def close(self):
        if self.server.poll() is None:
            self.server.stdin.close()  # serve.py stops when its stdin closes
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def jobs_py(version, bad_meta=False):
    return JOBS.format(version=version, extra=BAD_META if bad_meta else "",
                       registered="Hello, BadMeta" if bad_meta else "Hello")


class Browser:
    """Chromium through selenium, with the few gestures the test needs."""

    def __init__(self, url):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1280,1024"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(WAIT)
        self.url = url
        self.shots = []

    def quit(self):
        self.driver.quit()

    def open(self, path):
        self.driver.get(self.url + path.lstrip("/"))

    def find(self, css):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.find(css).text

    def click(self, css):
        """Click and wait for the next page (every button here submits a form).

        Pages with something pending reload themselves every second: an
        element found just before such a reload is gone when clicked, so
        the click is tried again on the reloaded page."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait

        for attempt in range(5):
            try:
                old = self.find("html")
                self.find(css).click()
                break
            except WebDriverException:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        WebDriverWait(self.driver, WAIT).until(EC.staleness_of(old))

    def select(self, css, value):
        from selenium.webdriver.support.ui import Select

        Select(self.find(css)).select_by_value(value)

    def type(self, css, text):
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def until(self, path, ready, what, timeout=WAIT):
        """Reload `path` until ready() is true; its value."""
        from selenium.common.exceptions import WebDriverException

        deadline = time.monotonic() + timeout
        while True:
            self.open(path)
            try:
                value = ready()
            except WebDriverException:  # the page reloaded itself while read: again
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                self.shot("timeout")
                raise AssertionError(f"{what}: not within {timeout} s on {path}:\n"
                                     f"{self.text('body')[:3000]}")
            time.sleep(0.3)

    def shot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{len(self.shots) + 1:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        self.shots.append(path)
        print(f"screenshot: {path}", flush=True)
        return path


# -- what the operator does on the pages -------------------------------------------
def sync(b, slug):
    """Press Sync; wait for the sync to end; its status and message."""
    b.open("git/")
    b.click(f"#sync-{slug}")
    status = b.until("git/", lambda: b.text(f"#sync-status-{slug}") in ("ok", "failed")
                     and b.text(f"#sync-status-{slug}"), f"the sync of {slug}")
    return status, b.text(f"#sync-message-{slug}")


def record_id(b, class_path, installed="all"):
    b.open(f"jobs/?installed={installed}")
    rows = [r for r in b.find_all("tr.job-row") if r.get_attribute("data-class-path") == class_path]
    assert len(rows) == 1, f"{class_path}: {len(rows)} rows on the jobs page"
    return rows[0].get_attribute("id")[len("job-"):]


def enable(b, rid):
    b.open("jobs/")
    if b.find_all(f"#enable-{rid}"):
        b.click(f"#enable-{rid}")
    assert b.find_all(f"#disable-{rid}"), b.text("body")


def start_run(b, rid, worker, who):
    """Fill the job's form, run it on `worker`; the run page's path."""
    b.open(f"jobs/{rid}/")
    b.type("#id_who", who)
    b.select("#run-worker", worker)
    b.click("#run-button")
    path = b.driver.current_url[len(b.url) - 1:]
    assert path.startswith("/runs/"), path
    return path


def finished_run(b, path):
    """Wait for the run to end; its fields as the page shows them."""
    b.until(path, lambda: b.find("#run-fields").get_attribute("data-done") == "yes",
            f"the end of run {path}")
    run = {name: b.text(f"#run-{name}") for name in ("status", "worker", "queue", "commit")}
    run["result"] = json.loads(b.text("#run-result")) if b.find_all("#run-result") else None
    run["log"] = [li.text for li in b.find_all("#run-log li")]
    run["files"] = [a.text for a in b.find_all("#run-files a")]
    run["refused"] = b.text("#run-refused") if b.find_all("#run-refused") else ""
    return run


def run_everywhere(b, rid, tag):
    """RUNS_PER_WORKER runs on each worker's queue, started before any is waited for."""
    paths = [(w, start_run(b, rid, w, f"{tag}-{w}-{i}"))
             for i in range(RUNS_PER_WORKER) for w in WORKERS]
    return [(w, finished_run(b, p)) for w, p in paths]


def check_runs(runs, commit, version):
    for worker, run in runs:
        assert run["status"] == "SUCCESS", run
        assert run["worker"] == worker, run     # routed to that worker's queue
        assert run["commit"] == commit, run     # the code it ran
        assert run["result"]["version"] == version, run
        assert any(f"from version {version}" in line for line in run["log"]), run
        assert run["files"] == ["hello.txt"], run


# -- the test ------------------------------------------------------------------------
def test_server_end_to_end(tmp_path):
    need_browser()
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    started = time.monotonic()
    upstream = Upstream(tmp_path)
    stack = browser = None
    try:
        c1 = upstream.push(jobs_py(1), "version 1")
        stack = devstack.Stack(BUILD_DIR, workers=WORKERS, concurrency=2, logs=LOGS)
        stack.__enter__()
        print(f"stack up in {time.monotonic() - started:.1f} s: {stack.url}", flush=True)
        b = browser = Browser(stack.url)

        # 1. Add the repository, sync it, enable the job, run it on each worker.
        b.open("git/")
        b.type("#add-slug", "net_jobs")
        b.type("#add-url", upstream.url)
        b.type("#add-branch", "main")
        b.click("#add-submit")
        assert b.find_all("#repo-net_jobs"), b.text("body")
        status, message = sync(b, "net_jobs")
        assert status == "ok", message
        assert b.text("#head-net_jobs") == c1
        b.shot("git-synced")
        rid = record_id(b, "net_jobs.jobs.Hello")
        enable(b, rid)
        b.shot("jobs-enabled")
        runs = run_everywhere(b, rid, "first")
        check_runs(runs, c1, 1)
        b.shot("run-first-commit")

        # 2. A new commit: from the push to every worker running it.
        c2 = upstream.push(jobs_py(2), "version 2")
        pushed = time.monotonic()
        status, message = sync(b, "net_jobs")
        synced = time.monotonic()
        assert status == "ok", message
        assert b.text("#head-net_jobs") == c2
        b.shot("git-new-commit")
        runs = run_everywhere(b, rid, "second")
        check_runs(runs, c2, 2)
        all_workers = time.monotonic()
        b.shot("run-new-commit")
        print(f"push to all workers running the new commit: {all_workers - pushed:.2f} s "
              f"(push to recorded head {synced - pushed:.2f} s; {len(runs)} runs on "
              f"{len(WORKERS)} workers after it)", flush=True)

        # 3. A broken commit: refused; the old code keeps running everywhere.
        upstream.push(jobs_py(3).replace("def run(self, who, times):",
                                         "def run(self, who, times)"), "broken")
        status, message = sync(b, "net_jobs")
        assert status == "failed", message
        assert "SyntaxError" in message and "jobs.py" in message, message
        assert b.text("#head-net_jobs") == c2  # the recorded head stays
        b.shot("git-broken-refused")
        b.open("load-errors/")
        section = b.text("#errors-git-net_jobs")
        assert "SyntaxError" in section and "jobs.py" in section, section
        b.shot("load-errors-refused")
        runs = run_everywhere(b, rid, "broken")
        check_runs(runs, c2, 2)
        b.shot("run-after-broken-push")

        # 4. A fix (with one job whose Meta is bad: a stored load error), then
        # a new slug for the repository, and the clean-up of the duplicates.
        c4 = upstream.push(jobs_py(4, bad_meta=True), "fixed")
        status, message = sync(b, "net_jobs")
        assert status == "ok", message
        assert b.text("#head-net_jobs") == c4
        b.open("load-errors/")
        section = b.text("#errors-git-net_jobs")
        assert "BadMeta" in section and "soft_time_limit" in section, section
        assert "refused" not in section, section
        b.shot("load-errors-stored")

        b.open("git/")
        b.type("#rename-net_jobs", "net_jobs_v2")
        b.click("#rename-submit-net_jobs")
        assert not b.find_all("#repo-net_jobs"), b.text("body")
        b.until("git/", lambda: b.text("#sync-status-net_jobs_v2") in ("ok", "failed"),
                "the sync of the renamed repository")
        assert b.text("#sync-status-net_jobs_v2") == "ok", b.text("#sync-message-net_jobs_v2")
        assert b.text("#head-net_jobs_v2") == c4
        b.shot("git-renamed")

        b.open("jobs/")
        b.select("#filter-installed", "no")
        b.click("#filter-submit")
        stale = sorted(r.get_attribute("data-class-path") for r in b.find_all("tr.job-row"))
        assert stale == ["net_jobs.jobs.Hello"], stale
        assert all(td.text == "No" for td in b.find_all("tr.job-row td.installed"))
        b.shot("jobs-not-installed")
        b.find("#select-all").click()
        b.click("#delete-selected")
        review = [r.text for r in b.find_all("tr.delete-item")]
        assert len(review) == 1 and "net_jobs.jobs.Hello" in review[0], review
        b.shot("jobs-delete-review")
        b.click("#confirm-delete")
        assert "Deleted 1 job record(s)." in b.text("#messages"), b.text("body")
        assert b.find_all("#no-jobs"), b.text("body")  # still filtered on Installed = No
        b.shot("jobs-cleaned")
        b.open("jobs/?installed=all")
        left = sorted(r.get_attribute("data-class-path") for r in b.find_all("tr.job-row"))
        assert left == ["net_jobs_v2.jobs.Hello"], left

        new_rid = record_id(b, "net_jobs_v2.jobs.Hello")
        assert new_rid != rid
        enable(b, new_rid)
        runs = run_everywhere(b, new_rid, "renamed")
        check_runs(runs, c4, 4)
        b.shot("run-renamed")
        print(f"end-to-end test: {time.monotonic() - started:.1f} s", flush=True)
    except BaseException:
        if browser is not None:
            try:
                browser.shot("failure")
            except Exception as exc:
                print(f"no screenshot of the failure: {exc}")
        if stack is not None and stack.logs is not None:
            for name in ("web", *(f"worker-{w}" for w in WORKERS)):
                print(f"---- {name}.log (end) ----\n{stack.log_text(name)[-6000:]}")
        raise
    finally:
        if browser is not None:
            browser.quit()
        if stack is not None:
            stack.stop()
        upstream.close()
        if browser is not None:
            print("screenshots:\n" + "\n".join(f"  {p}" for p in browser.shots), flush=True)
