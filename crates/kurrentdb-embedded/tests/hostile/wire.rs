//! Garbage on the wire: bytes that are not the method's message (random,
//! truncated, nested past any depth) on every method, and gRPC framing that
//! lies, sent as raw HTTP/2.

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::{ReadReq, read_req};
use prost::Message;
use tonic::Code;

use crate::raw::{self, METHODS, Outcome, UNSERVED};
use crate::{Case, Rights, case, common};

/// Deterministic bytes that look random.
pub fn garbage(seed: u64, len: usize) -> Bytes {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

/// A call that the server did not answer with its panic status (INTERNAL
/// "failed while handling", `catch_panic.rs`): it may have been refused, or
/// still be open. A panic elsewhere (a spawned task, a projection's thread)
/// has no answer to see; the harness's panic hook catches those after each
/// case.
pub fn assert_no_panic(outcome: &Outcome, what: &str) {
    if let Some(s) = &outcome.status {
        assert!(
            !(s.code() == Code::Internal && s.message().contains("failed while handling")),
            "{what}: the handler panicked"
        );
    }
}

fn valid_read() -> Bytes {
    let mut o = common::read_options();
    o.stream_option = Some(common::stream_options("x", common::start()));
    o.count_option = Some(read_req::options::CountOption::Count(10));
    Bytes::from(ReadReq { options: Some(o) }.encode_to_vec())
}

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, &method) in METHODS.iter().enumerate() {
        let needs = raw::rights(method);
        cases.push(
            case!(format!("garbage to {method}"), |c| async move {
                let messages = vec![garbage(i as u64, 64), garbage(i as u64 + 100, 7)];
                let out = raw::call(&c.channel, method, messages, Duration::from_millis(200)).await;
                assert_no_panic(&out, method);
            })
            .needs(needs),
        );
        cases.push(
            case!(format!("truncated protobuf to {method}"), |c| async move {
                // Field 1, length-delimited, 100 bytes announced, 3 sent.
                let messages = vec![Bytes::from_static(&[0x0a, 0x64, 1, 2, 3])];
                let out = raw::call(&c.channel, method, messages, Duration::from_millis(200)).await;
                assert_no_panic(&out, method);
                assert_ne!(
                    out.code(),
                    Code::Ok,
                    "{method} accepted a truncated message"
                );
            })
            .needs(needs),
        );
        cases.push(
            case!(
                format!("groups nested 100,000 deep to {method}"),
                |c| async move {
                    // Field 15, start group, again and again: decoders must give up,
                    // not recurse until the stack overflows.
                    let messages = vec![Bytes::from(vec![0x7b; 100_000])];
                    let out =
                        raw::call(&c.channel, method, messages, Duration::from_millis(200)).await;
                    assert_no_panic(&out, method);
                    assert_ne!(out.code(), Code::Ok, "{method} accepted nested groups");
                }
            )
            .needs(needs),
        );
    }
    cases.push(case!(
        "a valid read request cut at every length",
        |c| async move {
            let valid = valid_read();
            for cut in 1..valid.len() {
                let out = raw::call(
                    &c.channel,
                    METHODS[0],
                    vec![valid.slice(..cut)],
                    Duration::from_millis(100),
                )
                .await;
                assert_no_panic(&out, "cut read");
            }
        }
    ));
    cases.push(
        case!(
            "empty messages, and too many, to unary methods",
            |c| async move {
                for &method in METHODS {
                    let out = raw::call(
                        &c.channel,
                        method,
                        vec![Bytes::new(); 3],
                        Duration::from_millis(100),
                    )
                    .await;
                    assert_no_panic(&out, method);
                }
            }
        )
        .needs(Rights::Authenticated),
    );
    cases.push(case!(
        "garbage to the services this server does not serve",
        |c| async move {
            for (i, &method) in UNSERVED.iter().enumerate() {
                for messages in [vec![garbage(i as u64, 64)], vec![Bytes::new()]] {
                    let out =
                        raw::call(&c.channel, method, messages, Duration::from_millis(200)).await;
                    assert_eq!(out.code(), Code::Unimplemented, "{method}: {out:?}");
                }
            }
        }
    ));
    cases.push(case!("a gRPC frame announcing 4 GiB", |c| async move {
        let body = raw::frame(false, u32::MAX, b"abc");
        let status = raw::h2_call(&c, METHODS[2], "application/grpc", body).await;
        assert_ne!(status.as_deref(), Some("0"));
    }));
    cases.push(case!(
        "a compressed frame without an encoding",
        |c| async move {
            let body = raw::frame(true, 3, b"abc");
            let status = raw::h2_call(&c, METHODS[2], "application/grpc", body).await;
            assert_ne!(status.as_deref(), Some("0"));
        }
    ));
    cases.push(case!("half a frame header", |c| async move {
        let status = raw::h2_call(
            &c,
            METHODS[0],
            "application/grpc",
            Bytes::from_static(&[0, 0]),
        )
        .await;
        assert_ne!(status.as_deref(), Some("0"));
    }));
    cases.push(case!("a frame longer than its data", |c| async move {
        let body = raw::frame(false, 1000, &valid_read());
        let status = raw::h2_call(&c, METHODS[0], "application/grpc", body).await;
        assert_ne!(status.as_deref(), Some("0"));
    }));
    cases.push(case!("a message over the decoding limit", |c| async move {
        let body = raw::frame(false, 64 << 20, &vec![0u8; 64 << 20]);
        let status = raw::h2_call(&c, METHODS[1], "application/grpc", body).await;
        assert_ne!(status.as_deref(), Some("0"));
    }));
    cases.push(case!("not gRPC at all", |c| async move {
        let status =
            raw::h2_call(&c, METHODS[16], "text/html", Bytes::from_static(b"<html>")).await;
        assert_ne!(status.as_deref(), Some("0"));
        let status = raw::h2_call(
            &c,
            "/no.such.Service/Method",
            "application/grpc",
            raw::frame(false, 0, b""),
        )
        .await;
        assert_eq!(status.as_deref(), Some("12"), "UNIMPLEMENTED");
    }));
    cases.push(case!(
        "a valid frame through raw HTTP/2 (the control)",
        |c| async move {
            let body = raw::frame(false, 0, &Empty {}.encode_to_vec());
            let status = raw::h2_call(&c, METHODS[16], "application/grpc", body).await;
            assert_eq!(status.as_deref(), Some("0"));
        }
    ));
    cases
}
