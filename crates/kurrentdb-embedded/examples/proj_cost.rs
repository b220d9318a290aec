// Scratch (not committed): CPU cost of appends with and without the standard projections.
use kurrentdb_embedded::{EmbeddedServer, RunProjections, ServerOptions};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};
use std::time::{Duration, Instant};

fn cpu() -> f64 {
    let mut u: libc_rusage = unsafe { std::mem::zeroed() };
    unsafe { getrusage(0, &mut u) };
    (u.utime_s as f64 + u.utime_us as f64 / 1e6) + (u.stime_s as f64 + u.stime_us as f64 / 1e6)
}
#[repr(C)]
struct libc_rusage {
    utime_s: i64,
    utime_us: i64,
    stime_s: i64,
    stime_us: i64,
    rest: [i64; 14],
}
unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let on = args[1] == "on";
    let n: u64 = args[2].parse().unwrap();
    let total: u64 = args[3].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let server = EmbeddedServer::start_with(ServerOptions {
            run_projections: if on { RunProjections::All } else { RunProjections::None },
            start_standard_projections: on,
            ..Default::default()
        }).await.unwrap();
        let client = AsyncKurrentDBClient::connect(&server.connection_string()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let c0 = cpu();
        let t0 = Instant::now();
        let per = total / n / 8;
        let cats = ["order", "invoice", "customer", "shipment"];
        let tasks: Vec<_> = (0..8usize).map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    let stream = format!("{}{task}-{}", cats[task % 4], i % 16);
                    let events = (0..n).map(|_| NewEvent::new("BenchEvent", r#"{"order":"order-123","amount":42}"#));
                    client.append_to_stream(&stream, StreamState::Any, events, &Default::default()).await.unwrap();
                }
            })
        }).collect();
        for t in tasks { t.await.unwrap(); }
        let append_wall = t0.elapsed();
        let c1 = cpu();
        loop {
            let before = server.store().log_len();
            tokio::time::sleep(Duration::from_millis(100)).await;
            if server.store().log_len() == before { break; }
        }
        let c2 = cpu() - 0.0;
        println!("{} n={n} events={} append_wall={:.3}s rate={:.0}/s cpu_during={:.3}s cpu_total={:.3}s log={}",
            if on {"on "} else {"off"}, per*8*n, append_wall.as_secs_f64(), (per*8*n) as f64 / append_wall.as_secs_f64(),
            c1 - c0, c2 - c0, server.store().log_len());
        server.shutdown().await;
    });
}
