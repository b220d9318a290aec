"""Interop check: the Python client (PyPI `kurrentdbclient`) against our embedded server.

The official Rust crate has no v2 API, so this script covers what it cannot:
`multi_append_to_stream` and `append_records` (with their failures), plus a
basic append / read / get_commit_position / subscribe / delete / tombstone
round. Every check states what the Python client's documentation promises
against a real KurrentDB node; a failure means our server answered otherwise.

Usage: python interop.py kurrentdb://127.0.0.1:PORT?tls=false

Prints one line per check and a last line `N passed, M failed`; exits non-zero
when any check failed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
import uuid
from typing import Callable

from kurrentdbclient import (
    CaughtUp,
    KurrentDBClient,
    NewEvent,
    NewEvents,
    NewRecord,
    StreamState,
    StreamStateCheck,
)
from kurrentdbclient.exceptions import (
    AlreadyExistsError,
    ConsistencyChecksFailedError,
    InternalError,
    MultiAppendToSameStreamError,
    NotFoundError,
    StreamIsDeletedError,
    StreamTombstonedError,
    WrongCurrentVersionError,
)

CHECKS: list[Callable[[KurrentDBClient], None]] = []


def check(fn: Callable[[KurrentDBClient], None]) -> Callable[[KurrentDBClient], None]:
    """Registers a check."""
    CHECKS.append(fn)
    return fn


def stream(prefix: str) -> str:
    """A stream name no other check uses."""
    return f"{prefix}-{uuid.uuid4().hex}"


def event(kind: str, n: int) -> NewEvent:
    return NewEvent(
        type=kind,
        data=json.dumps({"n": n}).encode(),
        metadata=json.dumps({"seq": str(n)}).encode(),
    )


def expect_error(error_type: type[BaseException], call: Callable[[], object]) -> BaseException:
    """Runs `call`, which must raise `error_type`; returns the error."""
    try:
        result = call()
    except error_type as e:
        return e
    raise AssertionError(f"expected {error_type.__name__}, got result {result!r}")


def equal(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


# ---------------------------------------------------------------------------
# v1 basics
# ---------------------------------------------------------------------------


@check
def append_and_read_back(client: KurrentDBClient) -> None:
    name = stream("py-basic")
    sent = [
        event("Created", 0),
        event("Updated", 1),
        NewEvent(
            type="Blob",
            data=b"\x00\x01\xfe\xff",
            metadata=b"\x00raw",
            content_type="application/octet-stream",
        ),
    ]
    commit = client.append_to_stream(name, events=sent, current_version=StreamState.NO_STREAM)
    read = client.get_stream(name)
    equal(len(read), 3, "events read")
    for i, (s, r) in enumerate(zip(sent, read)):
        equal(r.id, s.id, "id")
        equal(r.type, s.type, "type")
        equal(r.data, s.data, "data")
        equal(r.metadata, s.metadata, "metadata")
        equal(r.content_type, s.content_type, "content type")
        equal(r.stream_name, name, "stream name")
        equal(r.stream_position, i, "stream position")
    equal(read[-1].commit_position, commit, "append returns the last event's commit position")
    if not read[0].commit_position < read[1].commit_position < read[2].commit_position:
        raise AssertionError("commit positions increase")
    # A single event goes through the unary append path.
    commit2 = client.append_to_stream(name, events=event("One", 3), current_version=2)
    equal(client.get_current_version(name), 3, "current version")
    if commit2 <= commit:
        raise AssertionError("second append's commit position is later")
    backwards = client.get_stream(name, backwards=True, limit=2)
    equal([e.stream_position for e in backwards], [3, 2], "backwards read")


@check
def wrong_current_version(client: KurrentDBClient) -> None:
    name = stream("py-wrong")
    client.append_to_stream(name, events=[event("E", 0)], current_version=StreamState.NO_STREAM)
    err = expect_error(
        WrongCurrentVersionError,
        lambda: client.append_to_stream(name, events=[event("E", 1)], current_version=5),
    )
    equal(len(client.get_stream(name)), 1, "nothing written")
    del err
    expect_error(
        WrongCurrentVersionError,
        lambda: client.append_to_stream(
            name, events=[event("E", 1)], current_version=StreamState.NO_STREAM
        ),
    )
    expect_error(
        WrongCurrentVersionError,
        lambda: client.append_to_stream(
            stream("py-missing"), events=[event("E", 1)], current_version=StreamState.EXISTS
        ),
    )


@check
def read_missing_stream(client: KurrentDBClient) -> None:
    expect_error(NotFoundError, lambda: client.get_stream(stream("py-missing")))
    equal(
        client.get_current_version(stream("py-missing")),
        StreamState.NO_STREAM,
        "current version of a missing stream",
    )


@check
def commit_position_and_read_all(client: KurrentDBClient) -> None:
    name = stream("py-all")
    commit = client.append_to_stream(
        name, events=[event("A", 0), event("A", 1)], current_version=StreamState.ANY
    )
    equal(client.get_commit_position(), commit, "get_commit_position after an append")
    # Default read_all excludes system events with a lookahead regex.
    events = client.read_all(commit_position=0)
    mine = [e for e in events if e.stream_name == name]
    equal([e.stream_position for e in mine], [0, 1], "read_all finds the stream's events")
    if any(e.type.startswith("$") for e in client.read_all()):
        raise AssertionError("the default filter excludes system events")
    last = list(client.read_all(backwards=True, limit=1))
    equal(last[0].commit_position, commit, "read_all backwards starts at the last event")
    only = list(client.read_all(filter_include=[name], filter_by_stream_name=True))
    equal(len(only), 2, "read_all filtered by stream name")


@check
def subscribe_to_stream_and_all(client: KurrentDBClient) -> None:
    name = stream("py-sub")
    client.append_to_stream(
        name, events=[event("Before", 0), event("Before", 1)], current_version=StreamState.NO_STREAM
    )
    seen: list[int] = []
    sub = client.subscribe_to_stream(name, include_caught_up=True, timeout=10)
    caught_up = False
    try:
        for item in sub:
            if isinstance(item, CaughtUp):
                caught_up = True
                client.append_to_stream(name, events=[event("Live", 2)], current_version=1)
                continue
            seen.append(item.stream_position)
            if len(seen) == 3:
                break
    finally:
        sub.stop()
    equal(seen, [0, 1, 2], "stream subscription: stored then live events")
    if not caught_up:
        raise AssertionError("a caught-up marker was delivered")

    prefix = f"pyflt{uuid.uuid4().hex}-"
    client.append_to_stream(f"{prefix}a", events=[event("W", 0)], current_version=StreamState.ANY)
    all_sub = client.subscribe_to_all(
        filter_include=[prefix], filter_by_stream_name=True, filter_by_prefix=True, timeout=10
    )
    got: list[str] = []
    try:
        for item in all_sub:
            got.append(item.stream_name)
            if len(got) == 1:
                client.append_to_stream(
                    stream("py-noise"), events=[event("N", 0)], current_version=StreamState.ANY
                )
                client.append_to_stream(
                    f"{prefix}b", events=[event("W", 1)], current_version=StreamState.ANY
                )
            if len(got) == 2:
                break
    finally:
        all_sub.stop()
    equal(got, [f"{prefix}a", f"{prefix}b"], "filtered $all subscription")


@check
def delete_and_tombstone(client: KurrentDBClient) -> None:
    name = stream("py-del")
    client.append_to_stream(name, events=[event("E", 0), event("E", 1)], current_version=StreamState.ANY)
    expect_error(
        WrongCurrentVersionError, lambda: client.delete_stream(name, current_version=0)
    )
    client.delete_stream(name, current_version=1)
    expect_error(NotFoundError, lambda: client.get_stream(name))
    client.append_to_stream(name, events=[event("E", 2)], current_version=StreamState.NO_STREAM)
    equal([e.stream_position for e in client.get_stream(name)], [2], "recreated stream")

    dead = stream("py-tomb")
    client.append_to_stream(dead, events=[event("E", 0)], current_version=StreamState.ANY)
    client.tombstone_stream(dead, current_version=StreamState.ANY)
    expect_error(StreamIsDeletedError, lambda: client.get_stream(dead))
    expect_error(
        StreamIsDeletedError,
        lambda: client.append_to_stream(dead, events=[event("E", 1)], current_version=StreamState.ANY),
    )
    expect_error(
        StreamIsDeletedError,
        lambda: client.tombstone_stream(dead, current_version=StreamState.ANY),
    )


# ---------------------------------------------------------------------------
# v2: multi_append_to_stream
# ---------------------------------------------------------------------------


@check
def multi_append_to_several_streams(client: KurrentDBClient) -> None:
    a, b = stream("py-multi-a"), stream("py-multi-b")
    client.append_to_stream(b, events=[event("Old", 0)], current_version=StreamState.NO_STREAM)
    commit = client.multi_append_to_stream(
        [
            NewEvents(a, [event("A", 0), event("A", 1)], StreamState.NO_STREAM),
            NewEvents(b, [event("B", 1)], 0),
        ]
    )
    read_a, read_b = client.get_stream(a), client.get_stream(b)
    equal([e.type for e in read_a], ["A", "A"], "stream a")
    equal([e.stream_position for e in read_b], [0, 1], "stream b")
    equal(
        max(read_a[-1].commit_position, read_b[-1].commit_position),
        commit,
        "multi_append returns the commit position of the last record",
    )
    equal(json.loads(read_a[1].data), {"n": 1}, "data")
    equal(json.loads(read_a[1].metadata), {"seq": "1"}, "metadata")


@check
def multi_append_wrong_current_version(client: KurrentDBClient) -> None:
    a, b = stream("py-mwrong-a"), stream("py-mwrong-b")
    client.append_to_stream(b, events=[event("Old", 0)], current_version=StreamState.NO_STREAM)
    err = expect_error(
        WrongCurrentVersionError,
        lambda: client.multi_append_to_stream(
            [
                NewEvents(a, [event("A", 0)], StreamState.NO_STREAM),
                NewEvents(b, [event("B", 1)], 7),
            ]
        ),
    )
    assert isinstance(err, WrongCurrentVersionError)
    equal(err.stream_name, b, "error's stream")
    equal(err.expected_version, 7, "error's expected version")
    equal(err.actual_version, 0, "error's actual version")
    # Atomic: nothing was written to either stream.
    expect_error(NotFoundError, lambda: client.get_stream(a))
    equal(len(client.get_stream(b)), 1, "stream b unchanged")


@check
def multi_append_to_the_same_stream_twice(client: KurrentDBClient) -> None:
    name = stream("py-twice")
    err = expect_error(
        MultiAppendToSameStreamError,
        lambda: client.multi_append_to_stream(
            [
                NewEvents(name, [event("A", 0)], StreamState.ANY),
                NewEvents(name, [event("A", 1)], StreamState.ANY),
            ]
        ),
    )
    assert isinstance(err, MultiAppendToSameStreamError)
    equal(err.stream_name, name, "error's stream")
    expect_error(NotFoundError, lambda: client.get_stream(name))


@check
def multi_append_to_a_tombstoned_stream(client: KurrentDBClient) -> None:
    name = stream("py-mtomb")
    client.append_to_stream(name, events=[event("E", 0)], current_version=StreamState.ANY)
    client.tombstone_stream(name, current_version=StreamState.ANY)
    err = expect_error(
        StreamTombstonedError,
        lambda: client.multi_append_to_stream([NewEvents(name, [event("E", 1)], StreamState.ANY)]),
    )
    assert isinstance(err, StreamTombstonedError)
    equal(err.stream_name, name, "error's stream")


# ---------------------------------------------------------------------------
# v2: append_records
# ---------------------------------------------------------------------------


@check
def append_records_interleaved(client: KurrentDBClient) -> None:
    a, b = stream("py-rec-a"), stream("py-rec-b")
    records = [
        NewRecord(stream_name=a, type="A", data=b'{"i":0}', metadata=b'{"m":"0"}'),
        NewRecord(stream_name=b, type="B", data=b'{"i":1}'),
        NewRecord(
            stream_name=a,
            type="A",
            data=b"\x01\x02",
            content_type="application/octet-stream",
        ),
    ]
    result = client.append_records(records)
    read_a, read_b = client.get_stream(a), client.get_stream(b)
    equal([e.id for e in read_a], [records[0].id, records[2].id], "stream a ids")
    equal([e.id for e in read_b], [records[1].id], "stream b ids")
    equal(read_a[0].metadata, b'{"m":"0"}', "metadata")
    equal(read_a[1].content_type, "application/octet-stream", "content type")
    # Records of one stream keep their order (the protocol promises no more
    # across streams); the result carries the last record's position.
    if not read_a[0].commit_position < read_a[1].commit_position:
        raise AssertionError("records of one stream are written in request order")
    last = max(read_a[1].commit_position, read_b[0].commit_position)
    equal(result.commit_position, last, "result's commit position")
    positions = {p.stream_name: p.stream_position for p in result.stream_positions}
    equal(positions, {a: 1, b: 0}, "result's stream positions")


@check
def append_records_with_passing_checks(client: KurrentDBClient) -> None:
    a, guard = stream("py-chk-a"), stream("py-chk-guard")
    client.append_to_stream(guard, events=[event("G", 0)], current_version=StreamState.NO_STREAM)
    client.append_records(
        [NewRecord(stream_name=a, type="A", data=b"{}")],
        checks=[
            StreamStateCheck(guard, 0),
            StreamStateCheck(a, StreamState.NO_STREAM),
        ],
    )
    equal(len(client.get_stream(a)), 1, "record written")
    # A check may name a stream no record writes to.
    client.append_records(
        [NewRecord(stream_name=a, type="A", data=b"{}")],
        checks=[StreamStateCheck(guard, StreamState.EXISTS), StreamStateCheck(a, 0)],
    )
    equal(len(client.get_stream(a)), 2, "second record written")
    # A check may not expect ANY (KurrentDB 26.1's ConsistencyCheckValidator).
    try:
        client.append_records(
            [NewRecord(stream_name=a, type="A", data=b"{}")],
            checks=[StreamStateCheck(guard, StreamState.ANY)],
        )
    except Exception as e:  # the client raises its generic gRPC error
        assert "Any (-2) is not allowed" in str(e), e
    else:
        raise AssertionError("a check expecting ANY was accepted")
    equal(len(client.get_stream(a)), 2, "nothing written by the refused append")


@check
def append_records_failing_checks(client: KurrentDBClient) -> None:
    a, guard, missing = stream("py-fail-a"), stream("py-fail-guard"), stream("py-fail-missing")
    client.append_to_stream(
        guard, events=[event("G", 0), event("G", 1)], current_version=StreamState.NO_STREAM
    )
    err = expect_error(
        ConsistencyChecksFailedError,
        lambda: client.append_records(
            [NewRecord(stream_name=a, type="A", data=b"{}")],
            checks=[
                StreamStateCheck(a, StreamState.NO_STREAM),  # passes
                StreamStateCheck(guard, 0),  # fails: at 1
                StreamStateCheck(missing, StreamState.EXISTS),  # fails: missing
            ],
        ),
    )
    assert isinstance(err, ConsistencyChecksFailedError)
    failures = {f.check_index: f.stream_state_failure for f in err.failures}
    equal(sorted(failures), [1, 2], "failed check indexes")
    guard_failure = failures[1]
    assert guard_failure is not None
    equal(guard_failure.stream_name, guard, "failure 1 stream")
    equal(guard_failure.expected_state, 0, "failure 1 expected")
    equal(guard_failure.actual_state, 1, "failure 1 actual")
    missing_failure = failures[2]
    assert missing_failure is not None
    equal(missing_failure.stream_name, missing, "failure 2 stream")
    equal(missing_failure.expected_state, -4, "failure 2 expected (EXISTS)")
    equal(missing_failure.actual_state, -1, "failure 2 actual (NO_STREAM)")
    # Nothing was written.
    expect_error(NotFoundError, lambda: client.get_stream(a))


@check
def append_records_to_a_tombstoned_stream(client: KurrentDBClient) -> None:
    # KurrentDB 26.1: a consistency violation at the stream's place (no
    # checks: 0), expecting any (-2), actually tombstoned (-6).
    name = stream("py-rtomb")
    client.append_to_stream(name, events=[event("E", 0)], current_version=StreamState.ANY)
    client.tombstone_stream(name, current_version=StreamState.ANY)
    err = expect_error(
        ConsistencyChecksFailedError,
        lambda: client.append_records([NewRecord(stream_name=name, type="E", data=b"{}")]),
    )
    assert isinstance(err, ConsistencyChecksFailedError)
    failures = {f.check_index: f.stream_state_failure for f in err.failures}
    equal(sorted(failures), [0], "one violation, at the stream's place")
    failure = failures[0]
    assert failure is not None
    equal(failure.stream_name, name, "violation's stream")
    equal(failure.expected_state, -2, "expected (ANY)")
    equal(failure.actual_state, -6, "actual (TOMBSTONED)")


@check
def v2_appends_reach_a_live_subscription(client: KurrentDBClient) -> None:
    name = stream("py-v2live")
    sub = client.subscribe_to_stream(name, timeout=10)
    received: list[str] = []

    def consume() -> None:
        for item in sub:
            received.append(item.type)
            if len(received) == 2:
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    client.multi_append_to_stream([NewEvents(name, [event("M", 0)], StreamState.NO_STREAM)])
    client.append_records([NewRecord(stream_name=name, type="R", data=b"{}")])
    consumer.join(10)
    sub.stop()
    equal(received, ["M", "R"], "v2 appends delivered live")


@check
def secondary_indexes(client: KurrentDBClient) -> None:
    category = "pyidx" + uuid.uuid4().hex
    kind = "PyIndexed" + uuid.uuid4().hex
    client.append_to_stream(
        f"{category}-1", current_version=StreamState.NO_STREAM, events=[event(kind, 0), event("Other", 1)]
    )
    client.append_to_stream(f"elsewhere{category}-2", current_version=StreamState.NO_STREAM, events=[event(kind, 2)])
    client.append_to_stream(f"{category}-3", current_version=StreamState.NO_STREAM, events=[event(kind, 3)])
    by_category = list(client.read_index(f"ce-{category}"))
    equal(
        [(e.stream_name, e.stream_position) for e in by_category],
        [(f"{category}-1", 0), (f"{category}-1", 1), (f"{category}-3", 0)],
        "$idx-ce- read",
    )
    by_type = list(client.read_index(f"$idx-et-{kind}"))
    equal([e.stream_name for e in by_type], [f"{category}-1", f"elsewhere{category}-2", f"{category}-3"], "$idx-et- read")
    after_first = list(client.read_index(f"ce-{category}", commit_position=by_category[1].commit_position))
    equal([e.id for e in after_first], [e.id for e in by_category[1:]], "from a position, included")
    sub = client.subscribe_to_index(f"et-{kind}", commit_position=by_type[0].commit_position, timeout=10)
    received: list[str] = []
    for item in sub:
        received.append(item.stream_name)
        if len(received) == 2:
            break
    sub.stop()
    equal(received, [f"elsewhere{category}-2", f"{category}-3"], "subscribed after a position")


def eventually(probe: Callable[[], object], what: str) -> object:
    """Calls probe every 20 ms until it returns something truthy (10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} within 10s")


@check
def projections_lifecycle(client: KurrentDBClient) -> None:
    category = "py" + uuid.uuid4().hex
    client.append_to_stream(
        f"{category}-1", current_version=StreamState.NO_STREAM, events=[event("Added", 1), event("Added", 2)]
    )
    name = "sum-" + uuid.uuid4().hex
    query = (
        f"fromCategory('{category}').when({{ $init: function () {{ return {{ count: 0 }}; }}, "
        "Added: function (s, e) { s.count += 1; } })"
    )
    client.create_projection(name=name, query=query)
    expect_error(AlreadyExistsError, lambda: client.create_projection(name=name, query=query))
    eventually(lambda: client.get_projection_state(name).value == {"count": 2}, "the state")
    stats = client.get_projection_statistics(name)
    equal((stats.status, stats.mode), ("Running", "Continuous"), "statistics")
    names = [s.name for s in client.list_continuous_projection_statistics()]
    equal(name in names, True, "listed")
    equal("$by_category" in [s.name for s in client.list_all_projection_statistics()], True, "standard listed")
    client.disable_projection(name)
    equal(client.get_projection_statistics(name).status, "Stopped", "disabled")
    client.enable_projection(name)
    client.reset_projection(name)
    client.abort_projection(name)
    equal(client.get_projection_statistics(name).status, "Aborted/Stopped", "aborted")
    client.disable_projection(name)
    client.delete_projection(name)
    expect_error(NotFoundError, lambda: client.get_projection_statistics(name))
    # $by_category's links, resolved.
    def ce_links() -> list[object]:
        try:
            return list(client.get_stream(f"$ce-{category}", resolve_links=True))
        except NotFoundError:
            return []

    links = eventually(lambda: len(ce_links()) == 2 and ce_links(), "the $ce- stream")
    equal([(e.stream_name, e.stream_position) for e in links], [(f"{category}-1", 0), (f"{category}-1", 1)], "$ce- links")


@check
def persistent_subscription_statistics(client: KurrentDBClient) -> None:
    name = stream("stats")
    client.append_to_stream(name, current_version=StreamState.NO_STREAM, events=[event("Work", n) for n in range(5)])
    client.create_subscription_to_stream("group", name, extra_statistics=True)
    # A slow consumer: two in flight, the first nacked to the parked stream.
    sub = client.read_subscription_to_stream("group", name, event_buffer_size=2)
    first = next(sub)
    next(sub)
    sub.nack(first, "park")

    def parked() -> object:
        info = client.get_subscription_info("group", name)
        return info.parked_message_count == 1 and info.total_items == 3 and info

    info = eventually(parked, "the parked message")
    equal(
        (info.status, info.read_buffer_count, info.live_buffer_count, info.retry_buffer_count),
        ("Live", 2, 0, 0),
        "buffers",
    )
    equal(
        (info.total_in_flight_messages, info.outstanding_messages_count, info.last_known_event_position),
        (2, 2, "4"),
        "in flight and positions",
    )
    conn = info.connections[0]
    equal(
        (conn.total_items, conn.in_flight_messages, conn.available_slots, conn.username, conn.from_),
        (3, 2, 0, "anonymous", ""),
        "connection statistics",
    )
    equal("Highest" in [m.key for m in conn.observed_measurements], True, "extra statistics")
    equal([i.read_buffer_count for i in client.list_subscriptions_to_stream(name)], [2], "listed")
    sub.stop()
    # Settings KurrentDB refuses.
    error = expect_error(
        InternalError,
        lambda: client.create_subscription_to_stream("bad", name, read_batch_size=50, history_buffer_size=50),
    )
    equal("ReadBatchSize may not be greater than or equal to BufferSize" in str(error), True, "refused batch")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    client = KurrentDBClient(sys.argv[1])
    passed = failed = 0
    try:
        for fn in CHECKS:
            try:
                fn(client)
            except Exception:  # noqa: BLE001 - every failure is reported
                failed += 1
                print(f"FAIL {fn.__name__}")
                traceback.print_exc()
            else:
                passed += 1
                print(f"ok   {fn.__name__}")
    finally:
        client.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
