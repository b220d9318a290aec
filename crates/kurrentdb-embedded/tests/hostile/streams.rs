//! Hostile v1 `Streams` requests: names, extreme revisions and positions,
//! filters, sizes, BatchAppend correlation ids.

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::{
    BatchAppendReq, DeleteReq, ReadReq, TombstoneReq, append_resp, batch_append_req,
    batch_append_resp, delete_req, read_req, read_resp, tombstone_req,
};
use tonic::Code;

use crate::common::{self, any, event, event_with_id, exact, no_stream};
use crate::{Case, Ctx, case};

/// A name of `$$` repeated `n` times, then `x`.
pub fn deep_name(n: usize) -> String {
    format!("{}x", "$$".repeat(n))
}

/// The expected revision an in-band wrong-expected-version answer reports.
fn wrong_expected(resp: &kurrentdbclient::proto::streams::AppendResp) -> Option<u64> {
    use append_resp::wrong_expected_version::ExpectedRevisionOption as E;
    match &resp.result {
        Some(append_resp::Result::WrongExpectedVersion(w)) => match w.expected_revision_option {
            Some(E::ExpectedRevision(n)) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

async fn delete(ctx: &Ctx, stream: &str, revision: u64) -> Result<(), tonic::Status> {
    ctx.streams()
        .delete(DeleteReq {
            options: Some(delete_req::Options {
                stream_identifier: common::sid(stream),
                expected_stream_revision: Some(
                    delete_req::options::ExpectedStreamRevision::Revision(revision),
                ),
            }),
        })
        .await
        .map(|_| ())
}

async fn tombstone(ctx: &Ctx, stream: &str) -> Result<(), tonic::Status> {
    ctx.streams()
        .tombstone(TombstoneReq {
            options: Some(tombstone_req::Options {
                stream_identifier: common::sid(stream),
                expected_stream_revision: Some(
                    tombstone_req::options::ExpectedStreamRevision::Any(Empty {}),
                ),
            }),
        })
        .await
        .map(|_| ())
}

/// Read options for a stream from a revision.
fn from_revision(stream: &str, revision: u64, backwards: bool) -> read_req::Options {
    let mut o = common::read_options();
    o.stream_option = Some(common::stream_options(
        stream,
        read_req::options::stream_options::RevisionOption::Revision(revision),
    ));
    if backwards {
        o.read_direction = read_req::options::ReadDirection::Backwards as i32;
    }
    o
}

fn subscription(mut o: read_req::Options) -> read_req::Options {
    o.count_option = Some(read_req::options::CountOption::Subscription(
        read_req::options::SubscriptionOptions {},
    ));
    o
}

/// The responses of a subscription over `listen` (it never ends by itself).
async fn subscribe(
    ctx: &Ctx,
    o: read_req::Options,
    listen: Duration,
) -> Result<Vec<read_resp::Content>, tonic::Status> {
    let mut s = ctx
        .streams()
        .read(ReadReq { options: Some(o) })
        .await?
        .into_inner();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + listen;
    while let Ok(m) = tokio::time::timeout_at(deadline, s.message()).await {
        match m? {
            Some(r) => out.extend(r.content),
            None => break,
        }
    }
    Ok(out)
}

fn event_count(contents: &[read_resp::Content]) -> usize {
    contents
        .iter()
        .filter(|c| matches!(c, read_resp::Content::Event(_)))
        .count()
}

/// Read options for a filtered `$all` read (or subscription, by the caller).
/// A BatchAppend chunk.
fn chunk(
    cid: uuid::Uuid,
    options: Option<batch_append_req::Options>,
    events: usize,
    data: usize,
    is_final: bool,
) -> BatchAppendReq {
    let mut metadata = std::collections::HashMap::new();
    metadata.insert("type".to_owned(), "T".to_owned());
    metadata.insert(
        "content-type".to_owned(),
        "application/octet-stream".to_owned(),
    );
    BatchAppendReq {
        correlation_id: common::puuid(cid),
        options,
        proposed_messages: (0..events)
            .map(|_| batch_append_req::ProposedMessage {
                id: common::puuid(uuid::Uuid::new_v4()),
                metadata: metadata.clone(),
                custom_metadata: Bytes::new(),
                data: Bytes::from(vec![b'x'; data]),
            })
            .collect(),
        is_final,
    }
}

fn batch_options(
    stream: &str,
    expected: batch_append_req::options::ExpectedStreamPosition,
) -> Option<batch_append_req::Options> {
    Some(batch_append_req::Options {
        stream_identifier: common::sid(stream),
        expected_stream_position: Some(expected),
        deadline_option: None,
    })
}

/// Runs a BatchAppend call: sends `chunks`, returns the responses and how
/// the call ended.
async fn batch(
    ctx: &Ctx,
    chunks: Vec<BatchAppendReq>,
) -> (Vec<batch_append_resp::Result>, Result<(), tonic::Status>) {
    let mut responses = Vec::new();
    let call = ctx
        .streams()
        .batch_append(futures::stream::iter(chunks))
        .await;
    let mut s = match call {
        Ok(s) => s.into_inner(),
        Err(e) => return (responses, Err(e)),
    };
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.message()).await {
            Ok(Ok(Some(r))) => responses.extend(r.result),
            Ok(Ok(None)) => return (responses, Ok(())),
            Ok(Err(e)) => return (responses, Err(e)),
            Err(_) => panic!("BatchAppend never ended"),
        }
    }
}

fn log_len(ctx: &Ctx) -> usize {
    ctx.store.log_len()
}

pub fn cases() -> Vec<Case> {
    vec![
        case!("append to a 20 KB name of `$$`", |c| async move {
            let mut s = c.streams();
            let err = common::append(&mut s, &deep_name(10_000), any(), vec![event("T", b"{}")])
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
            assert!(err.message().len() < 200, "the name is not echoed");
        }),
        case!(
            "delete and tombstone a 20 KB name of `$$`",
            |c| async move {
                let before = log_len(&c);
                assert_eq!(
                    delete(&c, &deep_name(10_000), 0).await.unwrap_err().code(),
                    Code::InvalidArgument
                );
                assert_eq!(
                    tombstone(&c, &deep_name(10_000)).await.unwrap_err().code(),
                    Code::InvalidArgument
                );
                assert_eq!(log_len(&c), before);
            }
        ),
        case!(
            "append, delete and tombstone the deepest `$$` chain allowed",
            |c| async move {
                let name = deep_name(2047);
                assert_eq!(name.len(), 4095);
                let mut s = c.streams();
                common::append_ok(&mut s, &name, any(), vec![event("T", b"{}")]).await;
                if c.caller != crate::Caller::Insecure {
                    // A secure server's policy deletes no metadata stream,
                    // not even for `admin` ("invalid metadata operation").
                    crate::assert_denied(&delete(&c, &name, 0).await, "delete");
                    crate::assert_denied(&tombstone(&c, &name).await, "tombstone");
                    return;
                }
                delete(&c, &name, 0).await.unwrap();
                tombstone(&c, &name).await.unwrap();
                let err = common::append(&mut s, &name, any(), vec![event("T", b"{}")])
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::FailedPrecondition);
            }
        ),
        case!(
            "a name of exactly the maximum length, and one byte more",
            |c| async move {
                let mut s = c.streams();
                let ok = "n".repeat(4096);
                common::append_ok(&mut s, &ok, any(), vec![event("T", b"{}")]).await;
                let err = common::append(&mut s, &format!("{ok}n"), any(), vec![event("T", b"{}")])
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
            }
        ),
        case!("an empty stream name", |c| async move {
            let err = common::append(&mut c.streams(), "", any(), vec![event("T", b"{}")])
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
        }),
        case!(
            "control characters in a stream name, then tombstoned",
            |c| async move {
                let name = "ctl-\u{0}\u{7}\n\r\t\u{1b}[31m-\u{7f}";
                let mut s = c.streams();
                common::append_ok(&mut s, name, any(), vec![event("T", b"{}")]).await;
                tombstone(&c, name).await.unwrap();
                let err = common::append(&mut s, name, any(), vec![event("T", b"{}")])
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::FailedPrecondition);
                assert_eq!(common::trailer(&err, "exception"), Some("stream-deleted"));
            }
        ),
        case!("a stream name that is not UTF-8", |c| async move {
            let mut reqs = common::append_requests("x", any(), vec![event("T", b"{}")]);
            if let Some(kurrentdbclient::proto::streams::append_req::Content::Options(o)) =
                &mut reqs[0].content
            {
                o.stream_identifier = Some(kurrentdbclient::proto::shared::StreamIdentifier {
                    stream_name: Bytes::from_static(&[0xff, 0xfe, b'a']),
                });
            }
            let err = c
                .streams()
                .append(futures::stream::iter(reqs))
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::Unknown);
        }),
        case!(
            "expected revision u64::MAX-1 with two events",
            |c| async move {
                let mut s = c.streams();
                common::append_ok(&mut s, "rev-max-1", any(), vec![event("T", b"{}")]).await;
                let resp = common::append(
                    &mut s,
                    "rev-max-1",
                    exact(u64::MAX - 1),
                    vec![event("T", b"{}"), event("T", b"{}")],
                )
                .await
                .unwrap();
                assert_eq!(wrong_expected(&resp), Some(u64::MAX - 1));
            }
        ),
        case!(
            "expected revision u64::MAX with a repeated event id",
            |c| async move {
                let mut s = c.streams();
                let id = uuid::Uuid::new_v4();
                common::append_ok(
                    &mut s,
                    "rev-max",
                    no_stream(),
                    vec![event_with_id(id, "T", b"{}")],
                )
                .await;
                let resp = common::append(
                    &mut s,
                    "rev-max",
                    exact(u64::MAX),
                    vec![event_with_id(id, "T", b"{}")],
                )
                .await
                .unwrap();
                assert_eq!(
                    wrong_expected(&resp),
                    Some(u64::MAX),
                    "not an idempotent retry"
                );
            }
        ),
        case!("expected revision i64::MAX + 1", |c| async move {
            let resp = common::append(
                &mut c.streams(),
                "rev-big",
                exact(1 << 63),
                vec![event("T", b"{}")],
            )
            .await
            .unwrap();
            assert_eq!(wrong_expected(&resp), Some(1 << 63));
        }),
        case!(
            "delete expecting u64::MAX reports it as sent",
            |c| async move {
                common::append_ok(&mut c.streams(), "del-max", any(), vec![event("T", b"{}")])
                    .await;
                let err = delete(&c, "del-max", u64::MAX).await.unwrap_err();
                assert_eq!(err.code(), Code::FailedPrecondition);
                assert!(
                    err.message()
                        .contains("Expected version: 18446744073709551615"),
                    "{}",
                    err.message()
                );
                assert_eq!(
                    common::trailer(&err, "expected-version"),
                    Some("18446744073709551615")
                );
            }
        ),
        case!(
            "read a stream from revision u64::MAX, both ways",
            |c| async move {
                let mut s = c.streams();
                common::append_ok(
                    &mut s,
                    "read-max",
                    any(),
                    vec![event("A", b"{}"), event("B", b"{}")],
                )
                .await;
                let fwd = common::read(&mut s, from_revision("read-max", u64::MAX, false))
                    .await
                    .unwrap();
                assert!(common::events(&fwd).is_empty());
                let back = common::read(&mut s, from_revision("read-max", u64::MAX, true))
                    .await
                    .unwrap();
                assert_eq!(common::events(&back).len(), 2);
            }
        ),
        case!("read a stream from revision 2^63", |c| async move {
            let err = common::read(&mut c.streams(), from_revision("read-max", 1 << 63, false))
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::Unknown);
        }),
        case!(
            "subscribe to a stream from revision u64::MAX: no replay",
            |c| async move {
                let mut s = c.streams();
                common::append_ok(
                    &mut s,
                    "sub-max",
                    any(),
                    vec![event("A", b"{}"), event("B", b"{}")],
                )
                .await;
                let got = subscribe(
                    &c,
                    subscription(from_revision("sub-max", u64::MAX, false)),
                    Duration::from_millis(300),
                )
                .await
                .unwrap();
                assert_eq!(
                    event_count(&got),
                    0,
                    "u64::MAX is the end, not a wrap to the start"
                );
                assert!(
                    got.iter()
                        .any(|c| matches!(c, read_resp::Content::CaughtUp(_)))
                );
            }
        ),
        case!(
            "subscribe to a stream from revision i64::MAX",
            |c| async move {
                let got = subscribe(
                    &c,
                    subscription(from_revision("sub-max", i64::MAX as u64, false)),
                    Duration::from_millis(300),
                )
                .await
                .unwrap();
                assert_eq!(event_count(&got), 0);
                let caught_up = got.iter().find_map(|c| match c {
                    read_resp::Content::CaughtUp(u) => Some(u.stream_revision),
                    _ => None,
                });
                // KurrentDB reports its checkpoint, the revision it started after.
                assert_eq!(caught_up, Some(Some(i64::MAX)));
            }
        ),
        case!("subscribe to a stream from revision 2^63", |c| async move {
            let err = subscribe(
                &c,
                subscription(from_revision("sub-max", 1 << 63, false)),
                Duration::from_millis(300),
            )
            .await
            .unwrap_err();
            assert_eq!(err.code(), Code::Unknown);
        }),
        case!(
            "read and subscribe to $all from extreme positions",
            |c| async move {
                let mut s = c.streams();
                for (position, code) in [
                    (u64::MAX, Code::Ok),
                    (i64::MAX as u64, Code::Unknown),
                    (1 << 63, Code::Unknown),
                    (1, Code::Unknown),
                ] {
                    let mut o = common::read_options();
                    o.stream_option = Some(common::all_options(common::all_at(position)));
                    match common::read(&mut s, o.clone()).await {
                        Ok(r) => {
                            assert_eq!(code, Code::Ok, "position {position}");
                            assert!(common::events(&r).is_empty());
                        }
                        Err(e) => assert_eq!(e.code(), code, "position {position}"),
                    }
                    match subscribe(&c, subscription(o), Duration::from_millis(200)).await {
                        Ok(r) => {
                            assert_eq!(code, Code::Ok, "position {position}");
                            assert_eq!(event_count(&r), 0);
                        }
                        Err(e) => assert_eq!(e.code(), code, "position {position}"),
                    }
                }
            }
        ),
        case!("reads of count 0 and u64::MAX", |c| async move {
            let mut s = c.streams();
            let mut o = common::read_options();
            o.stream_option = Some(common::all_options(common::all_start()));
            o.count_option = Some(read_req::options::CountOption::Count(0));
            assert!(common::events(&common::read(&mut s, o).await.unwrap()).is_empty());
        }),
        case!("a pathological filter regex is refused", |c| async move {
            let err = common::read(
                &mut c.streams(),
                common::filtered(common::regex(r"[a-zé]{0,8000}\b\d"), 32, 1),
            )
            .await
            .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
            let err = subscribe(
                &c,
                subscription(common::filtered(
                    common::regex(r"[a-zé]{0,8000}\b\d"),
                    32,
                    1,
                )),
                Duration::from_millis(100),
            )
            .await
            .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
        }),
        case!("an invalid filter regex", |c| async move {
            let err = common::read(
                &mut c.streams(),
                common::filtered(common::regex("(unclosed"), 32, 1),
            )
            .await
            .unwrap_err();
            assert_eq!(err.code(), Code::Unknown);
        }),
        case!(
            "300,000 filter prefixes are refused, 10,000 are served",
            |c| async move {
                let err = common::read(
                    &mut c.streams(),
                    common::filtered(common::prefixes(300_000), 32, 1),
                )
                .await
                .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
                let mut s = c.streams();
                common::append_ok(&mut s, "prefix-9999-x", any(), vec![event("T", b"{}")]).await;
                let read = common::read(&mut s, common::filtered(common::prefixes(10_000), 32, 1))
                    .await
                    .unwrap();
                assert_eq!(common::events(&read).len(), 1);
            }
        ),
        case!(
            "a slow regex over long non-ASCII names stays a slow read",
            |c| async move {
                let mut s = c.streams();
                let name = "é".repeat(2000);
                for _ in 0..3 {
                    common::append_ok(&mut s, &name, any(), vec![event("T", b"{}")]).await;
                }
                // Within the size limit, but no literal to skip ahead with.
                let read = common::read(
                    &mut s,
                    common::filtered(common::regex(r"[a-zé]{0,400}\b\d"), 32, 1),
                )
                .await
                .unwrap();
                let long = name.as_bytes();
                assert!(common::events(&read).iter().all(|e| {
                    &e.event
                        .as_ref()
                        .unwrap()
                        .stream_identifier
                        .as_ref()
                        .unwrap()
                        .stream_name[..]
                        != long
                }));
            }
        ),
        case!(
            "a filtered subscription with a huge checkpoint interval reaches a sparse match",
            |c| async move {
                let mut s = c.streams();
                for _ in 0..6 {
                    common::append_ok(
                        &mut s,
                        "noise",
                        any(),
                        (0..1000).map(|_| event("N", b"{}")).collect(),
                    )
                    .await;
                }
                common::append_ok(&mut s, "needle-1", any(), vec![event("T", b"{}")]).await;
                let got = subscribe(
                    &c,
                    subscription(common::filtered(
                        common::regex("^needle-"),
                        u32::MAX,
                        u32::MAX,
                    )),
                    Duration::from_secs(3),
                )
                .await
                .unwrap();
                assert_eq!(
                    event_count(&got),
                    1,
                    "the match after 6,000 non-matching records arrives"
                );
                assert!(
                    got.iter()
                        .any(|c| matches!(c, read_resp::Content::CaughtUp(_)))
                );
            }
        ),
        case!("an append over the maximum size", |c| async move {
            let before = log_len(&c);
            let big = vec![0u8; 1024 * 1024];
            let err = common::append(&mut c.streams(), "big", any(), vec![event("T", &big)])
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
            assert_eq!(log_len(&c), before);
        }),
        case!("100,000 empty events in one append", |c| async move {
            let before = log_len(&c);
            let events = (0..100_000).map(|_| event("", b"")).collect();
            let err = common::append(&mut c.streams(), "empties", any(), events)
                .await
                .unwrap_err();
            assert_eq!(
                err.code(),
                Code::InvalidArgument,
                "per-event overhead counts"
            );
            assert_eq!(log_len(&c), before);
        }),
        case!(
            "an empty append to a new stream leaves nothing",
            |c| async move {
                let before = log_len(&c);
                let mut s = c.streams();
                let resp = common::append(&mut s, "never-written", any(), vec![])
                    .await
                    .unwrap();
                assert!(matches!(resp.result, Some(append_resp::Result::Success(_))));
                assert_eq!(log_len(&c), before);
                assert!(common::is_not_found(
                    &common::read_stream(&mut s, "never-written").await.unwrap()
                ));
                // No index entry either: expecting "no stream" still holds.
                common::append_ok(
                    &mut s,
                    "never-written",
                    no_stream(),
                    vec![event("T", b"{}")],
                )
                .await;
            }
        ),
        case!(
            "BatchAppend with interleaved correlation ids",
            |c| async move {
                use batch_append_req::options::ExpectedStreamPosition as E;
                let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
                let chunks = vec![
                    chunk(a, batch_options("batch-a", E::Any(())), 1, 10, false),
                    chunk(b, None, 1, 10, true),
                    chunk(a, None, 1, 10, true),
                ];
                let (results, end) = batch(&c, chunks).await;
                end.unwrap();
                assert_eq!(results.len(), 2);
                assert!(
                    matches!(results[0], batch_append_resp::Result::Error(_)),
                    "b has no options"
                );
                assert!(matches!(results[1], batch_append_resp::Result::Success(_)));
            }
        ),
        case!(
            "BatchAppend with an unparsable correlation id",
            |c| async move {
                let mut req = chunk(uuid::Uuid::new_v4(), None, 1, 10, true);
                req.correlation_id = Some(kurrentdbclient::proto::shared::Uuid {
                    value: Some(kurrentdbclient::proto::shared::uuid::Value::String(
                        "not a uuid".to_owned(),
                    )),
                });
                let (results, end) = batch(&c, vec![req]).await;
                assert!(results.is_empty());
                assert_eq!(end.unwrap_err().code(), Code::Unknown);
            }
        ),
        case!(
            "BatchAppend with many unfinished 1 MiB batches",
            |c| async move {
                use batch_append_req::options::ExpectedStreamPosition as E;
                let before = log_len(&c);
                let chunks = (0..32)
                    .map(|_| {
                        chunk(
                            uuid::Uuid::new_v4(),
                            batch_options("unfinished", E::Any(())),
                            1,
                            1000 * 1000,
                            false,
                        )
                    })
                    .collect();
                let (results, end) = batch(&c, chunks).await;
                assert!(results.is_empty());
                assert_eq!(end.unwrap_err().code(), Code::ResourceExhausted);
                assert_eq!(log_len(&c), before);
            }
        ),
        case!(
            "BatchAppend expecting u64::MAX, and a too-long name",
            |c| async move {
                use batch_append_req::options::ExpectedStreamPosition as E;
                let chunks = vec![
                    chunk(
                        uuid::Uuid::new_v4(),
                        batch_options("batch-max", E::StreamPosition(u64::MAX)),
                        1,
                        10,
                        true,
                    ),
                    chunk(
                        uuid::Uuid::new_v4(),
                        batch_options(&"n".repeat(5000), E::Any(())),
                        1,
                        10,
                        true,
                    ),
                ];
                let (results, end) = batch(&c, chunks).await;
                end.unwrap();
                assert_eq!(results.len(), 2);
                for r in results {
                    let batch_append_resp::Result::Error(e) = r else {
                        panic!("refused")
                    };
                    assert_ne!(e.code, 0);
                }
            }
        ),
        case!(
            "BatchAppend over the maximum size in many small chunks",
            |c| async move {
                use batch_append_req::options::ExpectedStreamPosition as E;
                let cid = uuid::Uuid::new_v4();
                let mut chunks = vec![chunk(
                    cid,
                    batch_options("batch-big", E::Any(())),
                    1,
                    100_000,
                    false,
                )];
                chunks.extend((0..11).map(|_| chunk(cid, None, 1, 100_000, false)));
                chunks.push(chunk(cid, None, 0, 0, true));
                let (results, end) = batch(&c, chunks).await;
                end.unwrap();
                assert!(
                    matches!(results.as_slice(), [batch_append_resp::Result::Error(e)] if e.code == Code::InvalidArgument as i32)
                );
            }
        ),
    ]
}
