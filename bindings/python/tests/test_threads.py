"""Threads: resolves and snapshots in many threads while another thread reloads
see the old or the new generation, never a mix; runs in parallel threads."""

import os
import threading

import jobreg
from conftest import write_tree

VERSIONED = '''
from jobreg.jobs import Job, register_jobs

class {cls}(Job):
    class Meta:
        description = "v{version}"

    def run(self):
        return {version}

register_jobs({cls})
'''


def write_version(root, version):
    """Rewrite both modules at `version` (new files: new inodes, so a reload sees them)."""
    for module, cls in (("alpha", "Alpha"), ("beta", "Beta")):
        tmp = root / f".{module}.tmp"
        tmp.write_text(VERSIONED.format(cls=cls, version=version))
        os.replace(tmp, root / f"{module}.py")


def test_resolve_in_many_threads_while_another_reloads(registry, tmp_path):
    root = tmp_path / "jobs"
    root.mkdir()
    write_version(root, 0)
    reg = registry(root)
    reg.load()
    stop = threading.Event()
    problems = []
    counts = []

    def reader():
        done, last_generation = 0, 0
        try:
            while not stop.is_set():
                job = reg.resolve("alpha.Alpha")
                assert job.description.startswith("v"), job.description
                job.close()
                with reg.snapshot() as snap:
                    assert snap.generation >= last_generation, "generations go forward"
                    last_generation = snap.generation
                    versions = {j.description for j in snap}
                    assert len(snap) == 2 and len(versions) == 1, f"a mixed generation: {versions}"
                assert "beta.Beta" in reg
                done += 1
        except BaseException as exc:
            problems.append(exc)
        counts.append(done)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for version in range(1, 16):
            write_version(root, version)
            snap = reg.reload()
            assert snap.generation == version + 1
            assert snap["alpha.Alpha"].description == f"v{version}"
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == []
    assert all(n > 0 for n in counts)


def test_snapshots_and_jobs_stay_valid_while_generations_are_replaced(registry, tmp_path):
    root = tmp_path / "jobs"
    root.mkdir()
    write_version(root, 0)
    reg = registry(root)
    kept = [reg.load()]
    jobs = [reg.resolve("beta.Beta")]
    for version in range(1, 5):
        write_version(root, version)
        kept.append(reg.reload())
        jobs.append(reg.resolve("beta.Beta"))
    assert [s["alpha.Alpha"].description for s in kept] == [f"v{v}" for v in range(5)]
    assert [j.description for j in jobs] == [f"v{v}" for v in range(5)]


def test_jobs_run_from_several_threads_at_once(registry, tmp_path):
    root = write_tree(tmp_path / "jobs", {"slow.py": '''
        import time
        from jobreg.jobs import IntegerVar, Job, register_jobs

        class Slow(Job):
            n = IntegerVar()

            def run(self, n):
                for i in range(3):
                    self.logger.info("step %d of %d", i, n)
                    time.sleep(0.01)
                return n * 2

        register_jobs(Slow)
        '''})
    reg = registry(root)
    reg.load()
    with jobreg.Storage.memory() as st:
        st.refresh(reg)
        st.enable(st.get("slow.Slow"))
        results, logs, problems = {}, {}, []

        def run(n):
            try:
                seen = logs.setdefault(n, [])
                results[n] = reg.run("slow.Slow", st, data={"n": n},
                                     log=lambda lvl, name, msg, extra: seen.append(msg)).result
            except BaseException as exc:
                problems.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert problems == []
    assert results == {n: n * 2 for n in range(8)}
    for n, lines in logs.items():
        assert lines == [f"step {i} of {n}" for i in range(3)]  # each run's own records
