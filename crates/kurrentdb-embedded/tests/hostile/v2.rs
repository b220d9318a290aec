//! Hostile v2 `StreamsService` requests: sessions with thousands of streams,
//! duplicates, oversized and empty records, extreme expected revisions,
//! half-failing multi-stream appends.

use bytes::Bytes;
use kurrentdbclient::proto::v2::streams_service_client::StreamsServiceClient;
use kurrentdbclient::proto::v2::{
    AppendRecord, AppendRecordsRequest, AppendRequest, ConsistencyCheck, SchemaFormat, SchemaInfo,
    consistency_check,
};
use tonic::Code;

use crate::common;
use crate::{Case, Ctx, case};

fn record(stream: &str, data: usize) -> AppendRecord {
    AppendRecord {
        record_id: Some(uuid::Uuid::new_v4().to_string()),
        properties: Default::default(),
        schema: Some(SchemaInfo {
            format: SchemaFormat::Json as i32,
            name: "T".to_owned(),
            id: None,
        }),
        data: Bytes::from(vec![b'1'; data]),
        stream: stream.to_owned(),
    }
}

fn req(stream: &str, expected: Option<i64>, records: Vec<AppendRecord>) -> AppendRequest {
    AppendRequest {
        stream: stream.to_owned(),
        records,
        expected_revision: expected,
    }
}

fn v2(ctx: &Ctx) -> StreamsServiceClient<tonic::transport::Channel> {
    StreamsServiceClient::new(ctx.channel.clone())
}

async fn session(ctx: &Ctx, requests: Vec<AppendRequest>) -> Result<(), tonic::Status> {
    v2(ctx)
        .append_session(futures::stream::iter(requests))
        .await
        .map(|_| ())
}

fn check(stream: &str, expected: i64) -> ConsistencyCheck {
    ConsistencyCheck {
        r#type: Some(consistency_check::Type::StreamState(
            consistency_check::StreamStateCheck {
                stream: stream.to_owned(),
                expected_state: expected,
            },
        )),
    }
}

async fn not_found(ctx: &Ctx, stream: &str) -> bool {
    common::is_not_found(
        &common::read_stream(&mut ctx.streams(), stream)
            .await
            .unwrap(),
    )
}

pub fn cases() -> Vec<Case> {
    vec![
        case!("an append session with 5,000 streams", |c| async move {
            let requests = (0..5000)
                .map(|i| req(&format!("v2-many-{i}"), Some(-1), vec![record("", 2)]))
                .collect();
            session(&c, requests).await.unwrap();
            assert!(!not_found(&c, "v2-many-4999").await);
        }),
        case!(
            "an append session with 200,000 streams is refused early",
            |c| async move {
                let before = c.store.log_len();
                let requests = (0..200_000)
                    .map(|i| req(&format!("v2-huge-{i}"), None, vec![]))
                    .collect();
                let err = session(&c, requests).await.unwrap_err();
                assert_eq!(err.code(), Code::Aborted);
                assert_eq!(c.store.log_len(), before);
            }
        ),
        case!("the same stream twice in a session", |c| async move {
            let err = session(
                &c,
                vec![
                    req("v2-dup", None, vec![record("", 2)]),
                    req("v2-dup", None, vec![]),
                ],
            )
            .await
            .unwrap_err();
            assert_eq!(err.code(), Code::Aborted);
            assert!(not_found(&c, "v2-dup").await);
        }),
        case!("a session of 400 records of 600 KB", |c| async move {
            let before = c.store.log_len();
            let requests = (0..400)
                .map(|i| req(&format!("v2-big-{i}"), None, vec![record("", 600_000)]))
                .collect();
            let err = session(&c, requests).await.unwrap_err();
            assert_eq!(err.code(), Code::Aborted);
            assert_eq!(c.store.log_len(), before);
        }),
        case!("a record over the maximum record size", |c| async move {
            let err = session(&c, vec![req("v2-rec", None, vec![record("", 1024 * 1024)])])
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
        }),
        case!("a session of 50,000 empty records", |c| async move {
            let before = c.store.log_len();
            let mut r = record("", 0);
            r.schema.as_mut().unwrap().name = "E".to_owned();
            let err = session(&c, vec![req("v2-empties", None, vec![r; 50_000])])
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::Aborted);
            assert_eq!(c.store.log_len(), before);
        }),
        case!("extreme expected revisions", |c| async move {
            for n in [-3, -5, i64::MIN] {
                let err = session(&c, vec![req("v2-exp", Some(n), vec![record("", 2)])])
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument, "{n}");
            }
            let err = session(&c, vec![req("v2-exp", Some(i64::MAX), vec![record("", 2)])])
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::FailedPrecondition);
            assert!(
                err.message().contains(&i64::MAX.to_string()),
                "{}",
                err.message()
            );
        }),
        case!(
            "a session whose second stream is tombstoned writes nothing",
            |c| async move {
                let mut s = c.streams();
                common::append_ok(
                    &mut s,
                    "v2-dead",
                    common::any(),
                    vec![common::event("T", b"{}")],
                )
                .await;
                c.streams()
                .tombstone(kurrentdbclient::proto::streams::TombstoneReq {
                    options: Some(kurrentdbclient::proto::streams::tombstone_req::Options {
                        stream_identifier: common::sid("v2-dead"),
                        expected_stream_revision: Some(
                            kurrentdbclient::proto::streams::tombstone_req::options::ExpectedStreamRevision::Any(
                                kurrentdbclient::proto::shared::Empty {},
                            ),
                        ),
                    }),
                })
                .await
                .unwrap();
                let err = session(
                    &c,
                    vec![
                        req("v2-alive", None, vec![record("", 2)]),
                        req("v2-dead", None, vec![record("", 2)]),
                    ],
                )
                .await
                .unwrap_err();
                assert_eq!(err.code(), Code::FailedPrecondition);
                assert!(not_found(&c, "v2-alive").await, "no half-written append");
            }
        ),
        case!(
            "a session with a too-long and an empty stream name",
            |c| async move {
                let err = session(&c, vec![req(&"n".repeat(5000), None, vec![record("", 2)])])
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
                let err = session(&c, vec![req("", None, vec![record("", 2)])])
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
            }
        ),
        case!("an empty session", |c| async move {
            let err = session(&c, vec![]).await.unwrap_err();
            assert_eq!(err.code(), Code::FailedPrecondition);
        }),
        case!(
            "AppendRecords to 3,000 streams, interleaved",
            |c| async move {
                let records = (0..6000)
                    .map(|i| record(&format!("v2-rec-{}", i % 3000), 2))
                    .collect();
                let resp = v2(&c)
                    .append_records(AppendRecordsRequest {
                        records,
                        checks: vec![],
                    })
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(resp.revisions.len(), 3000);
                assert!(resp.revisions.iter().all(|r| r.revision == 1));
            }
        ),
        case!(
            "AppendRecords over the maximum size in many streams",
            |c| async move {
                let before = c.store.log_len();
                let records = (0..20_000)
                    .map(|i| record(&format!("v2-over-{i}"), 2))
                    .collect();
                let err = v2(&c)
                    .append_records(AppendRecordsRequest {
                        records,
                        checks: vec![],
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::Aborted);
                assert_eq!(c.store.log_len(), before);
            }
        ),
        case!(
            "AppendRecords with a failing check writes none of its streams",
            |c| async move {
                let records = vec![record("v2-chk-a", 2), record("v2-chk-b", 2)];
                let err = v2(&c)
                    .append_records(AppendRecordsRequest {
                        records,
                        checks: vec![check("v2-chk-c", 0), check("v2-chk-a", i64::MAX)],
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::FailedPrecondition);
                assert!(not_found(&c, "v2-chk-a").await && not_found(&c, "v2-chk-b").await);
            }
        ),
        case!(
            "AppendRecords with bad checks and no records",
            |c| async move {
                let err = v2(&c)
                    .append_records(AppendRecordsRequest {
                        records: vec![],
                        checks: vec![check("x", 0)],
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
                let err = v2(&c)
                    .append_records(AppendRecordsRequest {
                        records: vec![record("v2-x", 2)],
                        checks: vec![
                            check(&"n".repeat(5000), 0),
                            ConsistencyCheck { r#type: None },
                        ],
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
            }
        ),
        case!(
            "AppendRecords with an invalid record id and no schema name",
            |c| async move {
                let mut bad_id = record("v2-bad", 2);
                bad_id.record_id = Some("not-a-uuid".to_owned());
                let mut no_type = record("v2-bad", 2);
                no_type.schema = None;
                for r in [bad_id, no_type] {
                    let err = v2(&c)
                        .append_records(AppendRecordsRequest {
                            records: vec![r],
                            checks: vec![],
                        })
                        .await
                        .unwrap_err();
                    assert_eq!(err.code(), Code::InvalidArgument);
                }
                assert!(not_found(&c, "v2-bad").await);
            }
        ),
    ]
}
