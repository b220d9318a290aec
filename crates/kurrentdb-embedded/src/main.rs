//! `kurrentdb-embedded`: an in-memory KurrentDB-compatible server for
//! development. `kurrentdb-embedded --insecure --node-port 2113`.

use std::process::ExitCode;

use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster, EmbeddedServer, ServerOptions};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const USAGE: &str =
    "usage: kurrentdb-embedded --insecure [--node-port PORT] [--max-append-size BYTES]
       [--run-projections None|System|All] [--start-standard-projections[=true|false]]
       [--log-level LEVEL] [--node-ip IP] [--cluster-size N]
       [--advertise-host-to-client-as HOST] [--advertise-node-port-to-client-as PORT]

An in-memory KurrentDB-compatible gRPC server for development and tests.
Data is lost when it stops. TLS is not supported: --insecure is required.
Connect with kurrentdb://127.0.0.1:PORT?tls=false

--log-level takes KurrentDB's levels: Default (= Information), Verbose, Debug,
Information, Warning, Error, Fatal (and Trace, Critical, None), in any case.
Without it, RUST_LOG (e.g. kurrentdb_embedded=debug) is read if set, else the
level is Information. Logs go to standard error; calls are logged at Debug.

--node-ip is the address to listen on (default 127.0.0.1). --cluster-size N
(default 1) runs N nodes in one process on ports PORT..PORT+N-1, sharing one
log: the first leads, the others follow; connect with
kurrentdb://IP:PORT,IP:PORT+1,...?tls=false or kurrentdb+discover://IP:PORT?tls=false.
Gossip and not-leader answers give clients each node's address, or
--advertise-host-to-client-as and --advertise-node-port-to-client-as (the
first node's; the others follow it) when set.";

/// A KurrentDB `--log-level` (`KurrentDB.Common.Options.LogLevel`, bound
/// case-insensitively as .NET binds enums) as the most verbose `tracing`
/// level it lets through. `Default` is KurrentDB's default, Information; the
/// aliases are KurrentDB's (`Trace` = `Verbose`; `Critical` and `None` =
/// `Fatal`, which is `tracing`'s `ERROR`: it has no level above).
fn log_level(name: &str) -> Option<LevelFilter> {
    Some(match name.to_ascii_lowercase().as_str() {
        "default" | "information" => LevelFilter::INFO,
        "verbose" | "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "error" | "fatal" | "critical" | "none" => LevelFilter::ERROR,
        _ => return None,
    })
}

/// Logs to standard error: at `level`, else as `RUST_LOG` says, else at
/// Information.
fn init_logging(level: Option<LevelFilter>) -> Result<(), String> {
    let filter = match (level, std::env::var("RUST_LOG")) {
        (Some(level), _) => Targets::new().with_default(level),
        (None, Ok(directives)) if !directives.trim().is_empty() => directives
            .parse()
            .map_err(|e| format!("invalid RUST_LOG {directives:?}: {e}"))?,
        _ => Targets::new().with_default(LevelFilter::INFO),
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init()
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut options = ServerOptions {
        port: 2113,
        ..ServerOptions::default()
    };
    let mut insecure = false;
    let mut cluster_size: usize = 1;
    let mut level = None;
    while let Some(arg) = args.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let result = match key.as_str() {
            "--insecure" => {
                insecure = true;
                Ok(())
            }
            "--node-port" => value("--node-port").and_then(|v| {
                v.parse()
                    .map(|p| options.port = p)
                    .map_err(|_| format!("invalid port: {v}"))
            }),
            "--max-append-size" => value("--max-append-size").and_then(|v| {
                v.parse()
                    .map(|n| options.max_append_size = n)
                    .map_err(|_| format!("invalid size: {v}"))
            }),
            "--run-projections" => value("--run-projections")
                .and_then(|v| v.parse().map(|r| options.run_projections = r)),
            "--start-standard-projections" => {
                // A bare flag means true, as KurrentDB's boolean options.
                match inline.as_deref().map(str::to_ascii_lowercase).as_deref() {
                    None | Some("true") => {
                        options.start_standard_projections = true;
                        Ok(())
                    }
                    Some("false") => {
                        options.start_standard_projections = false;
                        Ok(())
                    }
                    Some(other) => Err(format!(
                        "invalid --start-standard-projections value: {other} (expected true or false)"
                    )),
                }
            }
            "--log-level" => value("--log-level").and_then(|v| {
                log_level(&v)
                    .map(|l| level = Some(l))
                    .ok_or_else(|| format!("invalid log level: {v}"))
            }),
            "--node-ip" => value("--node-ip").and_then(|v| {
                v.parse()
                    .map(|ip| options.host = ip)
                    .map_err(|_| format!("invalid IP address: {v}"))
            }),
            "--cluster-size" => value("--cluster-size").and_then(|v| match v.parse() {
                Ok(n @ 1..=64) => {
                    cluster_size = n;
                    Ok(())
                }
                _ => Err(format!("invalid cluster size: {v} (1 to 64)")),
            }),
            "--advertise-host-to-client-as" => value("--advertise-host-to-client-as").map(|v| {
                options.advertise_host_to_client_as = Some(v).filter(|h| !h.is_empty());
            }),
            "--advertise-node-port-to-client-as" => value("--advertise-node-port-to-client-as")
                .and_then(|v| {
                    v.parse()
                        .map(|p| options.advertise_node_port_to_client_as = p)
                        .map_err(|_| format!("invalid port: {v}"))
                }),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument: {other}")),
        };
        if let Err(e) = result {
            eprintln!("kurrentdb-embedded: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if !insecure {
        eprintln!(
            "kurrentdb-embedded: TLS is not supported by the embedded server; run it with --insecure \
             (and connect with ?tls=false)."
        );
        return ExitCode::from(2);
    }
    if let Err(e) = init_logging(level) {
        eprintln!("kurrentdb-embedded: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kurrentdb-embedded: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        if cluster_size > 1 {
            return run_cluster(ClusterOptions {
                cluster_size,
                server: options,
                ..ClusterOptions::default()
            })
            .await;
        }
        let server = match EmbeddedServer::start_with(options).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kurrentdb-embedded: cannot listen: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "kurrentdb-embedded: listening on {} (in memory, insecure); connect with {}",
            server.addr(),
            server.connection_string()
        );
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("kurrentdb-embedded: stopping");
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Runs a cluster until Ctrl-C.
async fn run_cluster(options: ClusterOptions) -> ExitCode {
    let cluster = match EmbeddedCluster::start_with(options).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kurrentdb-embedded: cannot start the cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "kurrentdb-embedded: a cluster of {} nodes listening on {} (in memory, insecure); \
         connect with {}",
        cluster.len(),
        cluster.seeds(),
        cluster.connection_string()
    );
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("kurrentdb-embedded: stopping");
    cluster.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_are_kurrentdbs_in_any_case() {
        for (name, level) in [
            ("Default", LevelFilter::INFO),
            ("information", LevelFilter::INFO),
            ("VERBOSE", LevelFilter::TRACE),
            ("Trace", LevelFilter::TRACE),
            ("Debug", LevelFilter::DEBUG),
            ("Warning", LevelFilter::WARN),
            ("Error", LevelFilter::ERROR),
            ("Fatal", LevelFilter::ERROR),
            ("Critical", LevelFilter::ERROR),
            ("None", LevelFilter::ERROR),
        ] {
            assert_eq!(log_level(name), Some(level), "{name}");
        }
        for bad in ["", "info", "warn", "loud"] {
            assert_eq!(log_level(bad), None, "{bad}");
        }
    }
}
