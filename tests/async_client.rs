//! Runs every scenario in `tests/scenarios` through [`AsyncKurrentDBClient`],
//! against the embedded server (or `KURRENTDB_URI`).

mod common;
mod scenarios;

use kurrentdbclient::AsyncKurrentDBClient;

for_each_scenario!(AsyncKurrentDBClient);
