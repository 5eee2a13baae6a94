"""The socket server in-process: a second daemon never touches a running daemon's socket, and a
typed request round-trips with its binary frames."""

from __future__ import annotations

import socket

import pytest

from callrec.access import ACTIONS
from callrec.cli._remote import RemoteError, request
from callrec.server import AccessServer, SocketInUse
from callrec.vault._users import add_user
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
