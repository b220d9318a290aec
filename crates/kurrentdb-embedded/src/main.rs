//! `kurrentdb-embedded`: an in-memory KurrentDB-compatible server for
//! development. `kurrentdb-embedded --insecure --node-port 2113`.

use std::process::ExitCode;

use kurrentdb_embedded::{EmbeddedServer, ServerOptions};

const USAGE: &str =
    "usage: kurrentdb-embedded --insecure [--node-port PORT] [--max-append-size BYTES]
       [--run-projections None|System|All] [--start-standard-projections[=true|false]]

An in-memory KurrentDB-compatible gRPC server for development and tests.
Data is lost when it stops. TLS is not supported: --insecure is required.
Connect with kurrentdb://127.0.0.1:PORT?tls=false";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut options = ServerOptions {
        port: 2113,
        ..ServerOptions::default()
    };
    let mut insecure = false;
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kurrentdb-embedded: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
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
