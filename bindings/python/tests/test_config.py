"""jobreg.yaml read by the library, from Python."""

import pytest

import jobreg
from conftest import SOURCE_ROOT

EXAMPLE = SOURCE_ROOT / "docs" / "examples" / "jobreg.yaml"


def test_a_file_is_read_with_absolute_paths_and_defaults(tmp_path):
    path = tmp_path / "jobreg.yaml"
    path.write_text(
        "jobs_root: jobs\n"
        "python_path: [lib, /opt/extra]\n"
        "import_timeout: 2.5\n"
        "git_repositories:\n"
        "  - slug: my_repo\n"
        "    remote_url: https://me:secret@example.invalid/r.git\n"
        "    token_env: MY_REPO_TOKEN\n"
        "apps: [my_app]\n")
    with jobreg.Config.load(path) as cfg:
        assert cfg.path == str(path) and cfg.dir == str(tmp_path)
        assert cfg.jobs_root == str(tmp_path / "jobs")
        assert cfg.git_root == str(tmp_path / ".jobreg" / "git")
        assert cfg.database == str(tmp_path / ".jobreg" / "jobreg.db")
        assert cfg.python_path == (str(tmp_path / "lib"), "/opt/extra")
        assert cfg.nautobot_compat is True and cfg.import_timeout == 2.5
        assert cfg.apps == ("my_app",)
        repo, = cfg.git_repositories
        assert repo == jobreg.GitRepositoryConfig(
            "my_repo", "https://me:secret@example.invalid/r.git", "main", "MY_REPO_TOKEN")
        assert cfg.locate("apps[0]") == (8, 8)
        assert cfg.locate("git_repositories[0].slug")[0] == 5
        with pytest.raises(jobreg.NotFound):
            cfg.locate("database")
    with pytest.raises(jobreg.StateError):
        cfg.apps


def test_parse_resolves_against_base_dir_and_absent_keys_are_none(tmp_path):
    cfg = jobreg.Config.parse("apps: [a, b]\n", base_dir=tmp_path, name="inline.yaml")
    assert cfg.path == "inline.yaml" and cfg.jobs_root is None
    assert cfg.apps == ("a", "b") and cfg.git_repositories == ()


def test_a_bad_file_raises_config_error_naming_file_line_and_key(tmp_path):
    path = tmp_path / "jobreg.yaml"
    path.write_text("jobs_root: jobs\nimport_timeout: soon\n")
    with pytest.raises(jobreg.ConfigError) as info:
        jobreg.Config.load(path)
    assert info.value.message.startswith(f"{path}:2:")
    assert "import_timeout" in info.value.message
    with pytest.raises(jobreg.ConfigError) as info:
        jobreg.Config.parse("jobs_rot: x\n", name="c.yaml")
    assert "jobs_root" in info.value.message  # the suggestion
    with pytest.raises(jobreg.FileSystemError):
        jobreg.Config.load(tmp_path / "missing.yaml")


def test_the_shipped_example_reads(tmp_path):
    if not EXAMPLE.exists():
        pytest.skip("docs/examples/jobreg.yaml is not in this tree")
    cfg = jobreg.Config.load(EXAMPLE)
    assert cfg.apps == ("my_app",) and cfg.jobs_root.endswith("examples/jobs")
