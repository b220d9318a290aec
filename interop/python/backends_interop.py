"""Interop check: the Python client (PyPI `kurrentdbclient`) reads what the
event-sourcing backends wrote: the `cqrs_bank_account` example of
`kurrentdb-es` (account `acc-7`) and the `eventually_bank_account` example of
`eventually-kurrentdb` (account `acc-8`), both run against the server first.

Usage: python backends_interop.py kurrentdb://127.0.0.1:PORT?tls=false

Prints one line per check and a last line `N passed, M failed`; exits non-zero
when any check failed.
"""

from __future__ import annotations

import json
import sys
import time
import traceback

from kurrentdbclient import KurrentDBClient

results: list[bool] = []


def check(name: str, fn) -> None:
    try:
        fn()
        print(f"ok   {name}")
        results.append(True)
    except Exception:  # noqa: BLE001 - every failure is reported the same way
        print(f"FAIL {name}")
        traceback.print_exc()
        results.append(False)


def equal(actual, expected, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def main() -> int:
    client = KurrentDBClient(uri=sys.argv[1])

    def cqrs_account() -> None:
        events = client.get_stream("bankaccount-acc-7")
        equal([e.type for e in events], ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"], "types")
        equal(json.loads(events[1].data), {"MoneyDeposited": {"cents": 12000}}, "data")
        meta = [json.loads(e.metadata) for e in events]
        equal([m["sequence"] for m in meta], [1, 2, 3], "sequences")
        equal({m["eventVersion"] for m in meta}, {"1"}, "event versions")
        equal(meta[0]["metadata"], {"teller": "desk 3"}, "cqrs-es metadata")

    def eventually_account() -> None:
        events = client.get_stream("bankaccount-acc-8")
        equal(
            [e.type for e in events],
            ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "MoneyDeposited"],
            "types",
        )
        equal(json.loads(events[3].data), {"MoneyDeposited": {"cents": 100}}, "data")
        equal([json.loads(e.metadata)["version"] for e in events], [1, 2, 3, 4], "versions")

    def category() -> None:
        # $ce-bankaccount is written by the $by_category projection: wait for it.
        deadline = time.monotonic() + 10
        while True:
            events = client.get_stream("$ce-bankaccount", resolve_links=True)
            if len(events) >= 7 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        streams = sorted({e.stream_name for e in events})
        equal(len(events), 7, "events in $ce-bankaccount")
        equal(streams, ["bankaccount-acc-7", "bankaccount-acc-8"], "streams")

    check("kurrentdb-es: the cqrs-es account's events as JSON", cqrs_account)
    check("eventually-kurrentdb: the eventually account's events as JSON", eventually_account)
    check("both accounts in $ce-bankaccount", category)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
