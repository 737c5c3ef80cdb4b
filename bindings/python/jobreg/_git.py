"""jobreg._git (the binding): git repositories as sources of jobs (include/jobreg/git.h).

``GitSource(slug, remote_url, git_root, branch, credentials=, progress=)``;
after ``registry.add_source(src)``: ``src.sync(storage)``,
``src.ensure_head(commit)``, ``src.ensure_recorded_head(storage)``.

Credentials are asked from Python only when a server wants them:
``credentials(request)`` gets a ``CredentialRequest`` (``url``, redacted;
``username``, from the URL or None; ``allowed``, a set of "userpass",
"ssh_key", "username") and returns ``Token(token)`` (or just the token
string), ``UserPass(username, password)`` (or a 2-tuple), ``SshKey(...)``,
``SshAgent(username)``, ``Username(username)``, or None for "I have none"
(the transfer then fails with AuthenticationError). An exception aborts the
transfer: the sync raises AuthenticationError (or the code of a
``jobreg.Error``) from it.

``progress(p)`` gets a ``GitProgress`` (``stage``: "receiving",
"resolving" or "checkout"; ``current``, ``total``, ``received_bytes``) and
cancels the transfer by returning ``False`` or raising (the sync then raises
GitError, and changes nothing). A checkout is never cancelled half-way.
"""

from typing import NamedTuple, Optional

from . import _errors
from ._errors import Error, NotFound, StateError, check
from ._ffi import ffi, from_c, lib, new_cstr, path_to_c, take_string, to_c
from ._records import RefreshResult
from ._sources import Source


class UserPass(NamedTuple):
    username: str
    password: str


class Token(NamedTuple):
    """An access token, sent as the password (user: the URL's, or "x-access-token")."""

    token: str


class SshKey(NamedTuple):
    username: str
    private_key: str
    public_key: Optional[str] = None
    passphrase: Optional[str] = None


class SshAgent(NamedTuple):
    username: str


class Username(NamedTuple):
    username: str


_ALLOWED = ((lib.JOBREG_GIT_CREDENTIAL_USERPASS, "userpass"),
            (lib.JOBREG_GIT_CREDENTIAL_SSH_KEY, "ssh_key"),
            (lib.JOBREG_GIT_CREDENTIAL_USERNAME, "username"))


class CredentialRequest(NamedTuple):
    url: str                 # redacted
    username: Optional[str]  # the user name the URL carries
    allowed: frozenset       # of "userpass", "ssh_key", "username"
    allowed_types: int       # the same as JOBREG_GIT_CREDENTIAL_* bits


_STAGES = {lib.JOBREG_GIT_STAGE_RECEIVING: "receiving",
           lib.JOBREG_GIT_STAGE_RESOLVING: "resolving",
           lib.JOBREG_GIT_STAGE_CHECKOUT: "checkout"}


class GitProgress(NamedTuple):
    stage: str  # "receiving", "resolving", "checkout"
    current: int
    total: int
    received_bytes: int


class SyncResult(NamedTuple):
    old_head: str  # "" when there was no checkout
    new_head: str
    changed: bool  # the checkout moved and the new code was loaded
    refresh: Optional[RefreshResult]  # with a storage: what the refresh did


class _Callbacks:
    """What the C source's payload points at."""

    def __init__(self, credentials, progress):
        self.credentials = credentials
        self.progress = progress


def _set_credential(cred, answer):
    s = to_c
    if isinstance(answer, str):
        answer = Token(answer)
    if isinstance(answer, Token):
        return lib.jobreg_git_credential_set_token(cred, s(answer.token, "token"))
    if isinstance(answer, SshKey):
        return lib.jobreg_git_credential_set_ssh_key(
            cred, s(answer.username), ffi.NULL if answer.public_key is None else s(answer.public_key),
            s(answer.private_key), ffi.NULL if answer.passphrase is None else s(answer.passphrase))
    if isinstance(answer, SshAgent):
        return lib.jobreg_git_credential_set_ssh_agent(cred, s(answer.username))
    if isinstance(answer, Username):
        return lib.jobreg_git_credential_set_username(cred, s(answer.username))
    if isinstance(answer, tuple) and len(answer) == 2:  # UserPass or (user, password)
        return lib.jobreg_git_credential_set_userpass(cred, s(answer[0], "username"),
                                                      s(answer[1], "password"))
    raise TypeError("the credentials callback must return Token, UserPass, SshKey, SshAgent, "
                    f"Username, a token string, a (user, password) tuple or None, "
                    f"not {type(answer).__name__}")


def _park(exc_type, exc_value, tb):
    _errors.park(exc_value)


@ffi.callback("int(jobreg_git_credential *, const char *, const char *, unsigned int, void *)",
              error=lib.JOBREG_EAUTH, onerror=_park)
def _credentials(cred, url, username, allowed_types, payload):
    callbacks = ffi.from_handle(payload)
    request = CredentialRequest(from_c(url), from_c(username),
                                frozenset(name for bit, name in _ALLOWED if allowed_types & bit),
                                allowed_types)
    try:
        answer = callbacks.credentials(request)
        if answer is None:
            return 1  # no credentials for this server
        return _set_credential(cred, answer)
    except BaseException as exc:  # never through C
        _errors.park(exc)
        return exc.code if isinstance(exc, Error) and exc.code < 0 else lib.JOBREG_EAUTH


@ffi.callback("int(const jobreg_git_progress *, void *)", error=1, onerror=_park)
def _progress(p, payload):
    callbacks = ffi.from_handle(payload)
    info = GitProgress(_STAGES.get(p.stage, str(p.stage)), p.current, p.total, p.received_bytes)
    try:
        return 1 if callbacks.progress(info) is False else 0
    except BaseException as exc:
        _errors.park(exc)
        return 1


def _storage_ptr(storage):
    return ffi.NULL if storage is None else storage._c


class GitSource(Source):
    """A git repository of jobs: checkout ``<git_root>/<slug>``, modules ``<slug>``
    and ``<slug>.jobs``. Nothing is fetched until the first sync."""

    def __init__(self, slug, remote_url, git_root, branch=None, *, credentials=None,
                 progress=None):
        opts = ffi.new("jobreg_git_options *")
        check(lib.jobreg_git_options_init(opts, lib.JOBREG_GIT_OPTIONS_VERSION))
        keep = [new_cstr(slug, "slug"), new_cstr(remote_url, "remote_url"),
                new_cstr(branch, "branch"), ffi.new("char[]", path_to_c(git_root, "git_root"))]
        opts.slug, opts.remote_url, opts.branch, opts.git_root = keep
        # The C source calls these until it is freed: the handle lives on
        # this object, which the owning registry keeps.
        self._callbacks = _Callbacks(credentials, progress)
        self._handle = ffi.new_handle(self._callbacks)
        if credentials is not None:
            opts.credentials = _credentials
        if progress is not None:
            opts.progress = _progress
        opts.payload = self._handle
        out = ffi.new("jobreg_source **")
        check(lib.jobreg_source_git_new(out, opts))
        super().__init__(out[0])

    @property
    def slug(self):
        return self.name

    @property
    def remote_url(self):
        """The remote URL, credentials redacted."""
        return from_c(lib.jobreg_source_git_remote_url(self._c))

    @property
    def branch(self):
        """The branch, tag or commit followed."""
        return from_c(lib.jobreg_source_git_branch(self._c))

    @property
    def head(self):
        """The commit the checkout is at (40 hex digits), or None before the first sync."""
        out = ffi.new("char[]", lib.JOBREG_GIT_HEAD_SIZE)
        try:
            check(lib.jobreg_source_git_head(out, self._c))
        except NotFound:
            return None
        return ffi.string(out).decode()

    def _registry_c(self, what):
        if self._registry is None:
            raise StateError(f"git source {self.name!r}: add it to a registry before {what}")
        return self._registry._c

    def sync(self, storage=None):
        """Fetch, check out the branch's tip, reload this source, and with a
        storage refresh its records and record its head. Atomic. Returns SyncResult."""
        reg = self._registry_c("syncing it")
        result = ffi.new("jobreg_git_sync_result *")
        result.version = lib.JOBREG_GIT_SYNC_RESULT_VERSION
        check(lib.jobreg_git_sync(result, reg, self._c, _storage_ptr(storage)))
        refresh = RefreshResult._take(result.refresh)
        return SyncResult(ffi.string(result.old_head).decode(), ffi.string(result.new_head).decode(),
                          bool(result.changed), refresh)

    def ensure_head(self, commit):
        """Make the checkout (and the registry, if the source is in one) serve
        ``commit``; no network and no import when it already does. Returns
        True when the checkout moved."""
        reg = ffi.NULL if self._registry is None else self._registry._c
        changed = ffi.new("int *")
        check(lib.jobreg_git_ensure_head(changed, reg, self._c, to_c(commit, "commit")))
        return bool(changed[0])

    def ensure_recorded_head(self, storage):
        """ensure_head() on the head the last sync recorded in ``storage``.
        Raises NotFound when none is recorded."""
        reg = ffi.NULL if self._registry is None else self._registry._c
        changed = ffi.new("int *")
        check(lib.jobreg_git_ensure_recorded_head(changed, reg, self._c, storage._c))
        return bool(changed[0])

    def record_head(self, storage):
        """Store this source's git state (slug, redacted URL, branch, head) in ``storage``."""
        check(lib.jobreg_git_record_head(storage._c, self._c))


def redact_url(url):
    """The URL with its credentials replaced by ``***``."""
    out = ffi.new("char **")
    check(lib.jobreg_git_redact_url(out, to_c(url, "url")))
    return take_string(out[0])


def check_slug(slug):
    """Raise InvalidArgument when ``slug`` breaks a rule of git slugs (the message says which)."""
    check(lib.jobreg_git_slug_check(to_c(slug, "slug")))
