"""Cluster interop: the Python client (PyPI `kurrentdbclient`) against an embedded
three-node cluster (`kurrentdb-embedded --cluster-size 3 --insecure`).

The client connects by `kurrentdb+discover://` through one node, finds the
leader by gossip, appends, reads, subscribes (catch-up and persistent), then
the leader is stopped (the Operations service's `Shutdown`, called with the
client's own gRPC channel machinery: the Python client has no Operations API)
and the client must follow the new leader: its appends go on, nothing is lost
or written twice, and subscriptions reopened on the new leader see everything.

Usage: python cluster_interop.py PATH/TO/kurrentdb-embedded

The script starts the cluster itself (`--cluster-size 3 --insecure` on three
free consecutive ports) and stops it at the end.

Prints one line per check and a last line `N passed, M failed`; exits non-zero
when any check failed.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

import grpc
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.gossip import NODE_STATE_LEADER
from kurrentdbclient.exceptions import (
    DiscoveryFailedError,
    NodeIsNotLeaderError,
    ServiceUnavailableError,
)

RESULTS: list[tuple[str, bool]] = []


def report(name: str, ok: bool) -> None:
    RESULTS.append((name, ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}")


def equal(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def leader_port(client: KurrentDBClient) -> int:
    """The leader's port, from gossip; exactly one member leads."""
    members = client.read_gossip()
    leaders = [m for m in members if m.state == NODE_STATE_LEADER]
    equal(len(members), 3, "gossip members")
    equal(len(leaders), 1, "leaders in gossip")
    return leaders[0].port


def shut_down(port: int) -> None:
    """Stops the node on `port` through the Operations service's Shutdown
    (request and response are `Empty`: zero bytes on the wire)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(
            "/event_store.client.operations.Operations/Shutdown",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        call(b"", timeout=5)


def append_following_the_leader(client: KurrentDBClient, name: str, event: NewEvent) -> int:
    """Appends `event` (its id fixed, so a retry is idempotent), retrying
    while the cluster elects; how many attempts failed."""
    failures = 0
    deadline = time.monotonic() + 15
    while True:
        try:
            client.append_to_stream(name, events=[event], current_version=StreamState.ANY)
            return failures
        except (ServiceUnavailableError, NodeIsNotLeaderError, DiscoveryFailedError):
            failures += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports that are free now."""
    for _ in range(100):
        base = random.randint(20000, 60000)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free consecutive ports")


def start_cluster(server: str) -> tuple[subprocess.Popen[bytes], list[int]]:
    """Starts a three-node insecure cluster; waits (10 s at most) until it
    listens."""
    base = free_ports(3)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [server, "--cluster-size", "3", "--insecure", "--node-port", str(base)],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log.seek(0)
        if b"listening on" in log.read():
            return process, [base, base + 1, base + 2]
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    log.seek(0)
    raise RuntimeError(f"the cluster did not start: {log.read().decode(errors='replace')}")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    process, ports = start_cluster(sys.argv[1])
    try:
        return run(ports)
    finally:
        process.kill()
        process.wait()


def run(ports: list[int]) -> int:
    uri = f"kurrentdb+discover://127.0.0.1:{ports[1]}?tls=false&NodePreference=leader"
    client = KurrentDBClient(uri)
    name = f"py-cluster-{uuid.uuid4().hex}"
    events = [NewEvent(type="E", data=b"{}", id=uuid.uuid4()) for _ in range(6)]
    try:
        try:
            first_leader = leader_port(client)
            equal(first_leader in ports, True, "the leader is a node of the cluster")
            for e in events[:3]:
                client.append_to_stream(name, events=[e], current_version=StreamState.ANY)
            equal([r.id for r in client.get_stream(name)], [e.id for e in events[:3]], "read back")
            sub = client.subscribe_to_stream(name, timeout=10)
            got = [next(sub).id for _ in range(3)]
            sub.stop()
            equal(got, [e.id for e in events[:3]], "catch-up subscription")
            client.create_subscription_to_stream("g", name)
            psub = client.read_subscription_to_stream("g", name, timeout=10)
            first = next(psub)
            psub.ack(first)
            psub.stop()
            equal(first.id, events[0].id, "persistent subscription")
        except Exception:  # noqa: BLE001 - every failure is reported
            traceback.print_exc()
            report("discover_append_read_subscribe", False)
            return 1
        report("discover_append_read_subscribe", True)

        try:
            shut_down(first_leader)
            failures = [append_following_the_leader(client, name, e) for e in events[3:]]
            print(f"     appends failed while electing: {failures}")
            new_leader = leader_port(client)
            if new_leader == first_leader:
                raise AssertionError("the stopped node still leads")
            equal([r.id for r in client.get_stream(name)], [e.id for e in events], "every event once")
            sub = client.subscribe_to_stream(name, stream_position=2, timeout=10)
            got = [next(sub).id for _ in range(3)]
            sub.stop()
            equal(got, [e.id for e in events[3:]], "resubscribed after the last seen position")
            psub = client.read_subscription_to_stream("g", name, timeout=10)
            ids = set()
            for e in psub:
                ids.add(e.id)
                psub.ack(e)
                if {x.id for x in events[1:]} <= ids:
                    break
            psub.stop()
            # The loop also ends when the subscription's timeout does.
            missing = {x.id for x in events[1:]} - ids
            equal(missing, set(), "the persistent subscription delivered every unacked event")
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            report("follow_the_leader_after_it_stops", False)
        else:
            report("follow_the_leader_after_it_stops", True)
    finally:
        client.close()
    passed = sum(ok for _, ok in RESULTS)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
