//! A secure server's own hostile inputs: well-formed calls to the stream and
//! persistent-subscription methods from callers without the rights
//! (refused with KurrentDB's "Access Denied", nothing written), and hostile
//! `authorization` headers (a wrong password or an unknown user:
//! UNAUTHENTICATED; a header that is not basic credentials: the call is
//! anonymous, as KurrentDB's last authentication provider takes it).

use bytes::Bytes;
use kurrentdbclient::proto::persistent::persistent_subscriptions_client::PersistentSubscriptionsClient;
use kurrentdbclient::proto::persistent::{
    CreateReq, DeleteReq, GetInfoReq, ListReq, ReplayParkedReq, create_req, delete_req,
    get_info_req, list_req, replay_parked_req,
};
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::{
    DeleteReq as StreamDeleteReq, TombstoneReq, delete_req as sdel, tombstone_req,
};
use kurrentdbclient::proto::users::users_client::UsersClient;
use kurrentdbclient::proto::users::{DisableReq, disable_req};
use kurrentdbclient::proto::v2::streams_service_client::StreamsServiceClient;
use kurrentdbclient::proto::v2::{AppendRecord, AppendRecordsRequest, SchemaFormat, SchemaInfo};
use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Status};

use crate::common;
use crate::{Caller, Case, Ctx, LOW_LOGIN, LOW_PASSWORD, Rights, assert_denied, case};

/// A stream any authenticated caller may write (the default ACL of a user
/// stream), unique to the caller.
fn user_stream(ctx: &Ctx, what: &str) -> String {
    format!("hostile-acl-{what}-{:?}", ctx.caller)
}

/// Appends one event to `stream` with `authorization` (when given) added to
/// the call.
async fn append_with(ctx: &Ctx, stream: &str, authorization: Option<&[u8]>) -> Result<(), Status> {
    let requests = common::append_requests(stream, common::any(), vec![common::event("E", b"{}")]);
    let mut request = Request::new(futures::stream::iter(requests));
    if let Some(value) = authorization {
        let value = MetadataValue::try_from(value).expect("a header value");
        request.metadata_mut().insert("authorization", value);
    }
    ctx.streams().append(request).await.map(drop)
}

fn basic(login: &str, password: &str) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    format!("Basic {encoded}").into_bytes()
}

fn persistent(ctx: &Ctx) -> PersistentSubscriptionsClient<tonic::transport::Channel> {
    PersistentSubscriptionsClient::new(ctx.channel.clone())
}

fn stream_option(stream: &str) -> Option<create_req::options::StreamOption> {
    Some(create_req::options::StreamOption::Stream(
        create_req::StreamOptions {
            stream_identifier: common::sid(stream),
            revision_option: Some(create_req::stream_options::RevisionOption::Start(Empty {})),
        },
    ))
}

/// `result` as the caller should have it with `rights`: refused without
/// them, else anything but a refusal.
fn check<T: std::fmt::Debug>(ctx: &Ctx, rights: Rights, result: &Result<T, Status>, what: &str) {
    if ctx.may(rights) {
        if let Err(e) = result {
            assert_ne!(e.code(), Code::PermissionDenied, "{what}: {e:?}");
            assert_ne!(e.code(), Code::Unauthenticated, "{what}: {e:?}");
        }
    } else {
        assert_denied(result, what);
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        case!("well-formed stream calls", |c| async move {
            let stream = user_stream(&c, "streams");
            let append = append_with(&c, &stream, None).await;
            check(&c, Rights::Authenticated, &append, "append");
            let read = common::read_stream(&mut c.streams(), &stream).await;
            check(&c, Rights::Authenticated, &read, "read a stream");
            // `$all` is read with the rules of a system stream: `$admins`.
            let mut o = common::read_options();
            o.stream_option = Some(common::all_options(common::all_start()));
            let read_all = common::read(&mut c.streams(), o).await;
            check(&c, Rights::Admin, &read_all, "read $all");
            let records = v2(&c)
                .append_records(AppendRecordsRequest {
                    records: vec![AppendRecord {
                        record_id: Some(uuid::Uuid::new_v4().to_string()),
                        properties: Default::default(),
                        schema: Some(SchemaInfo {
                            format: SchemaFormat::Json as i32,
                            name: "T".to_owned(),
                            id: None,
                        }),
                        data: Bytes::from_static(b"{}"),
                        stream: user_stream(&c, "v2"),
                    }],
                    checks: vec![],
                })
                .await;
            // The v2 protocol's refusal names the claim (services/streams/v2.rs).
            if c.may(Rights::Authenticated) {
                records.expect("v2 append records");
            } else {
                let e = records.unwrap_err();
                assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
                assert_eq!(
                    e.message(),
                    format!(
                        "Access denied. Insufficient permissions to perform \
                         streams:write:{}",
                        user_stream(&c, "v2").to_lowercase()
                    )
                );
            }
            let delete = c
                .streams()
                .delete(StreamDeleteReq {
                    options: Some(sdel::Options {
                        stream_identifier: common::sid(&stream),
                        expected_stream_revision: Some(sdel::options::ExpectedStreamRevision::Any(
                            Empty {},
                        )),
                    }),
                })
                .await;
            check(&c, Rights::Authenticated, &delete, "delete");
            let tombstone = c
                .streams()
                .tombstone(TombstoneReq {
                    options: Some(tombstone_req::Options {
                        stream_identifier: common::sid(&user_stream(&c, "tombstone")),
                        expected_stream_revision: Some(
                            tombstone_req::options::ExpectedStreamRevision::Any(Empty {}),
                        ),
                    }),
                })
                .await;
            check(&c, Rights::Authenticated, &tombstone, "tombstone");
            // A system stream: `$admins` only.
            let system = append_with(&c, "$hostile-system", None).await;
            check(&c, Rights::Admin, &system, "append to a system stream");
        })
        .needs(Rights::Authenticated),
        case!(
            "well-formed persistent-subscription calls",
            |c| async move {
                let stream = user_stream(&c, "persistent");
                let group = "hostile-group".to_owned();
                let mut settings = crate::persistent::settings();
                settings.revision = 0;
                let create = persistent(&c)
                    .create(CreateReq {
                        options: Some(create_req::Options {
                            stream_identifier: None,
                            group_name: group.clone(),
                            settings: Some(settings),
                            stream_option: stream_option(&stream),
                        }),
                    })
                    .await;
                check(&c, Rights::Ops, &create, "create");
                let info = persistent(&c)
                    .get_info(GetInfoReq {
                        options: Some(get_info_req::Options {
                            group_name: group.clone(),
                            stream_option: Some(
                                get_info_req::options::StreamOption::StreamIdentifier(
                                    common::sid(&stream).unwrap(),
                                ),
                            ),
                        }),
                    })
                    .await;
                check(&c, Rights::Authenticated, &info, "get info");
                let list = persistent(&c)
                    .list(ListReq {
                        options: Some(list_req::Options {
                            list_option: Some(list_req::options::ListOption::ListAllSubscriptions(
                                Empty {},
                            )),
                        }),
                    })
                    .await;
                check(&c, Rights::Authenticated, &list, "list");
                let replay = persistent(&c)
                    .replay_parked(ReplayParkedReq {
                        options: Some(replay_parked_req::Options {
                            group_name: group.clone(),
                            stream_option: Some(
                                replay_parked_req::options::StreamOption::StreamIdentifier(
                                    common::sid(&stream).unwrap(),
                                ),
                            ),
                            stop_at_option: Some(
                                replay_parked_req::options::StopAtOption::NoLimit(Empty {}),
                            ),
                        }),
                    })
                    .await;
                check(&c, Rights::Ops, &replay, "replay parked");
                let restart = persistent(&c).restart_subsystem(Empty {}).await;
                check(&c, Rights::Ops, &restart, "restart");
                let delete = persistent(&c)
                    .delete(DeleteReq {
                        options: Some(delete_req::Options {
                            group_name: group.clone(),
                            stream_option: Some(
                                delete_req::options::StreamOption::StreamIdentifier(
                                    common::sid(&stream).unwrap(),
                                ),
                            ),
                        }),
                    })
                    .await;
                check(&c, Rights::Ops, &delete, "delete");
            }
        )
        .needs(Rights::Ops),
        case!(
            "a wrong password, an unknown user, a disabled one",
            |c| async move {
                if c.caller != Caller::Insecure {
                    // A user, disabled (by `admin`).
                    crate::users::create_user(&c.admin, "hostile-disabled", "pw", &[])
                        .await
                        .expect("created");
                    UsersClient::new(c.admin.clone())
                        .disable(DisableReq {
                            options: Some(disable_req::Options {
                                login_name: "hostile-disabled".to_owned(),
                            }),
                        })
                        .await
                        .expect("disabled");
                }
                let before = c.store.log_len();
                let stream = user_stream(&c, "wrong-password");
                for authorization in [
                    basic(LOW_LOGIN, "wrong"),
                    basic("admin", ""),
                    basic("hostile-nobody", "pw"),
                    basic("hostile-disabled", "pw"),
                    basic(&"u".repeat(1_000), &"p".repeat(1_000)),
                ] {
                    let result = append_with(&c, &stream, Some(&authorization)).await;
                    if c.caller == Caller::Insecure {
                        // Credentials are not looked at (`--insecure`).
                        result.expect("an insecure server takes any call");
                        continue;
                    }
                    let e = result.unwrap_err();
                    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
                    assert_eq!(e.message(), "Unauthenticated");
                }
                if c.caller != Caller::Insecure {
                    assert_eq!(c.store.log_len(), before, "nothing written");
                }
            }
        ),
        case!(
            "authorization headers that are not basic credentials",
            |c| async move {
                let before = c.store.log_len();
                let stream = user_stream(&c, "not-basic");
                // Past the transport's limit on headers, a call is refused
                // before any service sees it (HTTP 431).
                let huge = format!("Basic {}", "A".repeat(60_000));
                let result = append_with(&c, &stream, Some(huge.as_bytes())).await;
                assert!(result.is_err(), "a 60 kB header was taken");
                for authorization in [
                    &b"Basic !!!not base64!!!"[..],
                    b"Basic bm9jb2xvbg==", // "nocolon"
                    b"Basic ",
                    b"Basic",
                    b"Negotiate abc",
                    b"\x80\xff binary",
                    format!("Basic {}", "A".repeat(8_000)).as_bytes(),
                ] {
                    let result = append_with(&c, &stream, Some(authorization)).await;
                    if c.caller == Caller::Insecure {
                        result.expect("an insecure server takes any call");
                        continue;
                    }
                    // The header is no credentials: the caller is anonymous
                    // (with its certificate, the certificate's user), or the
                    // header is refused as a whole.
                    match result {
                        Ok(()) => assert!(c.may(Rights::Authenticated)),
                        Err(e) => assert!(
                            matches!(e.code(), Code::PermissionDenied | Code::Unauthenticated),
                            "{e:?}"
                        ),
                    }
                }
                if !c.may(Rights::Authenticated) {
                    assert_eq!(c.store.log_len(), before, "nothing written");
                }
            }
        ),
        case!("the low-rights user's basic credentials", |c| async move {
            if c.caller == Caller::Insecure {
                return;
            }
            let credentials = basic(LOW_LOGIN, LOW_PASSWORD);
            let stream = user_stream(&c, "basic");
            append_with(&c, &stream, Some(&credentials))
                .await
                .expect("a user stream takes any user");
            let before = c.store.log_len();
            let result = append_with(&c, "$hostile-basic", Some(&credentials)).await;
            assert_denied(&result, "a system stream");
            assert_eq!(c.store.log_len(), before, "nothing written");
        }),
    ]
}

fn v2(ctx: &Ctx) -> StreamsServiceClient<tonic::transport::Channel> {
    StreamsServiceClient::new(ctx.channel.clone())
}
