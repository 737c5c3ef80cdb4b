"""jobreg._config (the binding): the ``jobreg.yaml`` configuration (include/jobreg/config.h).

``Config.load(path)`` or ``Config.parse(text, base_dir=...)``; a bad file
raises ConfigError whose message is "FILE:LINE:COLUMN: ...". Paths come
back absolute. The object is immutable; ``locate(key)`` says where a
setting was written.
"""

from typing import NamedTuple, Optional

from ._errors import check, closed
from ._ffi import ffi, from_c, lib, path_to_c, to_c


class GitRepositoryConfig(NamedTuple):
    slug: str
    remote_url: str           # as written: may carry credentials (redact_url before showing it)
    branch: str
    token_env: Optional[str]  # the environment variable holding its token, or None
    # "1.x" or "2.x" as written, or None (absent: the top-level nautobot_compat
    # decides); GitSource.nautobot_compat takes the same values.
    nautobot_compat: Optional[str] = None


_TOP_COMPAT = {lib.JOBREG_COMPAT_OFF: False, lib.JOBREG_COMPAT_AUTO: True,
               lib.JOBREG_COMPAT_1X: "1.x"}
_REPO_COMPAT = {lib.JOBREG_COMPAT_DEFAULT: None, lib.JOBREG_COMPAT_AUTO: "2.x",
                lib.JOBREG_COMPAT_1X: "1.x"}


class Config:
    def __init__(self, ptr):
        self._ptr = ffi.gc(ptr, lib.jobreg_config_free)

    @classmethod
    def load(cls, path):
        out = ffi.new("jobreg_config **")
        check(lib.jobreg_config_load(out, path_to_c(path)))
        return cls(out[0])

    @classmethod
    def parse(cls, text, base_dir=None, name=None):
        """Parse configuration text; relative paths against ``base_dir`` (default: cwd)."""
        data = to_c(text, "text")
        out = ffi.new("jobreg_config **")
        check(lib.jobreg_config_parse(out, data, len(data),
                                      ffi.NULL if base_dir is None else path_to_c(base_dir),
                                      ffi.NULL if name is None else to_c(name, "name")))
        return cls(out[0])

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("configuration")
        return ptr

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    path = property(lambda self: from_c(lib.jobreg_config_path(self._c)))
    dir = property(lambda self: from_c(lib.jobreg_config_dir(self._c)))
    jobs_root = property(lambda self: from_c(lib.jobreg_config_jobs_root(self._c)))
    git_root = property(lambda self: from_c(lib.jobreg_config_git_root(self._c)))
    database = property(lambda self: from_c(lib.jobreg_config_database(self._c)))
    # True (true, "2.x" or absent), False, or "1.x" (Nautobot 1.x jobs too).
    nautobot_compat = property(
        lambda self: _TOP_COMPAT[lib.jobreg_config_nautobot_compat(self._c)])
    import_timeout = property(lambda self: lib.jobreg_config_import_timeout(self._c))

    @property
    def python_path(self):
        c = self._c
        return tuple(from_c(lib.jobreg_config_python_path(c, i))
                     for i in range(lib.jobreg_config_python_path_count(c)))

    @property
    def apps(self):
        c = self._c
        return tuple(from_c(lib.jobreg_config_app(c, i))
                     for i in range(lib.jobreg_config_app_count(c)))

    @property
    def git_repositories(self):
        c = self._c
        return tuple(GitRepositoryConfig(from_c(lib.jobreg_config_git_repository_slug(c, i)),
                                         from_c(lib.jobreg_config_git_repository_remote_url(c, i)),
                                         from_c(lib.jobreg_config_git_repository_branch(c, i)),
                                         from_c(lib.jobreg_config_git_repository_token_env(c, i)),
                                         _REPO_COMPAT[
                                             lib.jobreg_config_git_repository_nautobot_compat(c, i)])
                     for i in range(lib.jobreg_config_git_repository_count(c)))

    def locate(self, key):
        """(line, column), 1-based, where ``key`` ("apps[1]", "git_repositories[0].slug")
        was written. Raises NotFound for a setting the file does not contain."""
        line, column = ffi.new("unsigned int *"), ffi.new("unsigned int *")
        check(lib.jobreg_config_locate(line, column, self._c, to_c(key, "key")))
        return line[0], column[0]

    def __repr__(self):
        if self._ptr is None:
            return "<jobreg.Config (closed)>"
        return f"<jobreg.Config {self.path!r}>"
