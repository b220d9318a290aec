//! Raw calls: any bytes as the request messages of any method (a tonic codec
//! that sends bytes as they are), and raw HTTP/2 requests (the `h2` crate)
//! for what no codec can send: bad gRPC framing.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use std::sync::Arc;

use crate::{Ctx, Rights};

/// Every method of every service the server serves, by path, but
/// Operations' `Shutdown` (see [`SHUTDOWN`]). The first entries are fixed:
/// some cases name them by index (`0` Streams Read, `1` Append, `2` Delete,
/// `16` ServerFeatures).
pub const METHODS: &[&str] = &[
    "/event_store.client.streams.Streams/Read",
    "/event_store.client.streams.Streams/Append",
    "/event_store.client.streams.Streams/Delete",
    "/event_store.client.streams.Streams/Tombstone",
    "/event_store.client.streams.Streams/BatchAppend",
    "/kurrentdb.protocol.v2.streams.StreamsService/AppendSession",
    "/kurrentdb.protocol.v2.streams.StreamsService/AppendRecords",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/Create",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/Update",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/Delete",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/Read",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/GetInfo",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/ReplayParked",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/TruncateParked",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/List",
    "/event_store.client.persistent_subscriptions.PersistentSubscriptions/RestartSubsystem",
    "/event_store.client.server_features.ServerFeatures/GetSupportedMethods",
    "/event_store.client.gossip.Gossip/Read",
    "/event_store.client.users.Users/Create",
    "/event_store.client.users.Users/Update",
    "/event_store.client.users.Users/Delete",
    "/event_store.client.users.Users/Disable",
    "/event_store.client.users.Users/Enable",
    "/event_store.client.users.Users/Details",
    "/event_store.client.users.Users/ChangePassword",
    "/event_store.client.users.Users/ResetPassword",
    "/event_store.client.operations.Operations/StartScavenge",
    "/event_store.client.operations.Operations/StopScavenge",
    "/event_store.client.operations.Operations/MergeIndexes",
    "/event_store.client.operations.Operations/ResignNode",
    "/event_store.client.operations.Operations/SetNodePriority",
    "/event_store.client.operations.Operations/RestartPersistentSubscriptions",
    "/event_store.client.projections.Projections/Create",
    "/event_store.client.projections.Projections/Update",
    "/event_store.client.projections.Projections/Delete",
    "/event_store.client.projections.Projections/Statistics",
    "/event_store.client.projections.Projections/Disable",
    "/event_store.client.projections.Projections/Enable",
    "/event_store.client.projections.Projections/Reset",
    "/event_store.client.projections.Projections/State",
    "/event_store.client.projections.Projections/Result",
    "/event_store.client.projections.Projections/RestartSubsystem",
];

/// Operations' `Shutdown`: its request is `Empty`, which garbage often
/// decodes as, and then the node stops. It gets servers of its own.
pub const SHUTDOWN: &str = "/event_store.client.operations.Operations/Shutdown";

/// Methods of KurrentDB's services this server does not serve: every one
/// answers UNIMPLEMENTED. Monitoring's `Stats` (the HTTP `/stats` serves the
/// figures instead), and Redaction (it rewrites chunk files, and this server
/// has none).
pub const UNSERVED: &[&str] = &[
    "/event_store.client.monitoring.Monitoring/Stats",
    "/event_store.client.redaction.Redaction/GetEventPositions",
    "/event_store.client.redaction.Redaction/SwitchChunks",
];

/// What `method` needs of its caller to change anything, or to be
/// answered at all, on a secure server (KurrentDB's
/// `LegacyPolicySelectorFactory`; stream methods as the default ACL of a
/// user stream has it).
pub fn rights(method: &str) -> Rights {
    let (service, name) = method
        .trim_start_matches('/')
        .split_once('/')
        .expect("a method path");
    match (service.rsplit('.').next().unwrap_or(service), name) {
        ("ServerFeatures" | "Gossip", _) | ("PersistentSubscriptions", "TruncateParked") => {
            Rights::Anyone
        }
        ("PersistentSubscriptions", "Create" | "Update" | "Delete" | "ReplayParked")
        | ("PersistentSubscriptions", "RestartSubsystem")
        | ("Projections", "Delete" | "RestartSubsystem")
        | ("Operations", _) => Rights::Ops,
        ("Users", "Details" | "ChangePassword") => Rights::Authenticated,
        ("Users", _) => Rights::Admin,
        _ => Rights::Authenticated,
    }
}

/// Sends and receives messages as raw bytes.
#[derive(Debug, Clone, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// How a raw call ended: its status (`None` while it was still open when we
/// stopped listening, as a subscription is) and how many messages came back.
#[derive(Debug)]
pub struct Outcome {
    pub status: Option<Status>,
    #[allow(dead_code)] // Shown by `Debug` when a check fails.
    pub messages: usize,
}

impl Outcome {
    /// The status code, or `Ok` for a call that succeeded (or was still open).
    pub fn code(&self) -> tonic::Code {
        self.status.as_ref().map_or(tonic::Code::Ok, Status::code)
    }
}

/// Calls `path` with `messages` as the request stream, and listens to the
/// response for at most `listen`.
pub async fn call(
    channel: &Channel,
    path: &str,
    messages: Vec<Bytes>,
    listen: Duration,
) -> Outcome {
    let mut grpc = tonic::client::Grpc::new(channel.clone())
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    grpc.ready().await.expect("the channel is ready");
    let path = PathAndQuery::try_from(path.to_owned()).expect("a path");
    let request = tonic::Request::new(futures::stream::iter(messages));
    let response = match grpc.streaming(request, path, RawCodec).await {
        Ok(r) => r,
        Err(status) => {
            return Outcome {
                status: Some(status),
                messages: 0,
            };
        }
    };
    let mut stream = response.into_inner();
    let mut messages = 0;
    let deadline = tokio::time::Instant::now() + listen;
    loop {
        match tokio::time::timeout_at(deadline, stream.message()).await {
            Err(_) => {
                return Outcome {
                    status: None,
                    messages,
                };
            }
            Ok(Ok(Some(_))) => messages += 1,
            Ok(Ok(None)) => {
                return Outcome {
                    status: Some(Status::ok("")),
                    messages,
                };
            }
            Ok(Err(status)) => {
                return Outcome {
                    status: Some(status),
                    messages,
                };
            }
        }
    }
}

/// A raw HTTP/2 request to the server of `ctx` (over TLS, anonymous, to a
/// secure one): `headers` plus `content-type: application/grpc`, `body`
/// sent as DATA as it is (gRPC framing included, or not), then the end of
/// the stream. Returns the `grpc-status` the server answered (from the
/// headers or the trailers), or `None` when it reset the stream or gave
/// none.
pub async fn h2_call(ctx: &Ctx, path: &str, content_type: &str, body: Bytes) -> Option<String> {
    let tcp = tokio::net::TcpStream::connect(ctx.addr).await.ok()?;
    match &ctx.tls {
        None => h2_call_over(tcp, "http", ctx.addr, path, content_type, body).await,
        Some(config) => {
            let connector = tokio_rustls::TlsConnector::from(config.clone());
            let name = rustls::pki_types::ServerName::try_from("localhost").ok()?;
            let tls = connector.connect(name, tcp).await.ok()?;
            h2_call_over(tls, "https", ctx.addr, path, content_type, body).await
        }
    }
}

/// A TLS client configuration trusting `ca_pem`, offering HTTP/2.
pub fn tls_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(certificate.expect("a PEM certificate"))
            .expect("a CA");
    }
    #[allow(deprecated)] // ring, as the server's own configuration.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

async fn h2_call_over<IO>(
    io: IO,
    scheme: &str,
    addr: std::net::SocketAddr,
    path: &str,
    content_type: &str,
    body: Bytes,
) -> Option<String>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (h2, connection) = h2::client::handshake(io).await.ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut h2 = h2.ready().await.ok()?;
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{scheme}://{addr}{path}"))
        .header("content-type", content_type)
        .header("te", "trailers")
        .body(())
        .ok()?;
    let (response, mut send) = h2.send_request(request, false).ok()?;
    send.reserve_capacity(body.len());
    send.send_data(body, true).ok()?;
    let response = tokio::time::timeout(Duration::from_secs(5), response)
        .await
        .ok()?
        .ok()?;
    if let Some(s) = response.headers().get("grpc-status") {
        return s.to_str().ok().map(str::to_owned);
    }
    let mut body = response.into_body();
    let read = async {
        while let Some(chunk) = body.data().await {
            let chunk = chunk.ok()?;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        body.trailers().await.ok()?
    };
    let trailers = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()??;
    trailers
        .get("grpc-status")
        .and_then(|s| s.to_str().ok())
        .map(str::to_owned)
}

/// A gRPC message frame: flag, big-endian length, message.
pub fn frame(compressed: bool, length: u32, message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(u8::from(compressed));
    out.put_u32(length);
    out.extend_from_slice(message);
    Bytes::from(out)
}
