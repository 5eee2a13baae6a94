"""Which account is on the other end of a loopback TCP connection, from /proc/net/tcp."""

from __future__ import annotations

import os
import socket

from callrec.ui._peer import peer_uid


def test_a_connection_of_this_process_is_this_account():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname()) as client:
            accepted, address = server.accept()
            with accepted:
                assert address == client.getsockname()
                assert peer_uid(address, server.getsockname()) == os.getuid()
                assert peer_uid(server.getsockname(), address) == os.getuid()  # the server's own side
                assert peer_uid(("127.0.0.1", 1), server.getsockname()) is None


def test_an_unreadable_table_names_no_one(tmp_path):
    assert peer_uid(("127.0.0.1", 1), ("127.0.0.1", 2), table=tmp_path / "absent") is None
