//! `kurrentdb-embedded`: an in-memory KurrentDB-compatible server for
//! development. `kurrentdb-embedded --insecure --node-port 2113`, or
//! `kurrentdb-embedded --dev` for TLS with a generated certificate.

use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kurrentdb_embedded::security::{DevCertificates, ServerCertificates};
use kurrentdb_embedded::{
    ClusterOptions, EmbeddedCluster, EmbeddedServer, Security, ServerOptions,
};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The `--oauth-*` options and the `token` command (the binary's module, not
/// the library's).
mod oauth_cli;

const USAGE: &str = "usage: kurrentdb-embedded (--insecure | --dev [--dev-cert-path FILE]
                          | --certificate-file FILE --certificate-private-key-file FILE
                            --trusted-root-certificates-path DIR)
       [--node-port PORT] [--max-append-size BYTES]
       [--run-projections None|System|All] [--start-standard-projections [true|false]]
       [--log-level LEVEL] [--node-ip IP] [--cluster-size N]
       [--advertise-host-to-client-as HOST] [--advertise-node-port-to-client-as PORT]
       [--oauth-... (see OAuth below)]
       [--allow-anonymous-endpoint-access [true|false]]
       [--override-anonymous-endpoint-access-for-gossip [true|false]]

An in-memory KurrentDB-compatible gRPC server for development and tests.
Data is lost when it stops. As KurrentDB, it is secure unless told otherwise:
  --insecure       no TLS; connect with kurrentdb://127.0.0.1:PORT?tls=false
  --dev            TLS with a development CA and a certificate for localhost and
                   127.0.0.1 generated at start (and, as KurrentDB's dev mode,
                   projections: --run-projections=All --start-standard-projections).
                   The server's certificate and key are written to --dev-cert-path
                   (default: dev-cert.pem in kurrentdb-embedded/ under the system's
                   temporary directory), the CA clients trust beside it with the
                   extension .crt; the connection string to use is printed.
  --certificate-file, --certificate-private-key-file (PEM), and
  --trusted-root-certificates-path (a directory of .crt/.cert/.cer/.pem files,
                   or one file): TLS with your own certificates.
These security options can also be given as environment variables: KURRENTDB_
and the name in upper case with _ for - (KURRENTDB_INSECURE=true,
KURRENTDB_DEV=true, KURRENTDB_CERTIFICATE_FILE=...); the command line wins.

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
first node's; the others follow it) when set. With --dev, every node serves a
certificate for localhost and 127.0.0.1 signed by the one generated CA, which is
written beside --dev-cert-path (extension .crt) as for one node; connect with
kurrentdb+discover://admin:changeit@localhost:PORT?tlsCaFile=<that file> (printed).

The same port serves HTTP (HTTP/1.1 and HTTP/2, with TLS when secure), as
KurrentDB: /health/live, /info, /gossip, /ping, /stats, /metrics (Prometheus),
and a web UI at /ui. On a secure server /stats and /metrics need a login
unless --allow-anonymous-endpoint-access; /gossip is anonymous unless
--override-anonymous-endpoint-access-for-gossip false.";

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
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("token") {
        args.next();
        return match oauth_cli::token_command(args) {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kurrentdb-embedded token: {e}\n\n{}", oauth_cli::USAGE);
                ExitCode::from(2)
            }
        };
    }
    let mut oauth = oauth_cli::OAuthFlags::default();
    let mut options = ServerOptions {
        port: 2113,
        ..ServerOptions::default()
    };
    let mut security = match SecurityFlags::from_env(|name| std::env::var(name).ok()) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("kurrentdb-embedded: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut level = None;
    let mut cluster_size: usize = 1;
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
                flag(&key, inline.as_deref(), &mut args).map(|on| security.insecure = on)
            }
            "--dev" => flag(&key, inline.as_deref(), &mut args).map(|on| security.dev = on),
            "--dev-cert-path" => {
                value("--dev-cert-path").map(|v| security.dev_cert_path = Some(v.into()))
            }
            "--certificate-file" => {
                value("--certificate-file").map(|v| security.certificate_file = Some(v.into()))
            }
            "--certificate-private-key-file" => value("--certificate-private-key-file")
                .map(|v| security.private_key_file = Some(v.into())),
            "--trusted-root-certificates-path" => value("--trusted-root-certificates-path")
                .map(|v| security.trusted_roots_path = Some(v.into())),
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
            "--start-standard-projections" => flag(&key, inline.as_deref(), &mut args)
                .map(|on| options.start_standard_projections = on),
            "--allow-anonymous-endpoint-access" => flag(&key, inline.as_deref(), &mut args)
                .map(|on| options.allow_anonymous_endpoint_access = on),
            "--override-anonymous-endpoint-access-for-gossip" => {
                flag(&key, inline.as_deref(), &mut args)
                    .map(|on| options.override_anonymous_endpoint_access_for_gossip = on)
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
            "--oauth-issuer" => value("--oauth-issuer").map(|v| oauth.issuer = Some(v)),
            "--oauth-audience" => value("--oauth-audience").map(|v| oauth.audience = Some(v)),
            "--oauth-disable-issuer-validation" => flag(&key, inline.as_deref(), &mut args)
                .map(|on| oauth.disable_issuer_validation = on),
            "--oauth-jwks-file" => {
                value("--oauth-jwks-file").map(|v| oauth.jwks_file = Some(v.into()))
            }
            "--oauth-public-key-file" => {
                value("--oauth-public-key-file").map(|v| oauth.public_key_file = Some(v.into()))
            }
            "--oauth-signing-key-file" => {
                value("--oauth-signing-key-file").map(|v| oauth.signing_key_file = Some(v.into()))
            }
            "-h" | "--help" => {
                println!("{USAGE}\n\n{}", oauth_cli::USAGE);
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument: {other}")),
        };
        if let Err(e) = result {
            eprintln!("kurrentdb-embedded: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if let Err(e) = init_logging(level) {
        eprintln!("kurrentdb-embedded: {e}");
        return ExitCode::from(2);
    }
    let (mode, ca_file) = match security.resolve() {
        Ok(resolved) => resolved,
        Err(e) => {
            eprintln!("kurrentdb-embedded: {e}");
            return ExitCode::from(2);
        }
    };
    if security.dev && !security.insecure {
        // KurrentDB's dev mode runs the projections too.
        if options.run_projections == kurrentdb_embedded::RunProjections::None {
            options.run_projections = kurrentdb_embedded::RunProjections::All;
        }
        options.start_standard_projections = true;
    }
    if mode.is_secure() {
        match oauth.resolve() {
            Ok(resolved) => options.oauth = resolved,
            Err(e) => {
                eprintln!("kurrentdb-embedded: {e}");
                return ExitCode::from(2);
            }
        }
        if let Some(key) = &oauth.signing_key_file {
            eprintln!(
                "kurrentdb-embedded: OAuth tokens: kurrentdb-embedded token --signing-key-file {} \
                 --sub NAME --role '$admins'",
                key.display()
            );
        }
    } else if oauth.any() {
        tracing::warn!("--insecure is set: OAuth options are ignored (every call is let through)");
    }
    options.security = mode;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kurrentdb-embedded: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        if cluster_size > 1 {
            return run_cluster(
                ClusterOptions {
                    cluster_size,
                    server: options,
                    ..ClusterOptions::default()
                },
                ca_file,
            )
            .await;
        }
        let server = match EmbeddedServer::start_with(options).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kurrentdb-embedded: cannot listen: {e}");
                return ExitCode::FAILURE;
            }
        };
        let (connect, how) = how_to_connect(
            "kurrentdb",
            server.addr().port(),
            ca_file.as_deref(),
            server.connection_string(),
            server.is_secure(),
        );
        eprintln!(
            "kurrentdb-embedded: listening on {} (in memory, {how}); connect with {connect}",
            server.addr(),
        );
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("kurrentdb-embedded: stopping");
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Runs a cluster until Ctrl-C; `ca_file` is where `--dev` wrote its CA.
async fn run_cluster(options: ClusterOptions, ca_file: Option<PathBuf>) -> ExitCode {
    let cluster = match EmbeddedCluster::start_with(options).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kurrentdb-embedded: cannot start the cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (connect, how) = how_to_connect(
        "kurrentdb+discover",
        cluster.addr(0).port(),
        ca_file.as_deref(),
        cluster.connection_string(),
        cluster.is_secure(),
    );
    eprintln!(
        "kurrentdb-embedded: a cluster of {} nodes listening on {} (in memory, {how}); \
         connect with {connect}",
        cluster.len(),
        cluster.seeds(),
    );
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("kurrentdb-embedded: stopping");
    cluster.shutdown().await;
    ExitCode::SUCCESS
}

/// The connection string to print, and how the server is secured: with a
/// dev CA file, `scheme://admin:changeit@localhost:PORT?tlsCaFile=CA` (the
/// certificate names `localhost`), else the server's own `connection`.
fn how_to_connect(
    scheme: &str,
    port: u16,
    ca_file: Option<&Path>,
    connection: String,
    secure: bool,
) -> (String, &'static str) {
    let connect = match ca_file {
        Some(ca) => format!(
            "{scheme}://admin:changeit@localhost:{port}?tlsCaFile={}",
            ca.display()
        ),
        None => connection,
    };
    (connect, if secure { "TLS" } else { "insecure" })
}

/// A boolean option, as KurrentDB's command line takes one: bare (true),
/// `--name=true|false`, or `--name true|false` (its configuration reads a
/// switch's value from the next argument too, in any case). A bare flag
/// followed by another option takes nothing from it.
fn flag(
    name: &str,
    inline: Option<&str>,
    args: &mut Peekable<impl Iterator<Item = String>>,
) -> Result<bool, String> {
    if let Some(value) = inline {
        return boolean(name, value);
    }
    match args
        .next_if(|next| next.eq_ignore_ascii_case("true") || next.eq_ignore_ascii_case("false"))
    {
        Some(next) => boolean(name, &next),
        None => Ok(true),
    }
}

/// A boolean option's value: `true` or `false`, in any case.
fn boolean(name: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!(
            "invalid {name} value: {other} (expected true or false)"
        )),
    }
}

/// The security options, from the environment then the command line.
#[derive(Debug, Default)]
struct SecurityFlags {
    insecure: bool,
    dev: bool,
    dev_cert_path: Option<PathBuf>,
    certificate_file: Option<PathBuf>,
    private_key_file: Option<PathBuf>,
    trusted_roots_path: Option<PathBuf>,
}

impl SecurityFlags {
    /// The `KURRENTDB_*` variables `var` gives.
    fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<SecurityFlags, String> {
        let boolean = |name: &str| match var(name) {
            None => Ok(false),
            Some(v) => boolean(name, &v),
        };
        let path = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Ok(SecurityFlags {
            insecure: boolean("KURRENTDB_INSECURE")?,
            dev: boolean("KURRENTDB_DEV")?,
            dev_cert_path: path("KURRENTDB_DEV_CERT_PATH"),
            certificate_file: path("KURRENTDB_CERTIFICATE_FILE"),
            private_key_file: path("KURRENTDB_CERTIFICATE_PRIVATE_KEY_FILE"),
            trusted_roots_path: path("KURRENTDB_TRUSTED_ROOT_CERTIFICATES_PATH"),
        })
    }

    /// The server's security mode and, in dev mode, the CA file written for
    /// clients. `--insecure` wins over the rest, as in KurrentDB (which loads
    /// no certificate then); with neither it nor `--dev` nor a certificate,
    /// KurrentDB's refusal.
    fn resolve(&self) -> Result<(Security, Option<PathBuf>), String> {
        if self.insecure {
            if self.dev || self.certificate_file.is_some() {
                tracing::warn!("--insecure is set: TLS options are ignored");
            }
            return Ok((Security::Insecure, None));
        }
        if self.dev {
            let path = self.dev_cert_path.clone().unwrap_or_else(|| {
                std::env::temp_dir()
                    .join("kurrentdb-embedded")
                    .join("dev-cert.pem")
            });
            let dev = DevCertificates::generate().map_err(|e| e.to_string())?;
            let ca_file = write_dev_certificates(&dev, &path).map_err(|e| {
                format!(
                    "cannot write the dev certificate to {}: {e}; use --dev-cert-path to \
                     choose another file",
                    path.display()
                )
            })?;
            tracing::warn!(
                "DEV MODE IS ON. THIS MODE IS *NOT* RECOMMENDED FOR PRODUCTION USE. \
                 Dev certificate saved to {}; its CA (for clients' tlsCaFile) to {}",
                path.display(),
                ca_file.display()
            );
            return Ok((Security::Certificates(dev.server().clone()), Some(ca_file)));
        }
        let Some(certificate) = &self.certificate_file else {
            // KurrentDB's message (`LoadNodeCertificate`).
            return Err(
                "A certificate is required unless insecure mode (--insecure) is set.".into(),
            );
        };
        let key = self
            .private_key_file
            .as_ref()
            .ok_or("--certificate-private-key-file is required with --certificate-file (PEM)")?;
        // KurrentDB's message (`LoadTrustedRootCertificates`).
        let roots = self.trusted_roots_path.as_ref().ok_or(
            "TrustedRootCertificatesPath must be specified unless insecure mode (--insecure) is set.",
        )?;
        let certificates =
            ServerCertificates::from_files(certificate, key, roots).map_err(|e| e.to_string())?;
        Ok((Security::Certificates(certificates), None))
    }
}

/// Writes the dev server's certificate and key to `path` (owner-only where
/// the system allows) and the CA beside it with the extension `.crt` (as
/// KurrentDB writes its dev certificate's public part); returns the CA's path.
fn write_dev_certificates(dev: &DevCertificates, path: &Path) -> std::io::Result<PathBuf> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut ca_file = path.with_extension("crt");
    if ca_file == path {
        ca_file = PathBuf::from(format!("{}.crt", path.display()));
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    let mut file = file.open(path)?;
    std::io::Write::write_all(
        &mut file,
        format!(
            "{}{}",
            dev.server().certificate_chain_pem(),
            dev.server_private_key_pem()
        )
        .as_bytes(),
    )?;
    std::fs::write(&ca_file, dev.ca_pem())?;
    Ok(ca_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boolean_options_take_a_value_inline_next_or_none() {
        let args = |list: &[&str]| {
            list.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .into_iter()
                .peekable()
        };
        // Bare: true, and the next option is left alone.
        let mut rest = args(&["--node-port", "2113"]);
        assert_eq!(flag("--dev", None, &mut rest), Ok(true));
        assert_eq!(rest.next().as_deref(), Some("--node-port"));
        let mut rest = args(&[]);
        assert_eq!(flag("--dev", None, &mut rest), Ok(true));
        // Space-separated, in any case: the value is taken.
        let mut rest = args(&["False", "--insecure"]);
        assert_eq!(flag("--dev", None, &mut rest), Ok(false));
        assert_eq!(rest.next().as_deref(), Some("--insecure"));
        let mut rest = args(&["TRUE"]);
        assert_eq!(
            flag("--start-standard-projections", None, &mut rest),
            Ok(true)
        );
        assert_eq!(rest.next(), None);
        // Inline, and what the next argument holds is not taken.
        let mut rest = args(&["false"]);
        assert_eq!(flag("--dev", Some("True"), &mut rest), Ok(true));
        assert_eq!(rest.next().as_deref(), Some("false"));
        // A bad inline value is refused with the option's name.
        assert_eq!(
            flag("--insecure", Some("yes"), &mut args(&[])),
            Err("invalid --insecure value: yes (expected true or false)".to_owned())
        );
        // A bare flag before a word that is no boolean leaves it alone (it
        // is then refused as an unknown argument by the caller).
        let mut rest = args(&["yes"]);
        assert_eq!(flag("--insecure", None, &mut rest), Ok(true));
        assert_eq!(rest.next().as_deref(), Some("yes"));
    }

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

    #[test]
    fn security_flags_resolve_as_kurrentdb() {
        let none = SecurityFlags::default();
        assert_eq!(
            none.resolve().unwrap_err(),
            "A certificate is required unless insecure mode (--insecure) is set."
        );
        let insecure =
            SecurityFlags::from_env(|n| (n == "KURRENTDB_INSECURE").then(|| "True".into()))
                .unwrap();
        assert!(matches!(
            insecure.resolve().unwrap(),
            (Security::Insecure, None)
        ));
        assert!(SecurityFlags::from_env(|_| Some("yes".into())).is_err());
        let cert_only = SecurityFlags {
            certificate_file: Some("c.pem".into()),
            private_key_file: Some("k.pem".into()),
            ..SecurityFlags::default()
        };
        assert_eq!(
            cert_only.resolve().unwrap_err(),
            "TrustedRootCertificatesPath must be specified unless insecure mode (--insecure) is set."
        );

        let dir = std::env::temp_dir().join(format!("kdb-dev-{}", uuid::Uuid::new_v4().simple()));
        let dev = SecurityFlags {
            dev: true,
            dev_cert_path: Some(dir.join("dev.pem")),
            ..SecurityFlags::default()
        };
        let (mode, ca) = dev.resolve().unwrap();
        assert!(mode.is_secure());
        assert_eq!(ca.as_deref(), Some(dir.join("dev.crt").as_path()));
        // The written files serve as own certificates.
        let own = SecurityFlags {
            certificate_file: Some(dir.join("dev.pem")),
            private_key_file: Some(dir.join("dev.pem")),
            trusted_roots_path: Some(dir.clone()),
            ..SecurityFlags::default()
        };
        assert!(own.resolve().unwrap().0.is_secure());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
