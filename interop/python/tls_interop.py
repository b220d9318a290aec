"""Interop check over TLS: the Python client (PyPI `kurrentdbclient`) against
our embedded server in `--dev` mode, trusting the server's development CA
(`tlsCaFile`) and logging in as `admin:changeit`, as against a KurrentDB node
started with `--dev`: append, read, a catch-up subscription, a persistent
subscription, access denied for a user a stream's ACL leaves out, and a wrong
password refused.

Usage: python tls_interop.py PATH/TO/kurrentdb-embedded

Starts the server (`--dev`, a free port, the dev certificate in a temporary
directory), reads the connection string it prints, runs the checks with
interop.py's runner (one line per check, then `N passed, M failed`; non-zero
exit when any failed) and stops the server.
"""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import tempfile
import threading
import time

import interop
from interop import equal, event, expect_error, stream
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.exceptions import AccessDeniedError, UnauthenticatedError

# interop.py's runner, with this file's checks instead of its own.
interop.CHECKS.clear()
check = interop.check
URI = ""


def as_user(login: str, password: str) -> KurrentDBClient:
    """A client of the same server logging in as `login`."""
    return KurrentDBClient(URI.replace("admin:changeit@", f"{login}:{password}@", 1))


@check
def append_and_read_over_tls(client: KurrentDBClient) -> None:
    name = stream("tls")
    position = client.append_to_stream(
        name, events=[event("A", 0), event("B", 1)], current_version=StreamState.NO_STREAM
    )
    equal(position > 0, True, "commit position")
    read = client.get_stream(name)
    equal([e.type for e in read], ["A", "B"], "types read")
    equal([e.stream_position for e in read], [0, 1], "positions read")


@check
def catch_up_subscription_over_tls(client: KurrentDBClient) -> None:
    name = stream("tls-sub")
    client.append_to_stream(name, events=[event("A", 0)], current_version=StreamState.NO_STREAM)
    sub = client.subscribe_to_stream(name, timeout=10)
    try:
        first = next(sub)
        client.append_to_stream(name, events=[event("B", 1)], current_version=0)
        second = next(sub)
    finally:
        sub.stop()
    equal([first.type, second.type], ["A", "B"], "history then live")


@check
def persistent_subscription_over_tls(client: KurrentDBClient) -> None:
    name = stream("tls-group")
    client.append_to_stream(
        name, events=[event("A", 0), event("B", 1)], current_version=StreamState.NO_STREAM
    )
    client.create_subscription_to_stream("group", name)
    sub = client.read_subscription_to_stream("group", name, timeout=10)
    try:
        received = []
        for _ in range(2):
            e = next(sub)
            sub.ack(e)
            received.append(e.type)
    finally:
        sub.stop()
    equal(received, ["A", "B"], "delivered in order")
    info = client.get_subscription_info("group", name)
    equal(info.group_name, "group", "group info")


@check
def access_denied_for_a_user_the_acl_leaves_out(client: KurrentDBClient) -> None:
    name = stream("tls-acl")
    client.append_to_stream(name, events=[event("A", 0)], current_version=StreamState.NO_STREAM)
    client.set_stream_metadata(name, metadata={"$acl": {"$r": "$admins", "$w": "$admins"}})
    ops = as_user("ops", "changeit")
    try:
        expect_error(AccessDeniedError, lambda: ops.get_stream(name))
        expect_error(
            AccessDeniedError,
            lambda: ops.append_to_stream(name, events=[event("B", 1)], current_version=0),
        )
        # What the ACL allows, ops may do: reading a stream of its own.
        other = stream("tls-ops")
        ops.append_to_stream(other, events=[event("A", 0)], current_version=StreamState.NO_STREAM)
        equal(len(ops.get_stream(other)), 1, "ops reads its own stream")
    finally:
        ops.close()
    equal(len(client.get_stream(name)), 1, "admin reads it")


@check
def wrong_password_is_unauthenticated(client: KurrentDBClient) -> None:
    wrong = as_user("admin", "wrong")
    try:
        expect_error(UnauthenticatedError, lambda: wrong.get_stream(stream("tls-wrong")))
    finally:
        wrong.close()


def main() -> int:
    global URI
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as certs:
        server = subprocess.Popen(
            [sys.argv[1], "--dev", "--node-port", "0", "--dev-cert-path", f"{certs}/dev-cert.pem"],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # A thread reads what the server writes (so it never blocks on a
            # full pipe) and hands the lines over; the wait for the connection
            # string has a deadline of its own, whether or not lines come.
            assert server.stderr is not None
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=lambda: [lines.put(line) for line in server.stderr], daemon=True).start()
            deadline = time.monotonic() + 30
            while not URI:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    line = lines.get(timeout=left)
                except queue.Empty:
                    break
                found = re.search(r"connect with (\S+)", line)
                if found:
                    URI = found.group(1)
            if not URI:
                print("the --dev server printed no connection string within 30 s", file=sys.stderr)
                return 1
            sys.argv = [sys.argv[0], URI]
            return interop.main()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
