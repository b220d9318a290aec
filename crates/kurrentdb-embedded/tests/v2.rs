//! v2 `StreamsService`: AppendSession and AppendRecords, with their rich errors.
mod common;

use std::collections::HashMap;

use bytes::Bytes;
use common::*;
use kurrentdbclient::proto::status::Status as RpcStatus;
use kurrentdbclient::proto::v2::streams_service_client::StreamsServiceClient;
use kurrentdbclient::proto::v2::{
    AppendRecord, AppendRecordsRequest, AppendRequest, ConsistencyCheck, SchemaFormat, SchemaInfo,
    consistency_check,
};
use kurrentdbclient::proto::v2_errors as errors;
use prost::Message;
use tonic::Code;

fn record(stream: &str, event_type: &str, data: &[u8], props: &[(&str, &str)]) -> AppendRecord {
    AppendRecord {
        record_id: Some(uuid::Uuid::new_v4().to_string()),
        properties: props
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::StringValue((*v).to_owned())),
                    },
                )
            })
            .collect::<HashMap<_, _>>(),
        schema: Some(SchemaInfo {
            format: SchemaFormat::Json as i32,
            name: event_type.to_owned(),
            id: None,
        }),
        data: Bytes::copy_from_slice(data),
        stream: stream.to_owned(),
    }
}

fn detail<M: Message + Default>(status: &tonic::Status, name: &str) -> M {
    let rich = RpcStatus::decode(status.details()).expect("rich status");
    assert_eq!(rich.code, status.code() as i32);
    let any = rich
        .details
        .iter()
        .find(|d| d.type_url == format!("type.googleapis.com/{name}"))
        .unwrap_or_else(|| panic!("no {name} in {rich:?}"));
    M::decode(&any.value[..]).unwrap()
}

fn req(stream: &str, expected: Option<i64>, records: Vec<AppendRecord>) -> AppendRequest {
    AppendRequest {
        stream: stream.to_owned(),
        records,
        expected_revision: expected,
    }
}

#[tokio::test]
async fn append_session_is_atomic_across_streams_and_reads_back_via_v1() {
    let (_server, channel) = server().await;
    let mut v2 = StreamsServiceClient::new(channel.clone());
    let mut v1 = Client::new(channel);
    let resp = v2
        .append_session(futures::stream::iter(vec![
            req(
                "v2-a",
                Some(-1),
                vec![
                    record("", "Created", b"{\"a\":1}", &[("user", "bob")]),
                    record("", "Updated", b"{}", &[]),
                ],
            ),
            req("v2-b", None, vec![record("", "Other", b"{}", &[])]),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.output.len(), 2);
    assert_eq!(resp.output[0].stream, "v2-a");
    assert_eq!(resp.output[0].stream_revision, 1);
    assert_eq!(resp.output[1].stream_revision, 0);
    assert_eq!(resp.position, resp.output[1].position.unwrap());
    let evs = events(&read_stream(&mut v1, "v2-a").await.unwrap());
    let e = evs[0].event.as_ref().unwrap();
    assert_eq!(event_type(e), "Created");
    assert_eq!(e.metadata["content-type"], "application/json");
    assert_eq!(&e.data[..], b"{\"a\":1}");
    assert_eq!(&e.custom_metadata[..], b"{\"user\":\"bob\"}");
    assert!(evs[1].event.as_ref().unwrap().custom_metadata.is_empty());

    // A conflict on one stream writes nothing at all.
    let err = v2
        .append_session(futures::stream::iter(vec![
            req("v2-c", Some(-1), vec![record("", "X", b"{}", &[])]),
            req("v2-a", Some(0), vec![record("", "X", b"{}", &[])]),
        ]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let d: errors::StreamRevisionConflictErrorDetails = detail(
        &err,
        "kurrentdb.protocol.v2.streams.errors.StreamRevisionConflictErrorDetails",
    );
    assert_eq!(
        (d.stream.as_str(), d.expected_revision, d.actual_revision),
        ("v2-a", 0, 1)
    );
    assert!(is_not_found(&read_stream(&mut v1, "v2-c").await.unwrap()));

    // The same stream twice.
    let err = v2
        .append_session(futures::stream::iter(vec![
            req("dup", None, vec![]),
            req("dup", None, vec![]),
        ]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let d: errors::StreamAlreadyInAppendSessionErrorDetails = detail(
        &err,
        "kurrentdb.protocol.v2.streams.errors.StreamAlreadyInAppendSessionErrorDetails",
    );
    assert_eq!(d.stream, "dup");

    // No requests at all.
    let err = v2
        .append_session(futures::stream::iter(Vec::<AppendRequest>::new()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn append_session_to_a_tombstoned_stream() {
    use kurrentdbclient::proto::shared::Empty;
    use kurrentdbclient::proto::streams::{TombstoneReq, tombstone_req};
    let (_server, channel) = server().await;
    let mut v2 = StreamsServiceClient::new(channel.clone());
    let mut v1 = Client::new(channel);
    v1.tombstone(TombstoneReq {
        options: Some(tombstone_req::Options {
            stream_identifier: sid("dead"),
            expected_stream_revision: Some(tombstone_req::options::ExpectedStreamRevision::Any(
                Empty {},
            )),
        }),
    })
    .await
    .unwrap();
    let err = v2
        .append_session(futures::stream::iter(vec![req(
            "dead",
            None,
            vec![record("", "X", b"{}", &[])],
        )]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let d: errors::StreamTombstonedErrorDetails = detail(
        &err,
        "kurrentdb.protocol.v2.streams.errors.StreamTombstonedErrorDetails",
    );
    assert_eq!(d.stream, "dead");
}

#[tokio::test]
async fn size_limits() {
    let server =
        kurrentdb_embedded::EmbeddedServer::start_with(kurrentdb_embedded::ServerOptions {
            max_append_size: 2000,
            max_record_size: 1500,
            ..Default::default()
        })
        .await
        .unwrap();
    let start_len = server.store().log_len();
    let channel = tonic::transport::Channel::from_shared(server.uri())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut v2 = StreamsServiceClient::new(channel);
    let big = record("", "T", &[b'x'; 1600], &[]);
    let id = big.record_id.clone().unwrap();
    let err = v2
        .append_session(futures::stream::iter(vec![req("s", None, vec![big])]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let d: errors::AppendRecordSizeExceededErrorDetails = detail(
        &err,
        "kurrentdb.protocol.v2.streams.errors.AppendRecordSizeExceededErrorDetails",
    );
    assert_eq!(
        (d.stream.as_str(), d.record_id.as_str(), d.max_size),
        ("s", id.as_str(), 1500)
    );
    let two = vec![
        record("", "T", &[b'x'; 1200], &[]),
        record("", "T", &[b'x'; 1200], &[]),
    ];
    let err = v2
        .append_session(futures::stream::iter(vec![req("s", None, two)]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let d: errors::AppendTransactionSizeExceededErrorDetails = detail(
        &err,
        "kurrentdb.protocol.v2.streams.errors.AppendTransactionSizeExceededErrorDetails",
    );
    assert_eq!(d.max_size, 2000);
    assert_eq!(server.store().log_len(), start_len, "nothing written");
}

#[tokio::test]
async fn append_records_reports_every_violated_check() {
    let (_server, channel) = server().await;
    let mut v2 = StreamsServiceClient::new(channel.clone());
    let mut v1 = Client::new(channel);
    append_ok(&mut v1, "ar-1", no_stream(), vec![event("A", b"{}")]).await;
    let check = |stream: &str, expected: i64| ConsistencyCheck {
        r#type: Some(consistency_check::Type::StreamState(
            consistency_check::StreamStateCheck {
                stream: stream.to_owned(),
                expected_state: expected,
            },
        )),
    };
    // Interleaved records for two streams; checks all hold.
    let resp = v2
        .append_records(AppendRecordsRequest {
            records: vec![
                record("ar-1", "X", b"{}", &[]),
                record("ar-2", "Y", b"{}", &[]),
                record("ar-1", "Z", b"{}", &[]),
            ],
            checks: vec![check("ar-1", 0), check("ar-2", -1), check("ar-3", -1)],
        })
        .await
        .unwrap()
        .into_inner();
    let revs: HashMap<_, _> = resp
        .revisions
        .iter()
        .map(|r| (r.stream.clone(), r.revision))
        .collect();
    assert_eq!(revs["ar-1"], 2);
    assert_eq!(revs["ar-2"], 0);
    assert!(resp.position > 0);
    let types: Vec<String> = events(&read_stream(&mut v1, "ar-1").await.unwrap())
        .iter()
        .map(|e| event_type(e.event.as_ref().unwrap()).to_owned())
        .collect();
    assert_eq!(types, vec!["A", "X", "Z"]);
    // A check may not expect "any" (-2), nor a state KurrentDB 26.1 does not
    // name; it may expect deleted (-5) and tombstoned (-6).
    for refused in [-2, -3, -7, i64::MIN] {
        let err = v2
            .append_records(AppendRecordsRequest {
                records: vec![record("ar-4", "X", b"{}", &[])],
                checks: vec![check("ar-1", refused)],
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{refused}");
        assert!(err.message().contains("Any (-2) is not allowed"), "{err:?}");
    }
    let err = v2
        .append_records(AppendRecordsRequest {
            records: vec![record("ar-4", "X", b"{}", &[])],
            checks: vec![check("ar-1", -5), check("ar-1", -6)],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // Two violated checks (and one that holds): both reported, nothing written.
    let err = v2
        .append_records(AppendRecordsRequest {
            records: vec![record("ar-4", "X", b"{}", &[])],
            checks: vec![check("ar-1", 0), check("ar-2", 0), check("ar-9", -4)],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let d: errors::AppendConsistencyViolationErrorDetails = detail(
        &err,
        "kurrentdb.protocol.v2.streams.errors.AppendConsistencyViolationErrorDetails",
    );
    let got: Vec<(i32, String, i64, i64)> = d
        .violations
        .into_iter()
        .map(|v| {
            let Some(errors::consistency_violation::Type::StreamState(s)) = v.r#type else {
                panic!()
            };
            (v.check_index, s.stream, s.expected_state, s.actual_state)
        })
        .collect();
    assert_eq!(
        got,
        vec![(0, "ar-1".into(), 0, 2), (2, "ar-9".into(), -4, -1)]
    );
    assert!(is_not_found(&read_stream(&mut v1, "ar-4").await.unwrap()));
}
