"""Every error callrec reports to a person.

Modelled on borg: one base class, one subclass per layer and per situation. The class docstring
is the message (``str.format`` fields filled from the constructor's arguments) and ``exit_code``
is stable, so scripts can rely on it. Messages are one line, name the thing that is wrong and what
to do, and never contain audio, transcript text or caller details (DESIGN.md invariant 9).

Exit codes: 0 ok, 1 generic, 2 usage/config, 3 vault, 4 access refused, 5 capture, 6 ASR/model,
7 health, 8 integrity (``callrec verify`` findings).
"""

from __future__ import annotations

__all__ = [
    "CallrecError",
    "UsageError",
    "ConfigError",
    "ConfigFileMissing",
    "ConfigSyntaxError",
    "ConfigUnknownKey",
    "ConfigWrongType",
    "ConfigBadValue",
    "VaultError",
    "KeyFileMissing",
    "KeyFileUnreadable",
    "KeyFileInvalid",
    "WrongKey",
    "WrongKeyRekeyPending",
    "NotAVault",
    "VaultMissing",
    "SchemaTooNew",
    "VaultCorrupt",
    "VaultPagesDamaged",
    "VaultBusy",
    "LockSquatted",
    "VaultTruncated",
    "DiskFull",
    "ReadOnlyFileSystem",
    "PathPermissionDenied",
    "FileProblem",
    "from_os_error",
    "AccessLogWriteFailed",
    "NotFound",
    "InvalidState",
    "AccessDenied",
    "CaptureError",
    "AsrError",
    "HealthError",
    "IntegrityError",
]


class CallrecError(Exception):
    """Error: {0}"""

    exit_code = 1

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args)
        self.kwargs = kwargs

    def __str__(self) -> str:
        doc = (type(self).__doc__ or "{0}").strip().splitlines()[0]
        return doc.format(*self.args, **self.kwargs)


class UsageError(CallrecError):
    """{0}"""

    exit_code = 2


class ConfigError(CallrecError):
    """config: {0}"""

    exit_code = 2


class ConfigFileMissing(ConfigError):
    """config file {0} not found: create it (a file holding only state_dir = "..." is enough) or pass --config FILE"""


class ConfigSyntaxError(ConfigError):
    """config file {0} is not valid TOML ({1}): fix the file"""


class ConfigUnknownKey(ConfigError):
    """config file {0}: unknown key {1!r}: remove it or check the spelling"""


class ConfigWrongType(ConfigError):
    """config file {0}: key {1!r} must be {2}, not {3}"""


class ConfigBadValue(ConfigError):
    """config file {0}: key {1!r}: {2}"""


class VaultError(CallrecError):
    """vault: {0}"""

    exit_code = 3


class VaultMissing(VaultError):
    """vault {0} does not exist: run 'callrec init' first"""


class KeyFileMissing(VaultError):
    """key file {0} not found: restore it from key custody (see README, 'Key custody'); never re-run init to make a new one for an existing vault"""


class KeyFileUnreadable(VaultError):
    """key file {0} is not readable by this account: run as the service account or use the daemon's socket"""


class KeyFileInvalid(VaultError):
    """key file {0} does not hold a 32-byte key as 64 hex digits: restore it from key custody"""


class WrongKey(VaultError):
    """vault {0} cannot be decrypted with key file {1}: wrong key (or the file is not a callrec vault); use the right key file"""


class WrongKeyRekeyPending(WrongKey):
    """vault {0} cannot be decrypted with key file {1}, and {1}.new exists: a key rotation was cut short; run 'callrec rekey' to finish it"""


class NotAVault(VaultError):
    """{0} is not a callrec vault ({1}): check the path in the config"""


class SchemaTooNew(VaultError):
    """vault {0} has schema version {1} but this callrec knows only up to {2}: upgrade callrec"""


class VaultCorrupt(VaultError):
    """vault {0} is damaged ({1}): run 'callrec verify' and restore from a backup"""


class VaultBusy(VaultError):
    """vault {0} is busy (another writer held it too long: {1}); nothing is damaged: try again in a moment"""


class LockSquatted(VaultError):
    """lock {0} held by uid {1}, not a callrec process ({2}): stop that process or remove the file, then start again"""


class VaultPagesDamaged(VaultError):
    """vault {0} is damaged: {1} of its {2} pages fail their check although key file {3} is the right key; restore the vault from a backup ('callrec restore')"""


class VaultTruncated(NotAVault):
    """vault {0} is truncated ({1} bytes, not a whole number of {2}-byte pages): the key is not the problem; restore the vault from a backup ('callrec restore')"""


class DiskFull(VaultError):
    """disk full: no space left on the file system holding {0}; everything committed before now is kept in the vault and nothing needs restoring: free space there (or grow the disk) and start again"""


class ReadOnlyFileSystem(VaultError):
    """{0} is on a read-only file system, so account {1} cannot write there: remount it read-write (or move state_dir) and start again"""


class PathPermissionDenied(VaultError):
    """permission denied: account {1} may not {2} {0}: give that account access (e.g. chown -R to the service account) or run as the account that owns it"""


class FileProblem(CallrecError):
    """{0}: {1}"""


def from_os_error(exc: OSError, path: object = None, verb: str = "write") -> CallrecError:
    """One line for an operating-system error: what the path is and what to do, never a traceback."""
    import errno
    import os
    import pwd

    where = path if path is not None else (exc.filename or "a file")
    try:
        account = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        account = f"uid {os.geteuid()}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(where)
    if exc.errno == errno.EROFS:
        return ReadOnlyFileSystem(where, account)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PathPermissionDenied(where, account, verb)
    return FileProblem(where, exc.strerror or type(exc).__name__)


class AccessLogWriteFailed(VaultError):
    """the access log could not be written ({0}): the read was refused"""


class NotFound(CallrecError):
    """{0} not found"""

    exit_code = 3


class InvalidState(CallrecError):
    """{0}"""

    exit_code = 3


class AccessDenied(CallrecError):
    """access refused for {0}: {1} (the attempt is written to the access log)"""

    exit_code = 4


class CaptureError(CallrecError):
    """capture: {0}"""

    exit_code = 5


class AsrError(CallrecError):
    """asr: {0}"""

    exit_code = 6


class HealthError(CallrecError):
    """health: {0}"""

    exit_code = 7


class IntegrityError(CallrecError):
    """integrity: {0}"""

    exit_code = 8
