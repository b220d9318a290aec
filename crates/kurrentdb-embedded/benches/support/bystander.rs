//! The bystander's two timed calls (a ServerFeatures call and a one-event
//! append), and their percentiles, shared by the benches that time a
//! bystander while something else loads the server (`bystander`, under
//! pathological gRPC readers; `http_bystander`, under HTTP clients). The
//! bench that includes this module declares `common` (tests/common).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::Empty;
use tonic::transport::Channel;

use crate::common;

/// Every call's time, for the percentiles after each bench.
pub type Samples = Arc<Mutex<Vec<Duration>>>;

/// Prints the p50, p99 and maximum of `samples`, and empties it.
pub fn percentiles(name: &str, samples: &Mutex<Vec<Duration>>) {
    let mut s = std::mem::take(&mut *samples.lock().unwrap());
    if s.is_empty() {
        return;
    }
    s.sort();
    let at = |q: f64| s[((s.len() - 1) as f64 * q) as usize];
    println!(
        "{name}: {} calls, p50 {:?}, p99 {:?}, max {:?}",
        s.len(),
        at(0.50),
        at(0.99),
        s[s.len() - 1]
    );
}

/// Times the two calls in `group`, on the bystander's own runtime, each
/// followed by `report(<group>/<call>, samples)`.
pub fn time_calls(
    group: &mut BenchmarkGroup<'_, WallTime>,
    prefix: &str,
    bystander: &tokio::runtime::Runtime,
    channel: &Channel,
    report: &mut dyn FnMut(&str, &Mutex<Vec<Duration>>),
) {
    let samples: Samples = Arc::new(Mutex::new(Vec::new()));
    group.bench_function("server_features", |b| {
        let samples = samples.clone();
        b.to_async(bystander).iter_custom(|iters| {
            let mut client = ServerFeaturesClient::new(channel.clone());
            let samples = samples.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    client.get_supported_methods(Empty {}).await.unwrap();
                    let took = start.elapsed();
                    samples.lock().unwrap().push(took);
                    total += took;
                }
                total
            }
        });
    });
    report(&format!("{prefix}/server_features"), &samples);
    group.bench_function("append_one_event", |b| {
        let samples = samples.clone();
        b.to_async(bystander).iter_custom(|iters| {
            let mut client = common::Client::new(channel.clone());
            let samples = samples.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    common::append_ok(
                        &mut client,
                        "bystander",
                        common::any(),
                        vec![common::event("T", b"{}")],
                    )
                    .await;
                    let took = start.elapsed();
                    samples.lock().unwrap().push(took);
                    total += took;
                }
                total
            }
        });
    });
    report(&format!("{prefix}/append_one_event"), &samples);
}
