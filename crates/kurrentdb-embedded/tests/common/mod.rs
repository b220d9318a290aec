//! Helpers for driving the embedded server through the generated gRPC stubs.
//! A server started here ([`server`]) comes with a [`panics::Watch`]: the
//! test fails when the code under test panicked while it ran, on any thread
//! or task.
#![allow(dead_code)]

pub mod panics;

use std::collections::HashMap;

use bytes::Bytes;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::proto::shared::{Empty, StreamIdentifier, Uuid as PUuid, uuid as puuid_mod};
use kurrentdbclient::proto::streams::streams_client::StreamsClient;
use kurrentdbclient::proto::streams::{
    AppendReq, AppendResp, ReadReq, ReadResp, append_req, read_req, read_resp,
};
use tonic::transport::Channel;

pub type Client = StreamsClient<Channel>;

/// A server started by [`server`]: the [`EmbeddedServer`], and a
/// [`panics::Watch`] that fails the test when the code under test panicked
/// between the start and the drop (the server's own shutdown included).
#[derive(Debug)]
pub struct Server {
    // Dropped in this order: the server stops before the watch looks.
    server: EmbeddedServer,
    _watch: panics::Watch,
}

impl std::ops::Deref for Server {
    type Target = EmbeddedServer;

    fn deref(&self) -> &EmbeddedServer {
        &self.server
    }
}

/// An insecure server, watched for panics, and a channel to it.
pub async fn server() -> (Server, Channel) {
    let watch = panics::Watch::start();
    let server = EmbeddedServer::start().await.expect("server starts");
    let channel = Channel::from_shared(server.uri())
        .unwrap()
        .connect()
        .await
        .expect("connects");
    (
        Server {
            server,
            _watch: watch,
        },
        channel,
    )
}

pub fn sid(name: &str) -> Option<StreamIdentifier> {
    Some(StreamIdentifier {
        stream_name: Bytes::copy_from_slice(name.as_bytes()),
    })
}

pub fn puuid(id: uuid::Uuid) -> Option<PUuid> {
    Some(PUuid {
        value: Some(puuid_mod::Value::String(id.to_string())),
    })
}

/// An event with a fresh id.
pub fn event(event_type: &str, data: &[u8]) -> append_req::ProposedMessage {
    event_with_id(uuid::Uuid::new_v4(), event_type, data)
}

pub fn event_with_id(id: uuid::Uuid, event_type: &str, data: &[u8]) -> append_req::ProposedMessage {
    let mut metadata = HashMap::new();
    metadata.insert("type".to_owned(), event_type.to_owned());
    metadata.insert("content-type".to_owned(), "application/json".to_owned());
    append_req::ProposedMessage {
        id: puuid(id),
        metadata,
        custom_metadata: Bytes::from_static(b"{\"m\":1}"),
        data: Bytes::copy_from_slice(data),
    }
}

pub type Expected = append_req::options::ExpectedStreamRevision;

pub fn any() -> Expected {
    Expected::Any(Empty {})
}
pub fn no_stream() -> Expected {
    Expected::NoStream(Empty {})
}
pub fn exists() -> Expected {
    Expected::StreamExists(Empty {})
}
pub fn exact(n: u64) -> Expected {
    Expected::Revision(n)
}

pub fn append_requests(
    stream: &str,
    expected: Expected,
    events: Vec<append_req::ProposedMessage>,
) -> Vec<AppendReq> {
    let mut reqs = vec![AppendReq {
        content: Some(append_req::Content::Options(append_req::Options {
            stream_identifier: sid(stream),
            expected_stream_revision: Some(expected),
        })),
    }];
    reqs.extend(events.into_iter().map(|e| AppendReq {
        content: Some(append_req::Content::ProposedMessage(e)),
    }));
    reqs
}

pub async fn append(
    client: &mut Client,
    stream: &str,
    expected: Expected,
    events: Vec<append_req::ProposedMessage>,
) -> Result<AppendResp, tonic::Status> {
    let reqs = append_requests(stream, expected, events);
    client
        .append(futures::stream::iter(reqs))
        .await
        .map(|r| r.into_inner())
}

/// Appends and expects success: returns (current revision, position).
pub async fn append_ok(
    client: &mut Client,
    stream: &str,
    expected: Expected,
    events: Vec<append_req::ProposedMessage>,
) -> (u64, u64) {
    use kurrentdbclient::proto::streams::append_resp::{Result as R, success};
    let resp = append(client, stream, expected, events)
        .await
        .expect("append");
    match resp.result {
        Some(R::Success(s)) => {
            let rev = match s.current_revision_option {
                Some(success::CurrentRevisionOption::CurrentRevision(r)) => r,
                other => panic!("no revision: {other:?}"),
            };
            let pos = match s.position_option {
                Some(success::PositionOption::Position(p)) => {
                    assert_eq!(p.commit_position, p.prepare_position);
                    p.commit_position
                }
                other => panic!("no position: {other:?}"),
            };
            (rev, pos)
        }
        other => panic!("append failed: {other:?}"),
    }
}

pub fn read_options() -> read_req::Options {
    read_req::Options {
        stream_option: None,
        read_direction: read_req::options::ReadDirection::Forwards as i32,
        resolve_links: false,
        count_option: Some(read_req::options::CountOption::Count(u64::MAX)),
        filter_option: Some(read_req::options::FilterOption::NoFilter(Empty {})),
        uuid_option: Some(read_req::options::UuidOption {
            content: Some(read_req::options::uuid_option::Content::String(Empty {})),
        }),
        control_option: None,
    }
}

pub fn stream_options(
    stream: &str,
    rev: read_req::options::stream_options::RevisionOption,
) -> read_req::options::StreamOption {
    read_req::options::StreamOption::Stream(read_req::options::StreamOptions {
        stream_identifier: sid(stream),
        revision_option: Some(rev),
    })
}

pub fn all_options(
    opt: read_req::options::all_options::AllOption,
) -> read_req::options::StreamOption {
    read_req::options::StreamOption::All(read_req::options::AllOptions {
        all_option: Some(opt),
    })
}

pub fn start() -> read_req::options::stream_options::RevisionOption {
    read_req::options::stream_options::RevisionOption::Start(Empty {})
}
pub fn end() -> read_req::options::stream_options::RevisionOption {
    read_req::options::stream_options::RevisionOption::End(Empty {})
}
pub fn all_start() -> read_req::options::all_options::AllOption {
    read_req::options::all_options::AllOption::Start(Empty {})
}
pub fn all_end() -> read_req::options::all_options::AllOption {
    read_req::options::all_options::AllOption::End(Empty {})
}
pub fn all_at(p: u64) -> read_req::options::all_options::AllOption {
    read_req::options::all_options::AllOption::Position(read_req::options::Position {
        commit_position: p,
        prepare_position: p,
    })
}

/// Runs a finite read and collects every response.
pub async fn read(
    client: &mut Client,
    options: read_req::Options,
) -> Result<Vec<ReadResp>, tonic::Status> {
    let mut stream = client
        .read(ReadReq {
            options: Some(options),
        })
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(resp) = stream.message().await? {
        out.push(resp);
    }
    Ok(out)
}

/// The events of a read's responses.
pub fn events(resps: &[ReadResp]) -> Vec<read_resp::ReadEvent> {
    resps
        .iter()
        .filter_map(|r| match &r.content {
            Some(read_resp::Content::Event(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// The events of a read that are not system (`$`-typed) events: a fresh
/// server's `$all` starts with the events a fresh node writes, as a real
/// node's does.
pub fn user_events(resps: &[ReadResp]) -> Vec<read_resp::ReadEvent> {
    let is_system = |e: &read_resp::ReadEvent| {
        e.event
            .as_ref()
            .and_then(|r| r.metadata.get("type"))
            .is_some_and(|t| t.starts_with('$'))
    };
    events(resps)
        .into_iter()
        .filter(|e| !is_system(e))
        .collect()
}

/// Reads a whole stream forwards; returns its events.
pub async fn read_stream(
    client: &mut Client,
    stream: &str,
) -> Result<Vec<ReadResp>, tonic::Status> {
    let mut o = read_options();
    o.stream_option = Some(stream_options(stream, start()));
    read(client, o).await
}

pub fn is_not_found(resps: &[ReadResp]) -> bool {
    matches!(
        resps.first().and_then(|r| r.content.as_ref()),
        Some(read_resp::Content::StreamNotFound(_))
    ) && resps.len() == 1
}

pub fn event_type(e: &read_resp::read_event::RecordedEvent) -> &str {
    e.metadata.get("type").map(String::as_str).unwrap_or("")
}

pub fn trailer<'a>(status: &'a tonic::Status, key: &str) -> Option<&'a str> {
    status.metadata().get(key).and_then(|v| v.to_str().ok())
}

/// Read options for `$all` from the start, filtered on stream names.
pub fn filtered(
    expression: read_req::options::filter_options::Expression,
    window: u32,
    multiplier: u32,
) -> read_req::Options {
    use read_req::options::filter_options::{Filter, Window};
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    o.filter_option = Some(read_req::options::FilterOption::Filter(
        read_req::options::FilterOptions {
            filter: Some(Filter::StreamIdentifier(expression)),
            window: Some(Window::Max(window)),
            checkpoint_interval_multiplier: multiplier,
        },
    ));
    o
}

/// A regex filter expression.
pub fn regex(r: &str) -> read_req::options::filter_options::Expression {
    read_req::options::filter_options::Expression {
        regex: r.to_owned(),
        prefix: Vec::new(),
    }
}

/// A filter of `n` distinct prefixes.
pub fn prefixes(n: usize) -> read_req::options::filter_options::Expression {
    read_req::options::filter_options::Expression {
        regex: String::new(),
        prefix: (0..n).map(|i| format!("prefix-{i}-")).collect(),
    }
}
