//! Hostile persistent-subscription requests: pathological filters, long
//! names, extreme settings and checkpoints, runaway consumers.

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::proto::persistent::persistent_subscriptions_client::PersistentSubscriptionsClient;
use kurrentdbclient::proto::persistent::{
    CreateReq, GetInfoReq, ListReq, ReadReq, ReplayParkedReq, UpdateReq, create_req, get_info_req,
    list_req, read_req, read_resp, replay_parked_req, update_req,
};
use kurrentdbclient::proto::shared::{Empty, StreamIdentifier};
use tonic::Code;

use crate::common::{self, any, event};
use crate::{Case, Ctx, case};

fn client(ctx: &Ctx) -> PersistentSubscriptionsClient<tonic::transport::Channel> {
    PersistentSubscriptionsClient::new(ctx.channel.clone())
}

pub fn settings() -> create_req::Settings {
    create_req::Settings {
        resolve_links: false,
        revision: 0,
        extra_statistics: false,
        max_retry_count: 10,
        min_checkpoint_count: 1,
        max_checkpoint_count: 1,
        max_subscriber_count: 0,
        live_buffer_size: 100,
        read_batch_size: 20,
        history_buffer_size: 100,
        named_consumer_strategy: 0,
        consumer_strategy: "RoundRobin".to_owned(),
        message_timeout: Some(create_req::settings::MessageTimeout::MessageTimeoutMs(
            30_000,
        )),
        checkpoint_after: Some(create_req::settings::CheckpointAfter::CheckpointAfterMs(0)),
    }
}

fn stream_source(stream: &str, revision: u64) -> create_req::options::StreamOption {
    create_req::options::StreamOption::Stream(create_req::StreamOptions {
        stream_identifier: common::sid(stream),
        revision_option: Some(create_req::stream_options::RevisionOption::Revision(
            revision,
        )),
    })
}

fn all_source(
    filter: Option<create_req::all_options::filter_options::Expression>,
) -> create_req::options::StreamOption {
    use create_req::all_options::{FilterOption, FilterOptions, filter_options};
    create_req::options::StreamOption::All(create_req::AllOptions {
        all_option: Some(create_req::all_options::AllOption::Start(Empty {})),
        filter_option: Some(match filter {
            Some(e) => FilterOption::Filter(FilterOptions {
                checkpoint_interval_multiplier: u32::MAX,
                filter: Some(filter_options::Filter::StreamIdentifier(e)),
                window: Some(filter_options::Window::Max(u32::MAX)),
            }),
            None => FilterOption::NoFilter(Empty {}),
        }),
    })
}

async fn create(
    ctx: &Ctx,
    source: create_req::options::StreamOption,
    group: &str,
    settings: create_req::Settings,
) -> Result<(), tonic::Status> {
    client(ctx)
        .create(CreateReq {
            options: Some(create_req::Options {
                stream_identifier: None,
                group_name: group.to_owned(),
                settings: Some(settings),
                stream_option: Some(source),
            }),
        })
        .await
        .map(|_| ())
}

/// Update settings matching [`settings`].
fn update_settings() -> update_req::Settings {
    update_req::Settings {
        resolve_links: false,
        revision: 0,
        extra_statistics: false,
        max_retry_count: 10,
        min_checkpoint_count: 1,
        max_checkpoint_count: 1,
        max_subscriber_count: 0,
        live_buffer_size: 100,
        read_batch_size: 20,
        history_buffer_size: 100,
        named_consumer_strategy: 1,
        message_timeout: Some(update_req::settings::MessageTimeout::MessageTimeoutMs(
            30_000,
        )),
        checkpoint_after: Some(update_req::settings::CheckpointAfter::CheckpointAfterMs(0)),
    }
}

async fn update(
    ctx: &Ctx,
    stream: &str,
    group: &str,
    settings: update_req::Settings,
) -> Result<(), tonic::Status> {
    client(ctx)
        .update(UpdateReq {
            options: Some(update_req::Options {
                stream_identifier: None,
                group_name: group.to_owned(),
                settings: Some(settings),
                stream_option: Some(update_req::options::StreamOption::Stream(
                    update_req::StreamOptions {
                        stream_identifier: common::sid(stream),
                        revision_option: Some(update_req::stream_options::RevisionOption::Start(
                            Empty {},
                        )),
                    },
                )),
            }),
        })
        .await
        .map(|_| ())
}

fn read_options(stream: Option<&str>, group: &str, buffer_size: i32) -> ReadReq {
    ReadReq {
        content: Some(read_req::Content::Options(read_req::Options {
            group_name: group.to_owned(),
            buffer_size,
            uuid_option: Some(read_req::options::UuidOption {
                content: Some(read_req::options::uuid_option::Content::String(Empty {})),
            }),
            stream_option: Some(match stream {
                Some(s) => read_req::options::StreamOption::StreamIdentifier(StreamIdentifier {
                    stream_name: Bytes::copy_from_slice(s.as_bytes()),
                }),
                None => read_req::options::StreamOption::All(Empty {}),
            }),
        })),
    }
}

/// Opens a consumer that sends `then` after its options and never acks;
/// returns how many events it got in `listen` (the call is dropped after).
async fn consume(
    ctx: &Ctx,
    first: ReadReq,
    then: Vec<ReadReq>,
    listen: Duration,
) -> Result<usize, tonic::Status> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tx.send(first).await.unwrap();
    for r in then {
        tx.send(r).await.unwrap();
    }
    let mut s = client(ctx)
        .read(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    let mut events = 0;
    let deadline = tokio::time::Instant::now() + listen;
    while let Ok(m) = tokio::time::timeout_at(deadline, s.message()).await {
        match m? {
            Some(kurrentdbclient::proto::persistent::ReadResp {
                content: Some(read_resp::Content::Event(_)),
            }) => events += 1,
            Some(_) => {}
            None => break,
        }
    }
    drop(tx);
    Ok(events)
}

pub fn cases() -> Vec<Case> {
    vec![
        case!("a group with a pathological filter regex", |c| async move {
            let e = create_req::all_options::filter_options::Expression {
                regex: r"[a-zé]{0,8000}\b\d".to_owned(),
                prefix: vec![],
            };
            let err = create(&c, all_source(Some(e)), "g-regex", settings())
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
        }),
        case!("a group with 300,000 filter prefixes", |c| async move {
            let e = create_req::all_options::filter_options::Expression {
                regex: String::new(),
                prefix: (0..300_000).map(|i| format!("p{i}")).collect(),
            };
            let err = create(&c, all_source(Some(e)), "g-prefixes", settings())
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
        }),
        case!(
            "a group name of 10 KB, and a stream name of 20 KB",
            |c| async move {
                let err = create(&c, stream_source("s", 0), &"g".repeat(10_000), settings())
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
                let err = create(
                    &c,
                    stream_source(&crate::streams::deep_name(10_000), 0),
                    "g",
                    settings(),
                )
                .await
                .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
            }
        ),
        case!(
            "a sparse filtered $all group with a huge window reaches its match",
            |c| async move {
                let mut s = c.streams();
                for _ in 0..6 {
                    common::append_ok(
                        &mut s,
                        "ps-noise",
                        any(),
                        (0..1000).map(|_| event("N", b"{}")).collect(),
                    )
                    .await;
                }
                common::append_ok(&mut s, "ps-needle", any(), vec![event("T", b"{}")]).await;
                let e = create_req::all_options::filter_options::Expression {
                    regex: "^ps-needle".to_owned(),
                    prefix: vec![],
                };
                create(&c, all_source(Some(e)), "g-sparse", settings())
                    .await
                    .unwrap();
                let got = consume(
                    &c,
                    read_options(None, "g-sparse", 10),
                    vec![],
                    Duration::from_secs(3),
                )
                .await
                .unwrap();
                assert_eq!(got, 1);
            }
        ),
        case!("extreme settings", |c| async move {
            let mut st = settings();
            st.max_retry_count = i32::MAX;
            st.min_checkpoint_count = i32::MIN;
            st.max_checkpoint_count = i32::MAX;
            st.max_subscriber_count = i32::MIN;
            st.read_batch_size = i32::MAX - 1;
            st.live_buffer_size = i32::MAX;
            st.history_buffer_size = i32::MAX;
            st.named_consumer_strategy = 2;
            st.consumer_strategy = String::new();
            st.message_timeout = Some(create_req::settings::MessageTimeout::MessageTimeoutTicks(
                i64::MIN,
            ));
            st.checkpoint_after = Some(
                create_req::settings::CheckpointAfter::CheckpointAfterTicks(i64::MAX),
            );
            create(&c, stream_source("ps-extreme", u64::MAX), "g-extreme", st)
                .await
                .unwrap();
            common::append_ok(
                &mut c.streams(),
                "ps-extreme",
                any(),
                vec![event("T", b"{}")],
            )
            .await;
            consume(
                &c,
                read_options(Some("ps-extreme"), "g-extreme", i32::MIN),
                vec![],
                Duration::from_millis(300),
            )
            .await
            .unwrap();
        }),
        case!("an unknown consumer strategy name", |c| async move {
            let mut st = settings();
            st.consumer_strategy = "Nope".to_owned();
            let err = create(&c, stream_source("s", 0), "g-nope", st)
                .await
                .unwrap_err();
            // KurrentDB: the create fails, `PersistentSubscriptionFailed`.
            assert_eq!(err.code(), Code::Internal);
            assert_eq!(
                err.message(),
                "Subscription group g-nope on stream s failed: 'Consumer strategy Nope does not exist.'"
            );
            let meta = err.metadata();
            assert_eq!(
                meta.get("exception").unwrap(),
                "persistent-subscription-failed"
            );
            assert_eq!(
                meta.get("reason").unwrap(),
                "Consumer strategy Nope does not exist."
            );
            // The legacy enum field, with a value the enum lacks: its number.
            let mut st = settings();
            st.consumer_strategy = String::new();
            st.named_consumer_strategy = i32::MAX;
            let err = create(&c, stream_source("s", 0), "g-nope", st)
                .await
                .unwrap_err();
            assert_eq!(
                err.metadata().get("reason").unwrap(),
                "Consumer strategy 2147483647 does not exist."
            );
        }),
        case!(
            "settings the subscription constructor refuses",
            |c| async move {
                let reason = "Specified argument was out of the range of valid values. \
                          (Parameter 'ReadBatchSize may not be greater than or equal to BufferSize')";
                for (batch, buffer) in [(100, 100), (i32::MAX, 10), (20, i32::MIN)] {
                    let mut st = settings();
                    st.read_batch_size = batch;
                    st.history_buffer_size = buffer;
                    let err = create(&c, stream_source("s", 0), "g-batch", st)
                        .await
                        .unwrap_err();
                    assert_eq!(err.code(), Code::Internal);
                    assert_eq!(
                        err.message(),
                        format!("Subscription group g-batch on stream s failed: '{reason}'")
                    );
                }
                // The same on update, once the group exists; and nothing changed.
                create(&c, stream_source("s", 0), "g-batch", settings())
                    .await
                    .unwrap();
                let mut up = update_settings();
                up.read_batch_size = 100;
                let err = update(&c, "s", "g-batch", up).await.unwrap_err();
                assert_eq!(err.code(), Code::Internal);
                assert!(err.message().ends_with(&format!("failed: '{reason}'")));
                // A `$all` start whose prepare position is past its commit position.
                let source = create_req::options::StreamOption::All(create_req::AllOptions {
                    all_option: Some(create_req::all_options::AllOption::Position(
                        create_req::Position {
                            commit_position: 0,
                            prepare_position: 5,
                        },
                    )),
                    filter_option: None,
                });
                let err = create(&c, source, "g-prepare", settings())
                    .await
                    .unwrap_err();
                assert_eq!(
                    err.metadata().get("reason").unwrap(),
                    "Invalid Start From position: prepare position must be less than or equal to \
                 the commit position."
                );
                // An update of a missing group is still NOT_FOUND first.
                let err = update(&c, "s", "g-missing", update_settings())
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound);
            }
        ),
        case!(
            "a checkpoint of u64::MAX written by a client",
            |c| async move {
                let mut s = c.streams();
                common::append_ok(
                    &mut s,
                    "ps-cp",
                    any(),
                    (0..5).map(|_| event("T", b"{}")).collect(),
                )
                .await;
                let mut cp = event("$SubscriptionCheckpoint", b"\"18446744073709551615\"");
                cp.metadata
                    .insert("type".to_owned(), "$SubscriptionCheckpoint".to_owned());
                common::append_ok(
                    &mut s,
                    "$persistentsubscription-ps-cp::g-cp-checkpoint",
                    any(),
                    vec![cp],
                )
                .await;
                create(&c, stream_source("ps-cp", 0), "g-cp", settings())
                    .await
                    .unwrap();
                let got = consume(
                    &c,
                    read_options(Some("ps-cp"), "g-cp", 10),
                    vec![],
                    Duration::from_millis(500),
                )
                .await
                .unwrap();
                assert_eq!(got, 0, "the group does not restart from revision 0");
            }
        ),
        case!(
            "a $all checkpoint past the end, and a $all start at u64::MAX",
            |c| async move {
                let mut s = c.streams();
                let mut cp = event(
                    "$SubscriptionCheckpoint",
                    b"\"C:18446744073709551615/P:18446744073709551615\"",
                );
                cp.metadata
                    .insert("type".to_owned(), "$SubscriptionCheckpoint".to_owned());
                common::append_ok(
                    &mut s,
                    "$persistentsubscription-$all::g-allcp-checkpoint",
                    any(),
                    vec![cp],
                )
                .await;
                create(&c, all_source(None), "g-allcp", settings())
                    .await
                    .unwrap();
                let got = consume(
                    &c,
                    read_options(None, "g-allcp", 10),
                    vec![],
                    Duration::from_millis(500),
                )
                .await
                .unwrap();
                assert_eq!(got, 0);
                let source = create_req::options::StreamOption::All(create_req::AllOptions {
                    all_option: Some(create_req::all_options::AllOption::Position(
                        create_req::Position {
                            commit_position: u64::MAX,
                            prepare_position: u64::MAX,
                        },
                    )),
                    filter_option: None,
                });
                create(&c, source, "g-allmax", settings()).await.unwrap();
                let got = consume(
                    &c,
                    read_options(None, "g-allmax", 10),
                    vec![],
                    Duration::from_millis(300),
                )
                .await
                .unwrap();
                assert_eq!(got, 0);
            }
        ),
        case!(
            "a runaway consumer: buffer 2^31-1, 1 ms timeout, endless retries",
            |c| async move {
                let mut s = c.streams();
                common::append_ok(
                    &mut s,
                    "ps-runaway",
                    any(),
                    (0..200).map(|_| event("T", &[b'x'; 1000])).collect(),
                )
                .await;
                let mut st = settings();
                st.max_retry_count = i32::MAX;
                st.message_timeout =
                    Some(create_req::settings::MessageTimeout::MessageTimeoutMs(1));
                create(&c, stream_source("ps-runaway", 0), "g-runaway", st)
                    .await
                    .unwrap();
                // It reads for a while, then stops reading (its HTTP/2 window fills).
                let got = consume(
                    &c,
                    read_options(Some("ps-runaway"), "g-runaway", i32::MAX),
                    vec![],
                    Duration::from_secs(1),
                )
                .await
                .unwrap();
                assert!(got >= 200, "got {got}");
            }
        ),
        case!(
            "acks and nacks with garbage ids and actions",
            |c| async move {
                common::append_ok(&mut c.streams(), "ps-nack", any(), vec![event("T", b"{}")])
                    .await;
                create(&c, stream_source("ps-nack", 0), "g-nack", settings())
                    .await
                    .unwrap();
                let junk = kurrentdbclient::proto::shared::Uuid {
                    value: Some(kurrentdbclient::proto::shared::uuid::Value::String(
                        "zz".to_owned(),
                    )),
                };
                let then = vec![
                    ReadReq {
                        content: Some(read_req::Content::Ack(read_req::Ack {
                            id: Bytes::from_static(b"x"),
                            ids: vec![junk.clone(); 1000],
                        })),
                    },
                    ReadReq {
                        content: Some(read_req::Content::Nack(read_req::Nack {
                            id: Bytes::new(),
                            ids: vec![junk],
                            action: 99,
                            reason: "x".repeat(100_000),
                        })),
                    },
                    ReadReq { content: None },
                    read_options(Some("ps-nack"), "g-nack", 10),
                ];
                let got = consume(
                    &c,
                    read_options(Some("ps-nack"), "g-nack", 10),
                    then,
                    Duration::from_millis(300),
                )
                .await
                .unwrap();
                assert_eq!(got, 1);
            }
        ),
        case!(
            "a consumer whose first message is not options",
            |c| async move {
                let first = ReadReq {
                    content: Some(read_req::Content::Ack(read_req::Ack {
                        id: Bytes::new(),
                        ids: vec![],
                    })),
                };
                let err = consume(&c, first, vec![], Duration::from_millis(300))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::Unknown);
            }
        ),
        case!(
            "reading, updating, replaying and listing missing groups",
            |c| async move {
                let err = consume(
                    &c,
                    read_options(Some("nope"), "nope", 10),
                    vec![],
                    Duration::from_millis(100),
                )
                .await
                .unwrap_err();
                assert_eq!(err.code(), Code::NotFound);
                let err = client(&c)
                    .update(UpdateReq {
                        options: Some(update_req::Options {
                            stream_identifier: None,
                            group_name: "nope".to_owned(),
                            settings: None,
                            stream_option: None,
                        }),
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::Unknown, "no settings");
                let err = client(&c)
                    .replay_parked(ReplayParkedReq {
                        options: Some(replay_parked_req::Options {
                            group_name: "nope".to_owned(),
                            stream_option: Some(replay_parked_req::options::StreamOption::All(
                                Empty {},
                            )),
                            stop_at_option: Some(replay_parked_req::options::StopAtOption::StopAt(
                                i64::MIN,
                            )),
                        }),
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound);
                let err = client(&c)
                    .list(ListReq {
                        options: Some(list_req::Options {
                            list_option: Some(list_req::options::ListOption::ListForStream(
                                list_req::StreamOption {
                                    stream_option: Some(
                                        list_req::stream_option::StreamOption::Stream(
                                            StreamIdentifier {
                                                stream_name: Bytes::from("n".repeat(5000)),
                                            },
                                        ),
                                    ),
                                },
                            )),
                        }),
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::InvalidArgument);
                let err = client(&c)
                    .get_info(GetInfoReq { options: None })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::Unknown);
                let _ = get_info_req::Options::default();
            }
        ),
        case!(
            "replaying parked messages with extreme stop points",
            |c| async move {
                common::append_ok(
                    &mut c.streams(),
                    "ps-replay",
                    any(),
                    vec![event("T", b"{}")],
                )
                .await;
                create(&c, stream_source("ps-replay", 0), "g-replay", settings())
                    .await
                    .unwrap();
                for stop_at in [i64::MIN, -1, 0, i64::MAX] {
                    client(&c)
                        .replay_parked(ReplayParkedReq {
                            options: Some(replay_parked_req::Options {
                                group_name: "g-replay".to_owned(),
                                stream_option: Some(
                                    replay_parked_req::options::StreamOption::StreamIdentifier(
                                        StreamIdentifier {
                                            stream_name: Bytes::from_static(b"ps-replay"),
                                        },
                                    ),
                                ),
                                stop_at_option: Some(
                                    replay_parked_req::options::StopAtOption::StopAt(stop_at),
                                ),
                            }),
                        })
                        .await
                        .unwrap();
                }
            }
        ),
        case!("restarting the subsystem a hundred times", |c| async move {
            for _ in 0..100 {
                client(&c).restart_subsystem(Empty {}).await.unwrap();
            }
        }),
    ]
}
