//! The internal tokio runtime of a blocking client, and the guard that refuses
//! to block a thread that drives asynchronous tasks.
//!
//! The runtime is a multi-thread runtime with [`WORKER_THREADS`] workers. A
//! blocking call runs its future with `Runtime::block_on` on the *calling*
//! thread, while the workers drive the connection's background tasks (tonic's
//! channel and the HTTP/2 connection). That is the same path an async caller
//! takes from inside `block_on`, so the blocking call costs only the guard and
//! entering the runtime (see `benches/blocking_vs_async.rs`). Many threads may
//! call `block_on` at once.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Worker threads of the internal runtime: they only drive I/O and the
/// connection's tasks (each call's own future is polled by the calling thread),
/// so two are plenty.
pub(crate) const WORKER_THREADS: usize = 2;

/// The internal runtime. Dropping it never blocks (it shuts down in the
/// background), so a client may be dropped anywhere, even in async code.
pub(crate) struct Runtime {
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("worker_threads", &WORKER_THREADS)
            .finish()
    }
}

impl Runtime {
    /// Builds the runtime.
    pub(crate) fn new() -> std::io::Result<Runtime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("kurrentdbclient-blocking")
            .enable_all()
            .build()?;
        Ok(Runtime { rt: Some(rt) })
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("the runtime lives until drop")
    }

    /// Runs `future` to completion on the calling thread, after checking that
    /// this thread may block (panics otherwise, naming `operation`).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, operation: &str, future: F) -> F::Output {
        assert_blocking_allowed(operation);
        self.rt().block_on(future)
    }

    /// Like [`block_on`](Self::block_on), for the next item of one of this
    /// crate's own read or subscription streams: an item that is already
    /// buffered (most are: events arrive in batches) is taken without a trip
    /// through the runtime's park/unpark machinery; otherwise the future, now
    /// started, is run with `block_on`.
    ///
    /// Only for futures that run no caller code: a caller's future polled here
    /// would run outside `block_on`, where a nested blocking call would not be
    /// refused.
    #[track_caller]
    pub(crate) fn next_item<F: Future>(&self, operation: &str, future: F) -> F::Output {
        assert_blocking_allowed(operation);
        let mut future = std::pin::pin!(future);
        {
            let _context = self.rt().enter();
            if let Some(output) = futures::FutureExt::now_or_never(future.as_mut()) {
                return output;
            }
        }
        self.rt().block_on(future)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            // A plain drop waits for the workers, which tokio refuses (with a
            // panic) inside an async context. The client holds no work that
            // needs a graceful end, so let the workers finish on their own.
            rt.shutdown_background();
        }
    }
}

/// The start of the message of the panic raised when a blocking call is made
/// from a thread that drives asynchronous tasks.
pub(crate) const ASYNC_CONTEXT_PANIC: &str =
    "kurrentdbclient_blocking: a blocking call was made from inside an async runtime";

/// Panics, with a message that names `operation` and says what to do instead,
/// when the current thread drives asynchronous tasks (inside
/// `Runtime::block_on`, `#[tokio::main]`, `#[tokio::test]`, or a spawned task):
/// blocking there would stall that runtime, or deadlock it when the call needs
/// the very thread it blocks.
///
/// Threads where blocking is allowed pass: plain threads, `spawn_blocking`
/// tasks, `block_in_place` closures, threads that only `enter()`ed a runtime.
#[track_caller]
pub(crate) fn assert_blocking_allowed(operation: &str) {
    // The fast path, for the usual caller (a plain thread): no runtime at all.
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    // A runtime is set on this thread. That is also the case where blocking is
    // fine (`spawn_blocking`), and only tokio knows which case this is; it
    // exposes that knowledge as the check of its own blocking waits. So wait on
    // a channel whose sender is gone: it returns at once where blocking is
    // allowed, and panics before waiting where it is not. (Tokio's panic
    // message is printed by the panic hook; ours follows and is the payload.)
    let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
    drop(sender);
    let allowed = catch_unwind(AssertUnwindSafe(move || {
        let _ = receiver.blocking_recv();
    }))
    .is_ok();
    if !allowed {
        panic!(
            "{ASYNC_CONTEXT_PANIC} (`{operation}`): this thread drives asynchronous tasks, \
             and blocking it would stall or deadlock its runtime. In async code, use the \
             async client (`kurrentdbclient::AsyncKurrentDBClient`, or \
             `KurrentDBClient::async_client()`) and `.await` its calls; or run the blocking \
             call with `tokio::task::spawn_blocking`."
        );
    }
}
