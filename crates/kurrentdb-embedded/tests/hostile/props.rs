//! Property tests: random bytes as the request messages of every method never
//! make the server panic, and leave it healthy.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::raw::{self, METHODS};
use crate::wire::assert_no_panic;

/// Cases per method: with 42 methods, about 2,700 calls.
const CASES: u32 = 64;

#[test]
fn random_bytes_into_every_method_never_panic() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _turn = crate::TURN.blocking_lock();
    crate::common::panics::install();
    let (server, ctx) = runtime.block_on(crate::start(crate::Caller::Insecure));
    let channel = ctx.channel.clone();
    for (m, &method) in METHODS.iter().enumerate() {
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(m as u64),
            ..Config::default()
        });
        let mark = crate::common::panics::mark();
        let messages = prop::collection::vec(prop::collection::vec(any::<u8>(), 0..256), 0..4);
        runner
            .run(&messages, |messages| {
                let messages = messages.into_iter().map(Bytes::from).collect();
                let out = runtime.block_on(raw::call(
                    &channel,
                    method,
                    messages,
                    Duration::from_millis(50),
                ));
                assert_no_panic(&out, method);
                crate::common::panics::assert_none_since(mark, method);
                Ok(())
            })
            .unwrap();
        runtime.block_on(crate::assert_healthy(&ctx, 1_000_000 + m, method));
    }
    runtime.block_on(server.shutdown());
}
