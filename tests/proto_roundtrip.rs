//! Smoke tests for the generated protocol types.
//!
//! Every service's request type is encoded and decoded back, and a handful of
//! hand-checked byte strings pin field numbers and wire types that a typo in the
//! `.proto` files would silently change.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use prost::{Message, Name};
use prost_types::{Any, Duration, Value, value::Kind};

use kurrentdbclient::proto::{
    gossip, monitoring, operations, persistent, projections, rpc, server_features, shared, status,
    streams, users, v2, v2_errors,
};

/// Encodes `msg`, decodes it back and checks that nothing was lost.
fn roundtrip<M: Message + Default + PartialEq + Debug>(msg: &M) -> Vec<u8> {
    let buf = msg.encode_to_vec();
    assert_eq!(buf.len(), msg.encoded_len());
    let back = M::decode(buf.as_slice()).expect("decode");
    assert_eq!(&back, msg);
    buf
}

fn stream_id(name: &str) -> shared::StreamIdentifier {
    shared::StreamIdentifier {
        stream_name: Bytes::copy_from_slice(name.as_bytes()),
    }
}

fn string_uuid(s: &str) -> shared::Uuid {
    shared::Uuid {
        value: Some(shared::uuid::Value::String(s.to_owned())),
    }
}

fn event_metadata() -> HashMap<String, String> {
    HashMap::from([
        ("type".to_owned(), "order-placed".to_owned()),
        ("content-type".to_owned(), "application/json".to_owned()),
    ])
}

// ---------------------------------------------------------------- v1 streams

#[test]
fn streams_read_req_roundtrip() {
    use streams::read_req::{Options, options};

    let stream_read = streams::ReadReq {
        options: Some(Options {
            stream_option: Some(options::StreamOption::Stream(options::StreamOptions {
                stream_identifier: Some(stream_id("orders-1")),
                revision_option: Some(options::stream_options::RevisionOption::Revision(7)),
            })),
            read_direction: options::ReadDirection::Backwards as i32,
            resolve_links: true,
            count_option: Some(options::CountOption::Count(100)),
            filter_option: Some(options::FilterOption::NoFilter(shared::Empty {})),
            uuid_option: Some(options::UuidOption {
                content: Some(options::uuid_option::Content::String(shared::Empty {})),
            }),
            control_option: Some(options::ControlOption { compatibility: 1 }),
        }),
    };
    roundtrip(&stream_read);

    let all_subscription = streams::ReadReq {
        options: Some(Options {
            stream_option: Some(options::StreamOption::All(options::AllOptions {
                all_option: Some(options::all_options::AllOption::Position(
                    options::Position {
                        commit_position: 1024,
                        prepare_position: 1024,
                    },
                )),
            })),
            read_direction: options::ReadDirection::Forwards as i32,
            resolve_links: false,
            count_option: Some(options::CountOption::Subscription(
                options::SubscriptionOptions {},
            )),
            filter_option: Some(options::FilterOption::Filter(options::FilterOptions {
                filter: Some(options::filter_options::Filter::EventType(
                    options::filter_options::Expression {
                        regex: String::new(),
                        prefix: vec!["order-".to_owned()],
                    },
                )),
                window: Some(options::filter_options::Window::Max(32)),
                checkpoint_interval_multiplier: 1,
            })),
            uuid_option: None,
            control_option: None,
        }),
    };
    roundtrip(&all_subscription);
}

#[test]
fn streams_read_resp_roundtrip() {
    use streams::read_resp::{self, Content};

    let event = streams::ReadResp {
        content: Some(Content::Event(read_resp::ReadEvent {
            event: Some(read_resp::read_event::RecordedEvent {
                id: Some(string_uuid("5f0c5a4e-8b44-4a8e-9a4e-0d1c1f0e2b3a")),
                stream_identifier: Some(stream_id("orders-1")),
                stream_revision: 3,
                prepare_position: 99,
                commit_position: 99,
                metadata: event_metadata(),
                custom_metadata: Bytes::from_static(b"{}"),
                data: Bytes::from_static(br#"{"total":12}"#),
            }),
            link: None,
            position: Some(read_resp::read_event::Position::CommitPosition(99)),
        })),
    };
    roundtrip(&event);

    let caught_up = streams::ReadResp {
        content: Some(Content::CaughtUp(read_resp::CaughtUp {
            timestamp: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 5,
            }),
            stream_revision: Some(-1),
            position: None,
        })),
    };
    roundtrip(&caught_up);
}

#[test]
fn streams_append_req_roundtrip() {
    use streams::append_req::{Content, Options, ProposedMessage, options};

    let header = streams::AppendReq {
        content: Some(Content::Options(Options {
            stream_identifier: Some(stream_id("orders-1")),
            expected_stream_revision: Some(options::ExpectedStreamRevision::NoStream(
                shared::Empty {},
            )),
        })),
    };
    roundtrip(&header);

    let event = streams::AppendReq {
        content: Some(Content::ProposedMessage(ProposedMessage {
            id: Some(shared::Uuid {
                value: Some(shared::uuid::Value::Structured(shared::uuid::Structured {
                    most_significant_bits: i64::MIN,
                    least_significant_bits: -1,
                })),
            }),
            metadata: event_metadata(),
            custom_metadata: Bytes::new(),
            data: Bytes::from_static(br#"{"total":12}"#),
        })),
    };
    roundtrip(&event);
}

#[test]
fn streams_batch_append_roundtrip() {
    use streams::batch_append_req::{self, options};

    let req = streams::BatchAppendReq {
        correlation_id: Some(string_uuid("0b0b0b0b-0000-4000-8000-000000000001")),
        options: Some(batch_append_req::Options {
            stream_identifier: Some(stream_id("orders-1")),
            expected_stream_position: Some(options::ExpectedStreamPosition::StreamPosition(4)),
            deadline_option: Some(options::DeadlineOption::Deadline(Duration {
                seconds: 10,
                nanos: 0,
            })),
        }),
        proposed_messages: vec![batch_append_req::ProposedMessage {
            id: Some(string_uuid("0b0b0b0b-0000-4000-8000-000000000002")),
            metadata: event_metadata(),
            custom_metadata: Bytes::new(),
            data: Bytes::from_static(b"payload"),
        }],
        is_final: true,
    };
    roundtrip(&req);

    let resp = streams::BatchAppendResp {
        correlation_id: Some(string_uuid("0b0b0b0b-0000-4000-8000-000000000001")),
        result: Some(streams::batch_append_resp::Result::Error(status::Status {
            code: status::Code::FailedPrecondition as i32,
            message: "wrong expected version".to_owned(),
            details: vec![Any::from_msg(&shared::WrongExpectedVersion {
                current_stream_revision_option: Some(
                    shared::wrong_expected_version::CurrentStreamRevisionOption::CurrentNoStream(
                        (),
                    ),
                ),
                expected_stream_position_option: Some(
                    shared::wrong_expected_version::ExpectedStreamPositionOption::ExpectedStreamPosition(4),
                ),
            })
            .unwrap()],
        })),
        stream_identifier: Some(stream_id("orders-1")),
        expected_stream_position: Some(
            streams::batch_append_resp::ExpectedStreamPosition::StreamPosition(4),
        ),
    };
    roundtrip(&resp);
}

#[test]
fn streams_delete_and_tombstone_roundtrip() {
    roundtrip(&streams::DeleteReq {
        options: Some(streams::delete_req::Options {
            stream_identifier: Some(stream_id("orders-1")),
            expected_stream_revision: Some(
                streams::delete_req::options::ExpectedStreamRevision::Revision(3),
            ),
        }),
    });
    roundtrip(&streams::TombstoneReq {
        options: Some(streams::tombstone_req::Options {
            stream_identifier: Some(stream_id("orders-1")),
            expected_stream_revision: Some(
                streams::tombstone_req::options::ExpectedStreamRevision::Any(shared::Empty {}),
            ),
        }),
    });
    roundtrip(&streams::DeleteResp {
        position_option: Some(streams::delete_resp::PositionOption::Position(
            streams::delete_resp::Position {
                commit_position: 10,
                prepare_position: 10,
            },
        )),
    });
}

#[test]
fn streams_append_resp_wrong_expected_version_roundtrip() {
    use streams::append_resp::{Result, WrongExpectedVersion, wrong_expected_version as wev};

    roundtrip(&streams::AppendResp {
        result: Some(Result::WrongExpectedVersion(WrongExpectedVersion {
            current_revision_option_20_6_0: Some(
                wev::CurrentRevisionOption2060::CurrentRevision2060(5),
            ),
            expected_revision_option_20_6_0: Some(
                wev::ExpectedRevisionOption2060::ExpectedRevision2060(4),
            ),
            current_revision_option: Some(wev::CurrentRevisionOption::CurrentRevision(5)),
            expected_revision_option: Some(wev::ExpectedRevisionOption::ExpectedRevision(4)),
        })),
    });
}

// ------------------------------------------------------ v1 other services

#[test]
fn persistent_roundtrip() {
    use persistent::create_req::{self, settings};

    let create = persistent::CreateReq {
        options: Some(create_req::Options {
            stream_option: Some(create_req::options::StreamOption::All(
                create_req::AllOptions {
                    all_option: Some(create_req::all_options::AllOption::Start(shared::Empty {})),
                    filter_option: Some(create_req::all_options::FilterOption::NoFilter(
                        shared::Empty {},
                    )),
                },
            )),
            group_name: "billing".to_owned(),
            settings: Some(create_req::Settings {
                resolve_links: true,
                max_retry_count: 10,
                message_timeout: Some(settings::MessageTimeout::MessageTimeoutMs(30_000)),
                checkpoint_after: Some(settings::CheckpointAfter::CheckpointAfterMs(2_000)),
                consumer_strategy: "RoundRobin".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    roundtrip(&create);

    let read_options = persistent::ReadReq {
        content: Some(persistent::read_req::Content::Options(
            persistent::read_req::Options {
                stream_option: Some(
                    persistent::read_req::options::StreamOption::StreamIdentifier(stream_id(
                        "orders-1",
                    )),
                ),
                group_name: "billing".to_owned(),
                buffer_size: 10,
                uuid_option: None,
            },
        )),
    };
    roundtrip(&read_options);

    let nack = persistent::ReadReq {
        content: Some(persistent::read_req::Content::Nack(
            persistent::read_req::Nack {
                id: Bytes::from_static(b"subscription-1"),
                ids: vec![string_uuid("0b0b0b0b-0000-4000-8000-000000000003")],
                action: persistent::read_req::nack::Action::Park as i32,
                reason: "poison".to_owned(),
            },
        )),
    };
    roundtrip(&nack);
}

#[test]
fn projections_roundtrip() {
    use projections::create_req::{Options, options};

    roundtrip(&projections::CreateReq {
        options: Some(Options {
            mode: Some(options::Mode::Continuous(options::Continuous {
                name: "by-category".to_owned(),
                emit_enabled: true,
                track_emitted_streams: false,
            })),
            query: "fromAll().when({})".to_owned(),
            engine_version: 1,
            metadata: Bytes::new(),
        }),
    });

    roundtrip(&projections::StateResp {
        state: Some(Value {
            kind: Some(Kind::StringValue("ok".to_owned())),
        }),
    });
}

#[test]
fn gossip_roundtrip() {
    use gossip::member_info::VNodeState;

    let info = gossip::ClusterInfo {
        members: vec![gossip::MemberInfo {
            instance_id: Some(string_uuid("0b0b0b0b-0000-4000-8000-000000000004")),
            time_stamp: 638_000_000_000_000_000,
            state: VNodeState::Leader as i32,
            is_alive: true,
            http_end_point: Some(gossip::EndPoint {
                address: "127.0.0.1".to_owned(),
                port: 2113,
            }),
        }],
    };
    roundtrip(&info);
    assert_eq!(info.members[0].state(), VNodeState::Leader);
}

#[test]
fn server_features_roundtrip() {
    roundtrip(&server_features::SupportedMethods {
        methods: vec![server_features::SupportedMethod {
            method_name: "batchappend".to_owned(),
            service_name: "event_store.client.streams.streams".to_owned(),
            features: vec![],
        }],
        event_store_server_version: "25.1.0".to_owned(),
    });
}

#[test]
fn operations_roundtrip() {
    roundtrip(&operations::StartScavengeReq {
        options: Some(operations::start_scavenge_req::Options {
            thread_count: 2,
            start_from_chunk: 0,
        }),
    });
    roundtrip(&operations::ScavengeResp {
        scavenge_id: "scavenge-1".to_owned(),
        scavenge_result: operations::scavenge_resp::ScavengeResult::InProgress as i32,
    });
}

#[test]
fn users_roundtrip() {
    roundtrip(&users::CreateReq {
        options: Some(users::create_req::Options {
            login_name: "ouro".to_owned(),
            password: "secret".to_owned(),
            full_name: "Ouro Boros".to_owned(),
            groups: vec!["$admins".to_owned()],
        }),
    });
}

#[test]
fn monitoring_roundtrip() {
    roundtrip(&monitoring::StatsReq {
        use_metadata: true,
        refresh_time_period_in_ms: 1_000,
    });
    roundtrip(&monitoring::StatsResp {
        stats: HashMap::from([("proc-cpu".to_owned(), "1.5".to_owned())]),
    });
}

// ------------------------------------------------------------------- v2

fn v2_record(stream: &str) -> v2::AppendRecord {
    v2::AppendRecord {
        record_id: Some("0b0b0b0b-0000-4000-8000-000000000005".to_owned()),
        properties: HashMap::from([(
            "tenant".to_owned(),
            Value {
                kind: Some(Kind::StringValue("acme".to_owned())),
            },
        )]),
        schema: Some(v2::SchemaInfo {
            format: v2::SchemaFormat::Json as i32,
            name: "order-placed".to_owned(),
            id: None,
        }),
        data: Bytes::from_static(br#"{"total":12}"#),
        stream: stream.to_owned(),
    }
}

#[test]
fn v2_append_request_roundtrip() {
    roundtrip(&v2::AppendRequest {
        stream: "orders-1".to_owned(),
        records: vec![v2_record("")],
        expected_revision: Some(v2::ExpectedRevisionConstants::NoStream as i64),
    });
    roundtrip(&v2::AppendSessionResponse {
        output: vec![v2::AppendResponse {
            stream: "orders-1".to_owned(),
            stream_revision: 0,
            position: Some(4096),
        }],
        position: 4096,
    });
}

#[test]
fn v2_append_records_request_roundtrip() {
    use v2::consistency_check::{StreamStateCheck, Type};

    roundtrip(&v2::AppendRecordsRequest {
        records: vec![v2_record("orders-1"), v2_record("orders-2")],
        checks: vec![v2::ConsistencyCheck {
            r#type: Some(Type::StreamState(StreamStateCheck {
                stream: "inventory".to_owned(),
                expected_state: v2::ExpectedRevisionConstants::Exists as i64,
            })),
        }],
    });
    roundtrip(&v2::AppendRecordsResponse {
        revisions: vec![v2::StreamRevision {
            stream: "orders-1".to_owned(),
            revision: 0,
        }],
        position: 8192,
    });
}

#[test]
fn v2_error_details_roundtrip() {
    roundtrip(&v2_errors::StreamRevisionConflictErrorDetails {
        stream: "orders-1".to_owned(),
        expected_revision: -1,
        actual_revision: 7,
    });
    roundtrip(&v2_errors::AppendRecordSizeExceededErrorDetails {
        stream: "orders-1".to_owned(),
        record_id: "0b0b0b0b-0000-4000-8000-000000000006".to_owned(),
        size: 20_000_000,
        max_size: 16_777_216,
    });
    roundtrip(&v2_errors::AppendConsistencyViolationErrorDetails {
        violations: vec![v2_errors::ConsistencyViolation {
            check_index: 0,
            r#type: Some(v2_errors::consistency_violation::Type::StreamState(
                v2_errors::consistency_violation::StreamStateViolation {
                    stream: "inventory".to_owned(),
                    expected_state: -4,
                    actual_state: -1,
                },
            )),
        }],
    });
    roundtrip(&rpc::NotLeaderNodeErrorDetails {
        current_leader: Some(rpc::not_leader_node_error_details::NodeInfo {
            host: "node2".to_owned(),
            port: 2113,
            node_id: Some("0b0b0b0b-0000-4000-8000-000000000007".to_owned()),
        }),
    });
    roundtrip(&rpc::AccessDeniedErrorDetails {
        operation: "streams:append".to_owned(),
        username: Some("guest".to_owned()),
        permission: None,
    });
}

#[test]
fn google_rpc_status_carries_typed_details() {
    let detail = v2_errors::StreamNotFoundErrorDetails {
        stream: "orders-1".to_owned(),
    };
    let status = status::Status {
        code: status::Code::NotFound as i32,
        message: "stream not found".to_owned(),
        details: vec![Any::from_msg(&detail).unwrap()],
    };
    let buf = roundtrip(&status);

    let back = status::Status::decode(buf.as_slice()).unwrap();
    assert_eq!(back.code(), status::Code::NotFound);
    let any = &back.details[0];
    assert_eq!(
        any.type_url,
        "type.googleapis.com/kurrentdb.protocol.v2.streams.errors.StreamNotFoundErrorDetails"
    );
    assert_eq!(
        any.to_msg::<v2_errors::StreamNotFoundErrorDetails>()
            .unwrap(),
        detail
    );
}

// ------------------------------------------------------- wire facts

#[test]
fn wire_v2_revision_conflict_uses_zigzag() {
    let msg = v2_errors::StreamRevisionConflictErrorDetails {
        stream: "s".to_owned(),
        expected_revision: 1,
        actual_revision: 2,
    };
    // field 1 (len) "s"; field 2 sint64 1 -> zigzag 2; field 3 sint64 2 -> zigzag 4
    assert_eq!(
        msg.encode_to_vec(),
        [0x0a, 0x01, b's', 0x10, 0x02, 0x18, 0x04]
    );

    let no_stream = v2_errors::StreamRevisionConflictErrorDetails {
        stream: String::new(),
        expected_revision: -1,
        actual_revision: 0,
    };
    // -1 zigzags to 1 (a plain int64 would take ten bytes)
    assert_eq!(no_stream.encode_to_vec(), [0x10, 0x01]);
}

#[test]
fn wire_v2_append_request_fields() {
    let req = v2::AppendRequest {
        stream: "ab".to_owned(),
        records: vec![],
        expected_revision: Some(v2::ExpectedRevisionConstants::Any as i64),
    };
    // field 1 "ab"; field 3 sint64 -2 -> zigzag 3
    assert_eq!(req.encode_to_vec(), [0x0a, 0x02, b'a', b'b', 0x18, 0x03]);

    // A proto3 `optional` field is sent even when it holds the default value.
    let zero = v2::AppendRequest {
        expected_revision: Some(0),
        ..Default::default()
    };
    assert_eq!(zero.encode_to_vec(), [0x18, 0x00]);

    let record = v2::AppendRecord {
        data: Bytes::from_static(b"x"),
        stream: "t".to_owned(),
        ..Default::default()
    };
    // data is field 4, stream is field 5
    assert_eq!(record.encode_to_vec(), [0x22, 0x01, b'x', 0x2a, 0x01, b't']);

    assert_eq!(v2::ExpectedRevisionConstants::SingleEvent as i32, 0);
    assert_eq!(v2::ExpectedRevisionConstants::NoStream as i32, -1);
    assert_eq!(v2::ExpectedRevisionConstants::Any as i32, -2);
    assert_eq!(v2::ExpectedRevisionConstants::Exists as i32, -4);
    assert_eq!(
        v2_errors::StreamsError::AppendConsistencyViolation as i32,
        14
    );
    assert_eq!(rpc::ServerError::NotLeaderNode as i32, 5);
}

#[test]
fn wire_v1_stream_identifier_is_field_3() {
    let id = stream_id("ab");
    assert_eq!(id.encode_to_vec(), [0x1a, 0x02, b'a', b'b']);

    // AppendReq.options (1) -> Options.stream_identifier (1) -> stream_name (3),
    // then Options.no_stream (3) as an empty message.
    let req = streams::AppendReq {
        content: Some(streams::append_req::Content::Options(
            streams::append_req::Options {
                stream_identifier: Some(id),
                expected_stream_revision: Some(
                    streams::append_req::options::ExpectedStreamRevision::NoStream(
                        shared::Empty {},
                    ),
                ),
            },
        )),
    };
    assert_eq!(
        req.encode_to_vec(),
        [0x0a, 0x08, 0x0a, 0x04, 0x1a, 0x02, b'a', b'b', 0x1a, 0x00]
    );
}

#[test]
fn wire_v1_hand_encoded_fields_decode() {
    use prost::encoding::{self, WireType};

    // RecordedEvent: stream_revision = 3 (uint64), data = 8 (bytes), metadata = 6 (map).
    let mut buf = Vec::new();
    encoding::uint64::encode(3, &42, &mut buf);
    encoding::hash_map::encode(
        encoding::string::encode,
        encoding::string::encoded_len,
        encoding::string::encode,
        encoding::string::encoded_len,
        6,
        &HashMap::from([("type".to_owned(), "t".to_owned())]),
        &mut buf,
    );
    encoding::bytes::encode(8, &Bytes::from_static(b"body"), &mut buf);
    let ev = streams::read_resp::read_event::RecordedEvent::decode(buf.as_slice()).unwrap();
    assert_eq!(ev.stream_revision, 42);
    assert_eq!(ev.metadata["type"], "t");
    assert_eq!(ev.data, Bytes::from_static(b"body"));

    // persistent CreateReq.Settings.consumer_strategy is field 16 (two-byte tag).
    let mut buf = Vec::new();
    encoding::encode_key(16, WireType::LengthDelimited, &mut buf);
    assert_eq!(buf, [0x82, 0x01]);
    encoding::encode_varint(6, &mut buf);
    buf.extend_from_slice(b"Pinned");
    let settings = persistent::create_req::Settings::decode(buf.as_slice()).unwrap();
    assert_eq!(settings.consumer_strategy, "Pinned");

    // monitoring StatsReq.refresh_time_period_in_ms is field 4.
    let stats = monitoring::StatsReq {
        use_metadata: false,
        refresh_time_period_in_ms: 5,
    };
    assert_eq!(stats.encode_to_vec(), [0x20, 0x05]);

    // projections Continuous: emit_enabled = 2, track_emitted_streams = 3.
    let continuous = projections::create_req::options::Continuous {
        name: String::new(),
        emit_enabled: true,
        track_emitted_streams: true,
    };
    assert_eq!(continuous.encode_to_vec(), [0x10, 0x01, 0x18, 0x01]);

    // gossip MemberInfo.state = 3, Leader = 8.
    let member = gossip::MemberInfo {
        state: gossip::member_info::VNodeState::Leader as i32,
        ..Default::default()
    };
    assert_eq!(member.encode_to_vec(), [0x18, 0x08]);

    // google.rpc.Status: code 1 (varint), message 2, details 3.
    let st = status::Status {
        code: status::Code::Unavailable as i32,
        message: "m".to_owned(),
        details: vec![Any {
            type_url: "u".to_owned(),
            value: vec![],
        }],
    };
    assert_eq!(
        st.encode_to_vec(),
        [0x08, 0x0e, 0x12, 0x01, b'm', 0x1a, 0x03, 0x0a, 0x01, b'u']
    );
}

#[test]
fn bytes_fields_are_zero_copy() {
    let payload = vec![7u8; 4096];
    let msg = v2::AppendRecord {
        data: Bytes::from(payload),
        ..Default::default()
    };
    let wire = Bytes::from(msg.encode_to_vec());
    let back = v2::AppendRecord::decode(wire.clone()).unwrap();
    // The decoded payload points into the receive buffer rather than a copy.
    let range = wire.as_ptr_range();
    assert!(range.contains(&back.data.as_ptr()));
    assert_eq!(back.data.len(), 4096);

    let ev = streams::read_resp::read_event::RecordedEvent {
        data: Bytes::from(vec![1u8; 1024]),
        ..Default::default()
    };
    let wire = Bytes::from(ev.encode_to_vec());
    let back = streams::read_resp::read_event::RecordedEvent::decode(wire.clone()).unwrap();
    assert!(wire.as_ptr_range().contains(&back.data.as_ptr()));
}

#[test]
fn message_type_names() {
    assert_eq!(
        v2_errors::StreamRevisionConflictErrorDetails::full_name(),
        "kurrentdb.protocol.v2.streams.errors.StreamRevisionConflictErrorDetails"
    );
    assert_eq!(
        rpc::NotLeaderNodeErrorDetails::type_url(),
        "type.googleapis.com/kurrent.rpc.NotLeaderNodeErrorDetails"
    );
    assert_eq!(
        rpc::AccessDeniedErrorDetails::full_name(),
        "kurrent.rpc.AccessDeniedErrorDetails"
    );
    assert_eq!(status::Status::full_name(), "google.rpc.Status");
    assert_eq!(
        streams::ReadReq::full_name(),
        "event_store.client.streams.ReadReq"
    );
    assert_eq!(shared::Uuid::full_name(), "event_store.client.UUID");
}

// ------------------------------------------------------------ gRPC paths

/// A transport that records each request's path and answers UNIMPLEMENTED.
#[derive(Clone, Default)]
struct PathRecorder(Arc<Mutex<Vec<String>>>);

impl tonic::codegen::Service<tonic::codegen::http::Request<tonic::body::Body>> for PathRecorder {
    type Response = tonic::codegen::http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: tonic::codegen::http::Request<tonic::body::Body>) -> Self::Future {
        self.0.lock().unwrap().push(req.uri().path().to_owned());
        let resp = tonic::codegen::http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", "12")
            .body(tonic::body::Body::default())
            .unwrap();
        std::future::ready(Ok(resp))
    }
}

#[tokio::test]
async fn client_request_paths() {
    let recorder = PathRecorder::default();

    let mut streams_client = streams::streams_client::StreamsClient::new(recorder.clone());
    let err = streams_client
        .delete(streams::DeleteReq::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    let _ = streams_client.read(streams::ReadReq::default()).await;
    let _ = streams_client
        .batch_append(tokio_stream::iter(Vec::<streams::BatchAppendReq>::new()))
        .await;

    let mut v2_client = v2::streams_service_client::StreamsServiceClient::new(recorder.clone());
    let _ = v2_client
        .append_records(v2::AppendRecordsRequest::default())
        .await;
    let _ = v2_client
        .append_session(tokio_stream::iter(Vec::<v2::AppendRequest>::new()))
        .await;

    let mut persistent_client =
        persistent::persistent_subscriptions_client::PersistentSubscriptionsClient::new(
            recorder.clone(),
        );
    let _ = persistent_client
        .create(persistent::CreateReq::default())
        .await;

    let mut gossip_client = gossip::gossip_client::GossipClient::new(recorder.clone());
    let _ = gossip_client.read(shared::Empty {}).await;

    let mut features_client =
        server_features::server_features_client::ServerFeaturesClient::new(recorder.clone());
    let _ = features_client
        .get_supported_methods(shared::Empty {})
        .await;

    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "/event_store.client.streams.Streams/Delete",
            "/event_store.client.streams.Streams/Read",
            "/event_store.client.streams.Streams/BatchAppend",
            "/kurrentdb.protocol.v2.streams.StreamsService/AppendRecords",
            "/kurrentdb.protocol.v2.streams.StreamsService/AppendSession",
            "/event_store.client.persistent_subscriptions.PersistentSubscriptions/Create",
            "/event_store.client.gossip.Gossip/Read",
            "/event_store.client.server_features.ServerFeatures/GetSupportedMethods",
        ]
    );
}

#[cfg(feature = "server")]
#[test]
fn server_service_names() {
    assert_eq!(
        streams::streams_server::SERVICE_NAME,
        "event_store.client.streams.Streams"
    );
    assert_eq!(
        v2::streams_service_server::SERVICE_NAME,
        "kurrentdb.protocol.v2.streams.StreamsService"
    );
    assert_eq!(
        persistent::persistent_subscriptions_server::SERVICE_NAME,
        "event_store.client.persistent_subscriptions.PersistentSubscriptions"
    );
    assert_eq!(
        projections::projections_server::SERVICE_NAME,
        "event_store.client.projections.Projections"
    );
    assert_eq!(
        gossip::gossip_server::SERVICE_NAME,
        "event_store.client.gossip.Gossip"
    );
    assert_eq!(
        server_features::server_features_server::SERVICE_NAME,
        "event_store.client.server_features.ServerFeatures"
    );
    assert_eq!(
        operations::operations_server::SERVICE_NAME,
        "event_store.client.operations.Operations"
    );
    assert_eq!(
        users::users_server::SERVICE_NAME,
        "event_store.client.users.Users"
    );
    assert_eq!(
        monitoring::monitoring_server::SERVICE_NAME,
        "event_store.client.monitoring.Monitoring"
    );
}
