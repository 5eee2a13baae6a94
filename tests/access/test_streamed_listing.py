"""Listings of any length: ``calls list`` is read a page at a time and, through the socket, sent a
page a frame; whatever the page size, the calls, their order and the bytes are those of one read,
and a listing broken off in the middle ends in its error, never in a truncated success."""

from __future__ import annotations

import getpass
import io
import socket
import threading

import pytest

from callrec import jsoncodec
from callrec.access import action, perform
from callrec.access._actor import Actor
from callrec.access.wire import Rows, received_rows, send_rows
from callrec.cli._context import Context
from callrec.cli._output import print_records
from callrec.cli._remote import RemoteError, request
from callrec.daemon import AccessServer
from callrec.errors import VaultError
from callrec.vault.calls import list_calls, list_calls_paged
from callrec.vault.people import add_user

NOW = 1_790_000_000.0
WINDOW = {"from_iso": "2000-01-01", "to_iso": "2100-01-01"}


def _calls(vault, n: int) -> None:
    """``n`` sealed calls, many starting at the same instant (pages must break ties by id), and a
    call still recording that started long before the others."""
    with vault.transaction() as conn:
        conn.executemany(
            "INSERT INTO calls (started_ts, ended_ts, sample_rate, channels, status, frames, pcm_sha256, flags, levels,"
            " transcript_status) VALUES (?, ?, 8000, 1, 'sealed', 8000, '', '[]', '{}', 'pending')",
            [(NOW + (i // 3) * 60.0, NOW + (i // 3) * 60.0 + 1.0) for i in range(n)])
        conn.execute("INSERT INTO calls (started_ts, sample_rate, channels, status, frames, pcm_sha256, flags, levels,"
                     " transcript_status) VALUES (?, 8000, 1, 'recording', ?, '', '[]', '{}', 'pending')",
                     (NOW - 30 * 86400, 31 * 86400 * 8000))
        conn.execute("UPDATE archive_state SET value = 1.0 WHERE key = 'max_call_s'")


@pytest.mark.parametrize("page", [1, 2, 3, 7, 1000])
def test_pages_of_any_size_list_the_calls_of_one_read(vault, page):
    _calls(vault, 40)
    zone = vault.config.zone
    whole = list_calls(vault, NOW - 86400, NOW + 86400, zone)
    assert len(whole) == 41 and whole[0]["status"] == "recording"
    pages = list(list_calls_paged(vault, NOW - 86400, NOW + 86400, zone, page=page))
    assert all(0 < len(p) <= page for p in pages)
    assert [c for p in pages for c in p] == whole
    assert [c["id"] for c in whole[1:]] == list(range(1, 41))  # three at a time started together: by id


@pytest.fixture
def server(vault, config):
    add_user(vault, "root", getpass.getuser(), ["ops"])
    srv = AccessServer(config)
    srv.start()
    yield srv
    srv.stop()


def test_a_listing_longer_than_a_page_arrives_whole_and_byte_for_byte(server, vault, config):
    _calls(vault, 2500)  # three pages of 1000
    here = perform(vault, Actor.person(getpass.getuser()), "calls.list", WINDOW)
    direct = b",\n".join(here.calls.encoded())
    remote = request(config.socket_path, action("calls.list"), WINDOW)
    pages = list(remote.calls.encoded())
    assert len(pages) == 3 and b",\n".join(pages) == direct
    assert [c["id"] for c in jsoncodec.loads(b"[" + direct + b"]")] == [c["id"] for c in
                                                                         list_calls(vault, 0, 4e9, vault.config.zone)]
    out = io.StringIO()
    print_records(Context(None, "x", out=out), iter(pages))
    assert [c["id"] for c in jsoncodec.loads(out.getvalue())] == list(range(1, 2502))[-1:] + list(range(1, 2501))


def test_an_empty_listing_is_an_empty_array():
    out = io.StringIO()
    print_records(Context(None, "x", out=out), iter(()))
    assert out.getvalue() == "[]\n" and jsoncodec.loads(out.getvalue()) == []


def _broken(after: int):
    for i in range(after):
        yield [{"id": i}]
    raise VaultError("the vault broke off")


@pytest.mark.parametrize("after", [0, 1, 3])
def test_a_listing_broken_off_ends_in_its_error(after):
    """The daemon's side meets an error after some pages: the client gets those pages, then the
    error (with its exit code), never a listing that looks complete."""
    ours, theirs = socket.socketpair()
    sent = threading.Thread(target=send_rows, args=(ours, Rows(_broken(after)), lambda exc: (3, str(exc))))
    sent.start()

    def trailer(line: dict) -> None:
        if "error" in line:
            raise RemoteError(line["error"], line["rc"])

    got = []
    with theirs.makefile("rb") as rfile, pytest.raises(RemoteError, match="the vault broke off") as broke:
        for record in received_rows(rfile, trailer):
            got.append(record["id"])
    sent.join()
    ours.close()
    theirs.close()
    assert got == list(range(after)) and broke.value.exit_code == 3


@pytest.mark.parametrize("reply", [b"not json\n", b'{"v": 1, "rc": 0, "result": {}, "frames": 1}\n', b"x" * 70])
def test_a_reply_that_cannot_be_read_is_not_a_daemon_that_does_not_answer(tmp_path, reply):
    path = tmp_path / "sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.makefile("rb").readline()
            conn.sendall(reply)

    answered = threading.Thread(target=answer)
    answered.start()
    with pytest.raises(VaultError) as broke:
        request(path, action("calls.list"), WINDOW)
    answered.join()
    listener.close()
    assert "reply to calls.list could not be read" in str(broke.value)
    assert "does not answer" not in str(broke.value)
