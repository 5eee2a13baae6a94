"""The socket server in-process: a second daemon never touches a running daemon's socket, and a
typed request round-trips with its binary frames."""

from __future__ import annotations

import socket

import pytest

from callrec.access import ACTIONS
from callrec.cli._remote import RemoteError, request
from callrec.daemon import AccessServer, SocketInUse
from callrec.vault.people import add_user
from tests.conftest import record_call


@pytest.fixture
def server(vault, config):
    srv = AccessServer(config)
    srv.start()
    yield srv
    srv.stop()


def test_a_second_server_leaves_the_running_socket_alone(server, config):
    inode = config.socket_path.stat().st_ino
    with pytest.raises(SocketInUse, match="another callrec daemon"):
        AccessServer(config)
    assert config.socket_path.stat().st_ino == inode
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(config.socket_path))


def test_typed_request_and_refusal_through_the_socket(server, vault, config):
    import getpass

    call = record_call(vault, seconds=1)
    with pytest.raises(RemoteError, match="not a callrec user") as refused:
        request(config.socket_path, ACTIONS["calls.list"], {"from_iso": "2000-01-01", "to_iso": "2100-01-01"})
    assert refused.value.exit_code == 4
    add_user(vault, "root", getpass.getuser(), ["ops"])
    listed = request(config.socket_path, ACTIONS["calls.list"], {"from_iso": "2000-01-01", "to_iso": "2100-01-01"})
    assert [c["id"] for c in listed.calls] == [call]


def _connect(config) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(config.socket_path))
    return sock


def _reply(sock: socket.socket) -> dict:
    import json

    return json.loads(sock.makefile("rb").readline())


@pytest.fixture
def tight(vault, config):
    from callrec.daemon import Limits

    srv = AccessServer(config, Limits(idle_s=0.5, per_account=3, total=5))
    srv.start()
    yield srv
    srv.stop()


def test_caps_on_size_idle_time_and_connections(tight, config):
    import struct
    import time

    big = _connect(config)
    try:
        big.sendall(b"{" * (1024 * 1024 + 10))
    except OSError:
        pass
    assert "request larger than" in _reply(big)["error"]
    upload = _connect(config)
    upload.sendall(b'{"v": 1, "action": "cdr.import", "args": {"name": "x.csv"}}\n' + struct.pack("!Q", 17 * 1024 * 1024))
    assert "uploaded file larger than" in _reply(upload)["error"]
    held = [_connect(config) for _ in range(3)]
    extra = _connect(config)
    assert "too many connections" in _reply(extra)["error"]
    started = time.monotonic()
    assert "nothing received" in _reply(held[0])["error"]
    assert time.monotonic() - started < 2
    for sock in (big, upload, extra, *held):
        sock.close()


def test_malformed_requests_get_one_line(tight, config):
    for payload in (b"not json\n", b"[1, 2]\n", b"\xff\xfe\n", b"[" * 200_000 + b"\n", b'{"a":' * 100_000 + b"\n"):
        sock = _connect(config)
        sock.sendall(payload)
        reply = _reply(sock)
        assert reply["rc"] == 2 and "malformed request" in reply["error"]
        sock.close()
    with pytest.raises(RemoteError, match="not a callrec user"):  # and the socket still answers
        request(config.socket_path, ACTIONS["calls.list"], {"from_iso": "2000-01-01", "to_iso": "2100-01-01"})


def test_finished_and_dropped_connections_give_back_what_they_held(tight, config):
    import time

    for _ in range(20):
        with pytest.raises(RemoteError):
            request(config.socket_path, ACTIONS["calls.list"], {"from_iso": "2000-01-01", "to_iso": "2100-01-01"})
        sock = _connect(config)
        sock.sendall(b"x" * 1000)
        sock.close()
    for _ in range(50):
        if (tight._open, tight._buffered, tight._per_uid) == (0, 0, {}):
            break
        time.sleep(0.1)
    assert (tight._open, tight._buffered, tight._per_uid) == (0, 0, {})


def test_a_connection_dropped_mid_upload_is_an_answer_not_a_dead_daemon(vault, config):
    """Over its account's share the daemon closes the connection while the client still sends
    (EPIPE or a reset on the client's side): the client reads the daemon's line, never "not running"."""
    import getpass

    from callrec.daemon import Limits

    add_user(vault, "root", getpass.getuser(), ["ops"])
    srv = AccessServer(config, Limits(account_bytes=1024 * 1024))
    srv.start()
    try:
        with pytest.raises(RemoteError, match="too much being read at once") as caught:
            request(config.socket_path, ACTIONS["cdr.import"], {"name": "x.csv", "data": b"1" * (8 * 1024 * 1024)})
        assert caught.value.exit_code == 1
    finally:
        srv.stop()


def test_fair_queue_serves_accounts_in_turn_and_priority_first():
    from callrec.daemon._fair import FairQueue

    queue: FairQueue[str] = FairQueue(share=1)
    for i in range(5):
        queue.put(1, f"flood{i}", priority=False)
    queue.put(2, "other", priority=False)
    queue.put(3, "ops", priority=True)
    assert queue.take(reserved=True) == (3, "ops")
    assert queue.take(reserved=False) == (1, "flood0")
    assert queue.take(reserved=False) == (2, "other")  # account 1 has its one share running
    queue.done(1)
    assert queue.take(reserved=False) == (1, "flood1")
    assert sorted(queue.close()) == ["flood2", "flood3", "flood4"]
    assert queue.take(reserved=False) is None


def test_an_outbox_never_holds_a_worker_for_a_small_reply_and_gives_up_on_a_stalled_reader():
    import socket as _socket
    import time

    from callrec.daemon._outbox import Outbox

    woken = []
    box = Outbox(limit=64 * 1024, wait_s=0.5, wake=lambda: woken.append(1))
    reader, writer = _socket.socketpair()
    writer.setblocking(False)
    try:
        started = time.monotonic()
        assert box.add(b"x" * 1000) and box.add(b"y" * 1000)  # under the limit: no wait
        assert time.monotonic() - started < 0.1
        assert box.send(writer.send) == "parked" and box.parked  # all written, more may come
        assert box.add(b"z" * (8 << 20))  # one chunk past the limit is queued whole
        assert woken, "adding to a parked reply wakes the I/O thread"
        assert box.send(writer.send) == "more"  # the socket's buffer is full: nobody reads
        started = time.monotonic()
        assert not box.add(b"w" * 10)  # the worker waits for the reader, then gives up
        assert 0.4 < time.monotonic() - started < 5 and box.closed
        box.finish()
    finally:
        reader.close()
        writer.close()
