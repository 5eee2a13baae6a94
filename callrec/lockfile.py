"""Lock files that only their own account can hold (``vault.db.capture-lock``, ``callrec.sock.lock``).

A lock file made under umask 022 was 0644: any account could open it read-only and take the
``flock``, and the recorder would not start ("another capture is writing"). Here a lock file is
created 0600 with ``O_NOFOLLOW`` whatever the umask (an old one of our own is narrowed to 0600),
a symlink, a special file or a file of another account is refused, and a lock that another
process holds is looked up in the kernel's lock table (``/proc/locks``) so that the error can say
whether a callrec process holds it or some other account squats it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from callrec.errors import LockSquatted, UsageError

__all__ = ["LockHolder", "lock_holder", "open_lock", "try_lock"]


class LockNotOurs(UsageError):
    """lock {0} is {1}, not a regular file of this account: remove it (it is not callrec's) and start again"""


@dataclass(frozen=True)
class LockHolder:
    """A process that holds a lock: its pid, real uid and whether it is a callrec process."""

    pid: int
    uid: int | None
    callrec: bool


def _refusal(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return "a special file"
    if info.st_uid != os.geteuid():
        return f"owned by uid {info.st_uid}"
    return None


def open_lock(path: Path) -> IO[str]:
    """The lock file opened for appending, created 0600; refuses symlinks, special files and
    files of other accounts (``LockNotOurs``) without opening them (a fifo or a device is never
    opened, so never waited on)."""
    try:
        problem = _refusal(os.lstat(path))
    except FileNotFoundError:
        problem = None
    if problem is not None:
        raise LockNotOurs(path, problem)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # swapped for a symlink or a fifo since lstat
            raise LockNotOurs(path, "not a regular file") from None
        raise
    problem = _refusal(os.fstat(fd))
    if problem is not None:
        os.close(fd)
        raise LockNotOurs(path, problem)
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, 0o600)  # made by an older callrec under umask 022
    return os.fdopen(fd, "a")


def try_lock(path: Path) -> IO[str] | None:
    """The open, exclusively locked file; ``None`` when a callrec process holds it. A holder of
    another account that is not callrec is named (``LockSquatted``)."""
    lock = open_lock(path)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        holder = lock_holder(path)
        if holder is not None and not holder.callrec and holder.uid != os.getuid():
            raise LockSquatted(path, "?" if holder.uid is None else holder.uid, f"pid {holder.pid}") from None
        return None
    return lock


def _proc_uid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _is_callrec(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part == b"callrec" or part.endswith(b"/callrec") for part in argv)


def lock_holder(path: Path) -> LockHolder | None:
    """The process holding a ``flock`` on ``path`` per ``/proc/locks`` (``None`` if none is seen)."""
    try:
        info = os.stat(path, follow_symlinks=False)
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    ident = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == ident and fields[4].isdigit():
            pid = int(fields[4])
            return LockHolder(pid, _proc_uid(pid), _is_callrec(pid))
    return None
