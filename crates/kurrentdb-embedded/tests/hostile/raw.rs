//! Raw calls: any bytes as the request messages of any method (a tonic codec
//! that sends bytes as they are), and raw HTTP/2 requests (the `h2` crate)
//! for what no codec can send: bad gRPC framing.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// Every method of every service, by path, with whether its client streams
/// (so a call sends several messages).
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
];

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

/// A raw HTTP/2 request: `headers` plus `content-type: application/grpc`,
/// `body` sent as DATA as it is (gRPC framing included, or not), then the end
/// of the stream. Returns the `grpc-status` the server answered (from the
/// headers or the trailers), or `None` when it reset the stream or gave none.
pub async fn h2_call(
    addr: std::net::SocketAddr,
    path: &str,
    content_type: &str,
    body: Bytes,
) -> Option<String> {
    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (h2, connection) = h2::client::handshake(tcp).await.ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut h2 = h2.ready().await.ok()?;
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
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
