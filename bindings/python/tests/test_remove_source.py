"""Registry.remove_source() and Storage.retire_source(): a source leaves the
registry at once, and its records are retired for review."""
import sys

import pytest

import jobreg

JOB = """\
from jobreg.jobs import Job, register_jobs

class {name}(Job):
    def run(self):
        return "{name}"

register_jobs({name})
"""


def write_repo_like_package(root, package, name):
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (root / package / "jobs.py").write_text(JOB.format(name=name))


def test_a_removed_source_leaves_the_next_generation_and_its_records_retire(tmp_path):
    inventory, audit = tmp_path / "inventory", tmp_path / "audit"
    inventory.mkdir()
    audit.mkdir()
    (inventory / "inventory.py").write_text(JOB.format(name="Inventory"))
    (inventory / "broken.py").write_text("raise ValueError('no')\n")
    (audit / "audit.py").write_text(JOB.format(name="Audit"))
    with jobreg.Registry() as reg, jobreg.Storage.memory() as st:
        gone = reg.add_dir(inventory)
        reg.add_dir(audit)
        with reg.load() as snap:
            assert sorted(job.class_path for job in snap) == ["audit.Audit",
                                                               "inventory.Inventory"]
            st.refresh(snap)
        before = reg.snapshot()
        assert "inventory" in sys.modules

        reg.remove_source(gone)
        assert [s.root for s in reg.sources] == [str(audit)]
        with reg.snapshot() as now:
            assert [job.class_path for job in now] == ["audit.Audit"]
            assert now.generation == before.generation + 1
        assert "inventory" not in sys.modules
        assert sorted(job.class_path for job in before) == ["audit.Audit", "inventory.Inventory"]
        before.close()
        with pytest.raises(jobreg.Error):
            gone.name  # closed: the library freed it
        with pytest.raises(jobreg.NotFound):
            reg.remove_source(gone)

        # Jobs roots all share the source ("local", ""): both are retired.
        assert len(st.load_errors()) == 1
        assert st.retire_source("local", "") == 2
        assert [r.class_path for r in st.list("no")] == ["audit.Audit", "inventory.Inventory"]
        assert st.load_errors() == []
        assert st.retire_source("local", "") == 0
        with pytest.raises(jobreg.Error, match="svn"):
            st.retire_source("svn", "x")
