//! Hostile Projections requests: queries that are not JavaScript, that loop,
//! recurse or allocate without end, huge queries and names, empty names,
//! requests without options or a mode, missing projections. A projection
//! that misbehaves faults itself, never the server (`projections/js`: a
//! time, memory and stack limit per projection).

use std::time::Duration;

use kurrentdbclient::proto::projections::projections_client::ProjectionsClient;
use kurrentdbclient::proto::projections::{
    CreateReq, DeleteReq, DisableReq, EnableReq, ResetReq, ResultReq, StateReq, StatisticsReq,
    UpdateReq, create_req, delete_req, disable_req, enable_req, reset_req, result_req, state_req,
    statistics_req, update_req,
};
use kurrentdbclient::proto::shared::Empty;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::{Case, Ctx, Rights, assert_denied, case};

fn client(channel: &Channel) -> ProjectionsClient<Channel> {
    ProjectionsClient::new(channel.clone())
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX)
}

/// Creates a continuous projection.
async fn create(ctx: &Ctx, name: &str, query: &str) -> Result<(), Status> {
    client(&ctx.channel)
        .create(CreateReq {
            options: Some(create_req::Options {
                mode: Some(create_req::options::Mode::Continuous(
                    create_req::options::Continuous {
                        name: name.to_owned(),
                        emit_enabled: false,
                        track_emitted_streams: false,
                    },
                )),
                query: query.to_owned(),
                ..Default::default()
            }),
        })
        .await
        .map(drop)
}

/// The status and reason of `name`, as `admin` sees it.
async fn status(ctx: &Ctx, name: &str) -> (String, String) {
    let mut stream = client(&ctx.admin)
        .statistics(StatisticsReq {
            options: Some(statistics_req::Options {
                mode: Some(statistics_req::options::Mode::Name(name.to_owned())),
            }),
        })
        .await
        .expect("statistics")
        .into_inner();
    let details = stream
        .message()
        .await
        .expect("statistics")
        .expect("one projection")
        .details
        .expect("details");
    (details.status, details.state_reason)
}

/// Waits (20 s at most) until `name` has faulted; returns the reason.
async fn faulted(ctx: &Ctx, name: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, reason) = status(ctx, name).await;
        if status.starts_with("Faulted") {
            return reason;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never faulted: {status} {reason:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether this caller was refused a change to a projection (create,
/// update, enable, disable, reset, delete), as KurrentDB refuses it: the
/// policy lets any authenticated caller through (anonymous: access
/// denied), then the projection manager refuses anyone outside `$admins`
/// and `$ops` with UNKNOWN "... received NotAuthorized instead", before it
/// looks at the name.
fn refused_change(ctx: &Ctx, result: &Result<(), Status>, what: &str) -> bool {
    if !ctx.may(Rights::Authenticated) {
        assert_denied(result, what);
        return true;
    }
    if !ctx.may(Rights::Ops) {
        let e = result.as_ref().expect_err(what);
        assert_eq!(e.code(), Code::Unknown, "{what}: {e:?}");
        assert!(
            e.message().ends_with("received NotAuthorized instead"),
            "{what}: {e:?}"
        );
        return true;
    }
    false
}

/// A projection created with `query` (when the caller may) faults with a
/// reason containing `reason`, and is then deleted (as `admin`).
async fn faults(ctx: &Ctx, name: &str, query: &str, reason: &str) {
    let result = create(ctx, name, query).await;
    if refused_change(ctx, &result, "create") {
        return;
    }
    result.expect("KurrentDB creates the projection, then it faults");
    let got = faulted(ctx, name).await;
    assert!(got.contains(reason), "{name}: {got:?}, not {reason:?}");
    delete_as_admin(ctx, name).await;
}

/// Disables `name` and deletes it once it has stopped (a running
/// projection is not deleted), as `admin`.
async fn delete_as_admin(ctx: &Ctx, name: &str) {
    let mut admin = client(&ctx.admin);
    admin
        .disable(DisableReq {
            options: Some(disable_req::Options {
                name: name.to_owned(),
                // Stopped, not aborted: an aborted projection is not
                // deleted (KurrentDB's `ManagedProjection`).
                write_checkpoint: true,
            }),
        })
        .await
        .expect("disabled");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let deleted = admin
            .delete(DeleteReq {
                options: Some(delete_req::Options {
                    name: name.to_owned(),
                    delete_emitted_streams: true,
                    delete_state_stream: true,
                    delete_checkpoint_stream: true,
                }),
            })
            .await;
        match deleted {
            Ok(_) => return,
            Err(e) if tokio::time::Instant::now() < deadline => {
                assert_eq!(e.code(), Code::Unknown, "{name}: {e:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{name} is never deleted: {e:?}"),
        }
    }
}

/// KurrentDB 26.1's answer to a refused operation (see
/// services/projections.rs).
fn assert_operation_failed(result: &Result<(), Status>, what: &str) {
    let e = result.as_ref().expect_err(what);
    assert_eq!(e.code(), Code::Unknown, "{what}: {e:?}");
    assert_eq!(
        e.message(),
        "Envelope callback expected Updated, received OperationFailed instead",
        "{what}"
    );
}

pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "a projection whose query is not JavaScript",
            |c| async move {
                faults(&c, "hostile-not-js", "this is not } JavaScript {", "").await;
            }
        )
        .needs(Rights::Ops),
        case!("a projection whose handler never returns", |c| async move {
            let query = "fromAll().when({$any: function (s, e) { while (true) {} }})";
            faults(&c, "hostile-loop", query, "took too long").await;
        })
        .needs(Rights::Ops),
        case!(
            "a projection whose query never finishes compiling",
            |c| async move {
                faults(
                    &c,
                    "hostile-compile-loop",
                    "while (true) {}",
                    "took too long",
                )
                .await;
            }
        )
        .needs(Rights::Ops),
        case!("a projection that recurses without end", |c| async move {
            let query = "function f(n) { return f(n + 1) + 1; } f(0);";
            faults(&c, "hostile-recursion", query, "").await;
        })
        .needs(Rights::Ops),
        case!("a projection that allocates without end", |c| async move {
            let query = "var a = []; while (true) { a.push(new Array(100000).fill(1)); }";
            faults(&c, "hostile-memory", query, "").await;
        })
        .needs(Rights::Ops),
        case!("a projection with a 3 MiB query", |c| async move {
            let query = format!(
                "// {}\nfromAll().when({{$any: function (s, e) {{ return s; }}}})",
                "x".repeat(3 << 20)
            );
            let result = create(&c, "hostile-huge-query", &query).await;
            if refused_change(&c, &result, "create") {
                return;
            }
            result.expect("a huge query is taken");
            delete_as_admin(&c, "hostile-huge-query").await;
        })
        .needs(Rights::Ops),
        case!(
            "projections with an empty and a blank name",
            |c| async move {
                for name in ["", "   "] {
                    let result = create(&c, name, "fromAll()").await;
                    if !refused_change(&c, &result, "create") {
                        assert_operation_failed(&result, "create");
                    }
                }
            }
        )
        .needs(Rights::Ops),
        case!("a projection name of 100,000 bytes", |c| async move {
            let name = "n".repeat(100_000);
            let result = create(&c, &name, "fromAll()").await;
            if refused_change(&c, &result, "create") {
                return;
            }
            result.expect("KurrentDB takes any name");
            assert!(!status(&c, &name).await.0.is_empty());
            delete_as_admin(&c, &name).await;
        })
        .needs(Rights::Ops),
        case!(
            "projection requests without options, or without a mode",
            |c| async move {
                let mut p = client(&c.channel);
                let authenticated = [
                    (
                        "create",
                        p.create(CreateReq { options: None }).await.map(drop),
                    ),
                    (
                        "create without a mode",
                        p.create(CreateReq {
                            options: Some(create_req::Options {
                                mode: None,
                                query: "fromAll()".to_owned(),
                                ..Default::default()
                            }),
                        })
                        .await
                        .map(drop),
                    ),
                    (
                        "tracking emitted streams without emitting",
                        p.create(CreateReq {
                            options: Some(create_req::Options {
                                mode: Some(create_req::options::Mode::Continuous(
                                    create_req::options::Continuous {
                                        name: "hostile-track".to_owned(),
                                        emit_enabled: false,
                                        track_emitted_streams: true,
                                    },
                                )),
                                query: "fromAll()".to_owned(),
                                ..Default::default()
                            }),
                        })
                        .await
                        .map(drop),
                    ),
                    (
                        "update",
                        p.update(UpdateReq { options: None }).await.map(drop),
                    ),
                    (
                        "update without an emit option",
                        p.update(UpdateReq {
                            options: Some(update_req::Options {
                                name: "x".to_owned(),
                                query: String::new(),
                                emit_option: None,
                                ..Default::default()
                            }),
                        })
                        .await
                        .map(drop),
                    ),
                    (
                        "statistics",
                        p.statistics(StatisticsReq { options: None })
                            .await
                            .map(drop),
                    ),
                    (
                        "statistics without a mode",
                        p.statistics(StatisticsReq {
                            options: Some(statistics_req::Options { mode: None }),
                        })
                        .await
                        .map(drop),
                    ),
                    (
                        "disable",
                        p.disable(DisableReq { options: None }).await.map(drop),
                    ),
                    (
                        "enable",
                        p.enable(EnableReq { options: None }).await.map(drop),
                    ),
                    ("reset", p.reset(ResetReq { options: None }).await.map(drop)),
                    ("state", p.state(StateReq { options: None }).await.map(drop)),
                    (
                        "result",
                        p.result(ResultReq { options: None }).await.map(drop),
                    ),
                ];
                let ops = [(
                    "delete",
                    p.delete(DeleteReq { options: None }).await.map(drop),
                )];
                for (rights, results) in [
                    (Rights::Authenticated, authenticated.as_slice()),
                    (Rights::Ops, ops.as_slice()),
                ] {
                    for (what, result) in results {
                        if c.may(rights) {
                            // KurrentDB dereferences the options and throws.
                            let e = result.as_ref().expect_err(what);
                            assert_eq!(e.code(), Code::Unknown, "{what}: {e:?}");
                        } else {
                            assert_denied(result, what);
                        }
                    }
                }
            }
        )
        .needs(Rights::Authenticated),
        case!("operations on a missing projection", |c| async move {
            let name = "hostile-missing".to_owned();
            let mut p = client(&c.channel);
            let authenticated = [
                (
                    "update",
                    p.update(UpdateReq {
                        options: Some(update_req::Options {
                            name: name.clone(),
                            query: "fromAll()".to_owned(),
                            emit_option: Some(update_req::options::EmitOption::NoEmitOptions(
                                Empty {},
                            )),
                            ..Default::default()
                        }),
                    })
                    .await
                    .map(drop),
                ),
                (
                    "disable",
                    p.disable(DisableReq {
                        options: Some(disable_req::Options {
                            name: name.clone(),
                            write_checkpoint: true,
                        }),
                    })
                    .await
                    .map(drop),
                ),
                (
                    "enable",
                    p.enable(EnableReq {
                        options: Some(enable_req::Options { name: name.clone() }),
                    })
                    .await
                    .map(drop),
                ),
                (
                    "reset",
                    p.reset(ResetReq {
                        options: Some(reset_req::Options {
                            name: name.clone(),
                            write_checkpoint: true,
                        }),
                    })
                    .await
                    .map(drop),
                ),
                (
                    "state",
                    p.state(StateReq {
                        options: Some(state_req::Options {
                            name: name.clone(),
                            partition: "\u{0}".repeat(10_000),
                        }),
                    })
                    .await
                    .map(drop),
                ),
                (
                    "result",
                    p.result(ResultReq {
                        options: Some(result_req::Options {
                            name: name.clone(),
                            partition: String::new(),
                        }),
                    })
                    .await
                    .map(drop),
                ),
            ];
            let ops = [(
                "delete",
                p.delete(DeleteReq {
                    options: Some(delete_req::Options {
                        name: name.clone(),
                        delete_emitted_streams: true,
                        delete_state_stream: true,
                        delete_checkpoint_stream: true,
                    }),
                })
                .await
                .map(drop),
            )];
            for (rights, results) in [
                (Rights::Authenticated, authenticated.as_slice()),
                (Rights::Ops, ops.as_slice()),
            ] {
                for (what, result) in results {
                    if c.may(rights) {
                        let e = result.as_ref().expect_err(what);
                        assert_eq!(e.code(), Code::NotFound, "{what}: {e:?}");
                        assert_eq!(e.message(), "Projection 'hostile-missing' not found");
                    } else {
                        assert_denied(result, what);
                    }
                }
            }
        })
        .needs(Rights::Authenticated),
        case!(
            "restarting the projection subsystem ten times",
            |c| async move {
                for _ in 0..10 {
                    let result = client(&c.channel).restart_subsystem(Empty {}).await;
                    if c.may(Rights::Ops) {
                        result.expect("restarted");
                    } else {
                        assert_denied(&result, "restart");
                    }
                }
            }
        )
        .needs(Rights::Ops),
    ]
}
