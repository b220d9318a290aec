//! Memory per stored event: stores 1,000,000 small events (100-event appends
//! over gRPC) and reports the process's resident memory (VmRSS) before and
//! after. Run by hand:
//!
//! `cargo run --release -p kurrentdb-embedded --example memory`

use std::collections::HashMap;

use bytes::Bytes;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::proto::shared::{Empty, StreamIdentifier, Uuid, uuid};
use kurrentdbclient::proto::streams::streams_client::StreamsClient;
use kurrentdbclient::proto::streams::{AppendReq, append_req};

const EVENTS: usize = 1_000_000;
const PAYLOAD: &[u8] = b"{\"order\":\"order-123\",\"amount\":42}";

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let server = EmbeddedServer::start().await.unwrap();
    let channel = tonic::transport::Channel::from_shared(server.uri())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = StreamsClient::new(channel);
    // A fresh log starts with the events a fresh KurrentDB node writes.
    let start_len = server.store().log_len();
    let before = rss_kib();
    for i in 0..EVENTS / 100 {
        let stream = Bytes::from(format!("order-{}", i % 1000));
        let mut reqs = vec![AppendReq {
            content: Some(append_req::Content::Options(append_req::Options {
                stream_identifier: Some(StreamIdentifier {
                    stream_name: stream,
                }),
                expected_stream_revision: Some(append_req::options::ExpectedStreamRevision::Any(
                    Empty {},
                )),
            })),
        }];
        for _ in 0..100 {
            let mut metadata = HashMap::new();
            metadata.insert("type".to_owned(), "OrderPlaced".to_owned());
            metadata.insert("content-type".to_owned(), "application/json".to_owned());
            reqs.push(AppendReq {
                content: Some(append_req::Content::ProposedMessage(
                    append_req::ProposedMessage {
                        id: Some(Uuid {
                            value: Some(uuid::Value::String(::uuid::Uuid::new_v4().to_string())),
                        }),
                        metadata,
                        custom_metadata: Bytes::new(),
                        data: Bytes::from_static(PAYLOAD),
                    },
                )),
            });
        }
        client.append(futures::stream::iter(reqs)).await.unwrap();
    }
    let after = rss_kib();
    assert_eq!(server.store().log_len(), start_len + EVENTS);
    let per_event = (after.saturating_sub(before) * 1024) as f64 / EVENTS as f64;
    println!(
        "stored {EVENTS} events of {} bytes: VmRSS {before} KiB -> {after} KiB, {per_event:.0} bytes per event ({:.0} over the payload)",
        PAYLOAD.len(),
        per_event - PAYLOAD.len() as f64
    );
}
