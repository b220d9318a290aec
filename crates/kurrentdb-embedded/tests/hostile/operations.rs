//! Hostile Operations requests: scavenges with negative threads and start
//! chunks, unknown scavenge ids, requests without options, extreme node
//! priorities, resignations and restarts again and again; and `Shutdown`,
//! garbage included, on servers of its own (its request is `Empty`, which
//! garbage can decode as): refused without the rights, else an orderly stop.

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::proto::operations::operations_client::OperationsClient;
use kurrentdbclient::proto::operations::scavenge_resp::ScavengeResult;
use kurrentdbclient::proto::operations::{
    SetNodePriorityReq, StartScavengeReq, StopScavengeReq, start_scavenge_req, stop_scavenge_req,
};
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::Empty;
use tonic::Code;
use tonic::transport::Channel;

use crate::common::panics;
use crate::raw::{self, SHUTDOWN};
use crate::wire::{assert_no_panic, garbage};
use crate::{Caller, Case, Ctx, Rights, assert_denied, case};

fn client(channel: &Channel) -> OperationsClient<Channel> {
    OperationsClient::new(channel.clone())
}

async fn start_scavenge(
    ctx: &Ctx,
    thread_count: i32,
    start_from_chunk: i32,
) -> Result<(String, ScavengeResult), tonic::Status> {
    client(&ctx.channel)
        .start_scavenge(StartScavengeReq {
            options: Some(start_scavenge_req::Options {
                thread_count,
                start_from_chunk,
            }),
        })
        .await
        .map(|r| {
            let r = r.into_inner();
            let result = r.scavenge_result();
            (r.scavenge_id, result)
        })
}

async fn stop_scavenge(ctx: &Ctx, id: &str) -> Result<ScavengeResult, tonic::Status> {
    client(&ctx.channel)
        .stop_scavenge(StopScavengeReq {
            options: Some(stop_scavenge_req::Options {
                scavenge_id: id.to_owned(),
            }),
        })
        .await
        .map(|r| r.into_inner().scavenge_result())
}

pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "scavenges with negative and extreme threads and start chunks",
            |c| async move {
                for (threads, chunk) in [(-5, -1), (i32::MIN, i32::MIN), (i32::MAX, i32::MAX)] {
                    let result = start_scavenge(&c, threads, chunk).await;
                    if !c.may(Rights::Ops) {
                        assert_denied(&result, "start scavenge");
                        continue;
                    }
                    // KurrentDB's gRPC handler passes both on unchecked (its
                    // HTTP API checks them): the scavenge starts, or one runs.
                    let (id, answer) = result.expect("a scavenge");
                    assert!(!id.is_empty());
                    assert!(
                        matches!(answer, ScavengeResult::Started | ScavengeResult::InProgress),
                        "{answer:?}"
                    );
                    // Stopped, or it had finished: then NOT_FOUND.
                    match stop_scavenge(&c, &id).await {
                        Ok(answer) => assert_eq!(answer, ScavengeResult::Stopped),
                        Err(e) => assert_eq!(e.code(), Code::NotFound, "{e:?}"),
                    }
                }
            }
        )
        .needs(Rights::Ops),
        case!("stopping scavenges that do not exist", |c| async move {
            for id in ["nope", "", &"x".repeat(100_000), "current"] {
                let result = stop_scavenge(&c, id).await;
                if !c.may(Rights::Ops) {
                    assert_denied(&result, "stop scavenge");
                    continue;
                }
                let e = result.expect_err("no scavenge runs");
                assert_eq!(e.code(), Code::NotFound);
                assert_eq!(e.message(), "Scavenge id was invalid.");
                assert_eq!(
                    crate::common::trailer(&e, "exception"),
                    Some("scavenge-not-found")
                );
            }
        })
        .needs(Rights::Ops),
        case!("scavenge requests without options", |c| async move {
            let mut o = client(&c.channel);
            let start = o
                .start_scavenge(StartScavengeReq { options: None })
                .await
                .map(drop);
            let stop = o
                .stop_scavenge(StopScavengeReq { options: None })
                .await
                .map(drop);
            for (what, result) in [("start", start), ("stop", stop)] {
                if c.may(Rights::Ops) {
                    // KurrentDB dereferences the options and throws.
                    assert_eq!(result.unwrap_err().code(), Code::Unknown, "{what}");
                } else {
                    assert_denied(&result, what);
                }
            }
        })
        .needs(Rights::Ops),
        case!("extreme node priorities", |c| async move {
            for priority in [i32::MIN, -1, 0, i32::MAX] {
                let result = client(&c.channel)
                    .set_node_priority(SetNodePriorityReq { priority })
                    .await;
                if c.may(Rights::Ops) {
                    result.expect("any priority is taken");
                } else {
                    assert_denied(&result, "set node priority");
                }
            }
        })
        .needs(Rights::Ops),
        case!(
            "resigning, merging indexes and restarting subscriptions, twenty times each",
            |c| async move {
                let mut o = client(&c.channel);
                for _ in 0..20 {
                    let results = [
                        ("resign", o.resign_node(Empty {}).await),
                        ("merge indexes", o.merge_indexes(Empty {}).await),
                        (
                            "restart persistent subscriptions",
                            o.restart_persistent_subscriptions(Empty {}).await,
                        ),
                    ];
                    for (what, result) in results {
                        if c.may(Rights::Ops) {
                            result.expect(what);
                        } else {
                            assert_denied(&result, what);
                        }
                    }
                }
            }
        )
        .needs(Rights::Ops),
    ]
}

/// `Shutdown` as `caller`, with each of [`shutdown_inputs`] (garbage,
/// empty, truncated), on servers of its own: refused (or the request
/// refused) and the server goes on, or answered and the server stops in
/// order, its open calls ended, and no panic. A server that stopped is
/// replaced for the next input.
pub async fn shutdown_as(caller: Caller) {
    let mark = panics::mark();
    let mut running = None;
    let mut stopped = 0;
    for (i, (what, messages)) in shutdown_inputs().into_iter().enumerate() {
        let (server, ctx) = match running.take() {
            Some(running) => running,
            None => crate::start(caller).await,
        };
        let out = raw::call(&ctx.channel, SHUTDOWN, messages, Duration::from_secs(5)).await;
        assert_no_panic(&out, what);
        if out.code() != Code::Ok {
            if !caller.has(Rights::Ops) {
                // Refused: access denied, or the request did not decode.
                assert!(
                    matches!(out.code(), Code::PermissionDenied | Code::Internal),
                    "{what}: {out:?}"
                );
            }
            crate::assert_healthy(&ctx, i, what).await;
            running = Some((server, ctx));
            continue;
        }
        assert!(
            caller.has(Rights::Ops),
            "{what}: {caller:?} shut the server down"
        );
        stopped += 1;
        // The node stops serving: new calls fail, within a generous bound.
        let refused = async {
            let mut features = ServerFeaturesClient::new(ctx.admin.clone());
            while features.get_supported_methods(Empty {}).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), refused)
            .await
            .unwrap_or_else(|_| panic!("{what}: the server still serves after Shutdown"));
        tokio::time::timeout(Duration::from_secs(20), server.shutdown())
            .await
            .unwrap_or_else(|_| panic!("{what}: the server did not stop"));
    }
    if let Some((server, _)) = running {
        server.shutdown().await;
    }
    // An empty message is a valid `Empty`: a caller with the rights stopped
    // at least that server.
    assert_eq!(
        stopped > 0,
        caller.has(Rights::Ops),
        "{caller:?} stopped {stopped}"
    );
    panics::assert_none_since(mark, &format!("Shutdown ({caller:?})"));
}

/// The `Shutdown` inputs: garbage, truncated protobuf, nested groups,
/// several messages to a unary call, an empty message.
pub fn shutdown_inputs() -> Vec<(&'static str, Vec<Bytes>)> {
    vec![
        ("garbage to Shutdown", vec![garbage(7, 64)]),
        (
            "truncated protobuf to Shutdown",
            vec![Bytes::from_static(&[0x0a, 0x64, 1, 2, 3])],
        ),
        (
            "groups nested 100,000 deep to Shutdown",
            vec![Bytes::from(vec![0x7b; 100_000])],
        ),
        ("three empty messages to Shutdown", vec![Bytes::new(); 3]),
        ("an empty message to Shutdown", vec![Bytes::new()]),
    ]
}
