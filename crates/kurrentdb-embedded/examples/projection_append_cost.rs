//! What the standard projections cost appends, measured in pairs.
//!
//! Each pair starts a server without projections and one with the standard
//! projections running, one after the other, and has 8 appenders append the
//! same events to each (`EVENTS` events in appends of `BATCH`, to streams of
//! four categories). A pair's figure is the rate with projections over the
//! rate without, from the wall time of the append phase alone; the median
//! over the pairs is printed. Pairing matters on a shared machine: criterion
//! measures the two cases seconds apart, and there the machine's speed moved
//! the ratio by more than the projections did.
//!
//! A second ratio takes the run with projections until every event was
//! linked into `$et-BenchEvent` and its `$ce-` stream (polled each
//! millisecond): when it is close to the first, the projections kept up with
//! the appends and the rate is one they can sustain, not one bought with a
//! backlog.
//!
//! With projections on it also waits until they have caught up, then prints
//! the CPU time of the projection thread per event (Linux: the thread is
//! named `projections $standard`, read from `/proc/self/task`). For both
//! runs it prints how many cores the process kept busy during the append
//! phase (its CPU time over the wall time, from `/proc/self/stat`): when
//! both are near the machine's count, the appends are bound by CPU, and the
//! ratio is about the appends' CPU per event over that plus the
//! projections'.
//!
//! Run by hand: `cargo run --release -p kurrentdb-embedded --example
//! projection_append_cost -- [PAIRS] [EVENTS] [BATCH]` (defaults 12, 200000,
//! 100). With `ONLY=off` or `ONLY=on` in the environment it runs that side
//! alone, `PAIRS` times, for a profiler (`perf record`) to see one case.

use std::time::{Duration, Instant};

use kurrentdb_embedded::{EmbeddedServer, RunProjections, ServerOptions};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};

/// Concurrent appenders.
const APPENDERS: u64 = 8;
/// The categories the appenders' streams belong to.
const CATEGORIES: [&str; 4] = ["order", "invoice", "customer", "shipment"];

/// One run: the append phase's wall time, and with projections the CPU
/// seconds their thread used until it caught up (when it can be read).
struct Run {
    wall: Duration,
    /// Until the projections had linked every event (the append phase's
    /// wall time without projections).
    projected: Duration,
    projection_cpu: Option<f64>,
    /// CPU seconds of the whole process during the append phase.
    process_cpu: Option<f64>,
}

impl Run {
    /// The cores the process kept busy during the append phase.
    fn cores(&self) -> String {
        self.process_cpu.map_or("unknown".to_owned(), |cpu| {
            format!("{:.2}", cpu / self.wall.as_secs_f64())
        })
    }
}

fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .map_or(default, |a| a.parse().expect("a whole number"))
    };
    let (pairs, events, batch) = (arg(1, 12).max(1), arg(2, 200_000), arg(3, 100).max(1));
    let per_appender = (events / batch / APPENDERS).max(1);
    let events = per_appender * batch * APPENDERS;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut ratios = Vec::new();
    let mut sustained_ratios = Vec::new();
    let mut cpu_per_event = Vec::new();
    println!("{events} events in appends of {batch}, {APPENDERS} appenders, {pairs} pairs");
    if let Ok(only) = std::env::var("ONLY") {
        // One side alone, for a profiler.
        let on = only == "on";
        for _ in 0..pairs {
            let r = rt.block_on(run(on, per_appender, batch));
            println!(
                "{only}: {:.3} s ({} cores)",
                r.wall.as_secs_f64(),
                r.cores()
            );
        }
        return;
    }
    for pair in 1..=pairs {
        let off = rt.block_on(run(false, per_appender, batch));
        let on = rt.block_on(run(true, per_appender, batch));
        let ratio = off.wall.as_secs_f64() / on.wall.as_secs_f64();
        ratios.push(ratio);
        let sustained = off.wall.as_secs_f64() / on.projected.as_secs_f64();
        sustained_ratios.push(sustained);
        let cpu = on.projection_cpu.map(|s| s * 1e6 / events as f64);
        cpu_per_event.extend(cpu);
        println!(
            "pair {pair}: off {:.3} s ({} cores), on {:.3} s ({} cores), linked {:.3} s, \
             rate on/off {:.0}% (to linked {:.0}%), projection thread {}",
            off.wall.as_secs_f64(),
            off.cores(),
            on.wall.as_secs_f64(),
            on.cores(),
            on.projected.as_secs_f64(),
            ratio * 100.0,
            sustained * 100.0,
            cpu.map_or("unknown".to_owned(), |c| format!(
                "{c:.2} µs of CPU per event"
            )),
        );
    }
    println!(
        "median rate with the standard projections: {:.0}% of the rate without",
        median(&mut ratios) * 100.0
    );
    println!(
        "median rate until every event was linked: {:.0}% of the rate without",
        median(&mut sustained_ratios) * 100.0
    );
    if !cpu_per_event.is_empty() {
        println!(
            "median CPU of the projection thread: {:.2} µs per event",
            median(&mut cpu_per_event)
        );
    }
}

/// Starts a server (with the standard projections or without), appends,
/// and shuts it down.
async fn run(projections: bool, per_appender: u64, batch: u64) -> Run {
    let server = EmbeddedServer::start_with(ServerOptions {
        run_projections: if projections {
            RunProjections::All
        } else {
            RunProjections::None
        },
        start_standard_projections: projections,
        ..Default::default()
    })
    .await
    .expect("a server");
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .expect("a client");
    // The standard projections start and write their first checkpoints.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = projection_cpu();
    let process_before = process_cpu();
    let started = Instant::now();
    let appenders: Vec<_> = (0..APPENDERS as usize)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..per_appender {
                    let stream = format!("{}{task}-{}", CATEGORIES[task % 4], i % 16);
                    let events = (0..batch).map(|_| {
                        NewEvent::new("BenchEvent", r#"{"order":"order-123","amount":42}"#)
                    });
                    client
                        .append_to_stream(&stream, StreamState::Any, events, &Default::default())
                        .await
                        .expect("an append");
                }
            })
        })
        .collect();
    for appender in appenders {
        appender.await.expect("an appender");
    }
    let wall = started.elapsed();
    let process_cpu = process_cpu()
        .zip(process_before)
        .map(|(after, before)| after - before);
    // Until every event is linked into `$et-BenchEvent` and its category's
    // `$ce-` stream: the projections' backlog at the end of the append phase.
    let projected = if projections {
        let total = per_appender * batch * APPENDERS;
        let mut streams = vec![("$et-BenchEvent".to_owned(), total)];
        for task in 0..APPENDERS as usize {
            let category = format!("{}{task}", CATEGORIES[task % 4]);
            streams.push((format!("$ce-{category}"), per_appender * batch));
        }
        for (stream, count) in &streams {
            while client
                .get_current_version(stream, &Default::default())
                .await
                .ok()
                != Some(StreamState::Version(count - 1))
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        started.elapsed()
    } else {
        wall
    };
    // Until the projections have caught up: the log stops growing.
    loop {
        let len = server.store().log_len();
        tokio::time::sleep(Duration::from_millis(100)).await;
        if server.store().log_len() == len {
            break;
        }
    }
    let projection_cpu = match (before, projection_cpu()) {
        (Some(before), Some(after)) if projections => Some(after - before),
        _ => None,
    };
    server.shutdown().await;
    Run {
        wall,
        projected,
        projection_cpu,
        process_cpu,
    }
}

/// Clock ticks (user and system, 100 a second on Linux) in the text of a
/// `/proc` `stat` file: the 12th and 13th fields after the name (which is
/// in parentheses), in seconds.
fn stat_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds (user and system) of this whole process, when `/proc` can
/// be read.
fn process_cpu() -> Option<f64> {
    stat_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// CPU seconds (user and system) of this process's threads named
/// `projections $standard` (truncated by the kernel to 15 bytes), when
/// `/proc` can be read.
fn projection_cpu() -> Option<f64> {
    let mut seconds = 0.0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !name.starts_with("projections $st") {
            continue;
        }
        seconds += stat_seconds(&std::fs::read_to_string(dir.join("stat")).ok()?)?;
    }
    Some(seconds)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let half = values.len() / 2;
    if values.len().is_multiple_of(2) {
        // An even count: the mean of the two middle values (the upper one
        // alone, as before, leaned high).
        (values[half - 1] + values[half]) / 2.0
    } else {
        values[half]
    }
}
