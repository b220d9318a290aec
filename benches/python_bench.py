"""The Python `kurrentdbclient` package timed on the rows of the compare bench.

Starts `kurrentdb-embedded --insecure` on a free port (the binary is the first
argument), then times the package's sync client, `KurrentDBClient`, on the
operations of crates/interop-tests/benches/compare.rs, with the same events:

- append_one: sequential one-event appends (the median of many calls);
- append_batch_100x1KiB: appends of 100 events of 1 KiB each;
- read_stream_10k: reading a 10,000-event stream to its end;
- subscribe_10k: a catch-up subscription from the start of that stream,
  until it has delivered its 10,000 events.

Writes the medians, in nanoseconds per iteration as criterion reports them, to
the JSON file given as the second argument, and prints them. benches/compare.sh
runs this after the criterion benches and puts the figures in its table.

Usage: python python_bench.py PATH/TO/kurrentdb-embedded OUT.json [--quick]

`--quick` takes a tenth of the samples, to check the script itself.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Callable

import kurrentdbclient
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState

SMALL = b'{"order":42,"amount":"9.99"}'
KIB = b"k" * 1024
BATCH = 100
READ_EVENTS = 10_000


def stream(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def median_ns(samples: int, warm_up: int, once: Callable[[], None]) -> float:
    """Runs `once` `warm_up` times untimed, then `samples` times, each timed on
    its own; the median in nanoseconds."""
    for _ in range(warm_up):
        once()
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        once()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times)


def append_one(client: KurrentDBClient, samples: int) -> float:
    name = stream("one-python")
    # One NewEvent (not a list): the client sends it through the Append call,
    # as the Rust clients do.
    return median_ns(
        samples,
        samples // 10,
        lambda: client.append_to_stream(
            name,
            events=NewEvent(type="Benchmarked", data=SMALL),
            current_version=StreamState.ANY,
        ),
    )


def append_batch(client: KurrentDBClient, samples: int) -> float:
    name = stream("batch-python")
    # A list of events: the client sends any list through BatchAppend.
    return median_ns(
        samples,
        samples // 10,
        lambda: client.append_to_stream(
            name,
            events=[NewEvent(type="Batched", data=KIB) for _ in range(BATCH)],
            current_version=StreamState.ANY,
        ),
    )


def populate(client: KurrentDBClient, name: str) -> None:
    """The stream the compare bench reads: 10,000 small events, appended 500 at a time."""
    pad = "x" * 64
    for start in range(0, READ_EVENTS, 500):
        client.append_to_stream(
            name,
            events=[
                NewEvent(type="Populated", data=f'{{"n":{n},"pad":"{pad}"}}'.encode())
                for n in range(start, start + 500)
            ],
            current_version=StreamState.ANY,
        )


def read_stream(client: KurrentDBClient, name: str, samples: int) -> float:
    def once() -> None:
        count = sum(1 for _ in client.read_stream(name))
        assert count == READ_EVENTS, count

    return median_ns(samples, 2, once)


def subscribe(client: KurrentDBClient, name: str, samples: int) -> float:
    def once() -> None:
        subscription = client.subscribe_to_stream(name)
        count = 0
        for _ in subscription:
            count += 1
            if count == READ_EVENTS:
                break
        subscription.stop()

    return median_ns(samples, 2, once)


def start_server(binary: str) -> tuple[subprocess.Popen[str], str]:
    """`kurrentdb-embedded --insecure` on a port the kernel chooses, and the
    connection string it prints."""
    server = subprocess.Popen(
        [binary, "--insecure", "--node-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    uri = None
    deadline = time.monotonic() + 30
    for line in server.stderr:
        found = re.search(r"connect with (\S+)", line)
        if found:
            uri = found.group(1)
            break
        if time.monotonic() > deadline:
            break
    if uri is None:
        server.terminate()
        raise SystemExit("the embedded server printed no connection string")
    # Keep reading what the server writes, so it never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    return server, uri


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--quick"]
    quick = "--quick" in sys.argv
    if len(args) != 2:
        print(__doc__)
        return 2
    binary, out = args
    scale = 10 if quick else 1
    server, uri = start_server(binary)
    try:
        client = KurrentDBClient(uri)
        try:
            results = {}
            results["append_one"] = append_one(client, 2000 // scale)
            print(f"append_one: {results['append_one'] / 1e3:.1f} µs", flush=True)
            results["append_batch_100x1KiB"] = append_batch(client, 200 // scale)
            print(f"append_batch_100x1KiB: {results['append_batch_100x1KiB'] / 1e6:.2f} ms", flush=True)
            name = stream("read-10k-python")
            populate(client, name)
            results["read_stream_10k"] = read_stream(client, name, max(3, 30 // scale))
            print(f"read_stream_10k: {results['read_stream_10k'] / 1e6:.1f} ms", flush=True)
            results["subscribe_10k"] = subscribe(client, name, max(3, 30 // scale))
            print(f"subscribe_10k: {results['subscribe_10k'] / 1e6:.1f} ms", flush=True)
        finally:
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(
            {
                "client": f"kurrentdbclient {kurrentdbclient.__version__} (KurrentDBClient, sync)",
                "python": platform.python_version(),
                "median_ns": results,
            },
            f,
            indent=2,
        )
        f.write("\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
