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
//!
//! Tracing: because the call's future is polled on the calling thread, the
//! operation's span (see `kurrentdbclient::telemetry`) is made there, under the
//! caller's current span and with the caller's subscriber (a thread-local
//! default one too): blocking calls appear in the caller's trace with nothing
//! carried across threads (`crates/client-tests/tests/telemetry.rs` checks it). Only the
//! connection's background tasks run on the workers, and they make no spans.
//!
//! The guard's panic names the blocking operation that was called. No call
//! site passes that name: it is read, only when the guard panics, from the
//! type of the future being run (see [`operation_name`]).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

use kurrentdbclient::AsyncKurrentDBClient;

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
    /// this thread may block (panics otherwise, naming the operation that
    /// `future` belongs to).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert_blocking_allowed::<F>();
        self.rt().block_on(future)
    }

    /// Like [`block_on`](Self::block_on), for the next item of one of this
    /// crate's iterators: an item that is already buffered (most are: events
    /// arrive in batches) is taken without a trip through the runtime's
    /// park/unpark machinery; otherwise the future, now started, is run with
    /// `block_on`.
    ///
    /// Only for futures that run no caller code: a caller's future polled here
    /// would run outside `block_on`, where a nested blocking call would not be
    /// refused.
    #[track_caller]
    pub(crate) fn next_item<F: Future>(&self, future: F) -> F::Output {
        assert_blocking_allowed::<F>();
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

/// What a client, its clones and its iterators share: the runtime and the
/// async client. The iterators hold it (not the client), so that they keep
/// the runtime alive without this module's users importing each other.
pub(crate) struct Shared {
    pub(crate) client: AsyncKurrentDBClient,
    runtime: Runtime,
}

impl Shared {
    pub(crate) fn new(client: AsyncKurrentDBClient, runtime: Runtime) -> Self {
        Shared { client, runtime }
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// [`Runtime::block_on`] on the shared runtime.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The next item of one of this crate's iterators: [`block_on`](Self::block_on)
    /// that takes an already-buffered item without parking (see
    /// [`Runtime::next_item`]; never for a caller's future).
    #[track_caller]
    pub(crate) fn next_item<F: Future>(&self, future: F) -> F::Output {
        self.runtime.next_item(future)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone, and the runtime with it: close the async
        // client too, so that any clone of it taken with `async_client()` fails
        // with `Error::ClientClosed` rather than with a dead connection.
        self.client.close();
    }
}

/// The start of the message of the panic raised when a blocking call is made
/// from a thread that drives asynchronous tasks.
pub(crate) const ASYNC_CONTEXT_PANIC: &str =
    "kurrentdbclient_blocking: a blocking call was made from inside an async runtime";

/// Panics, with a message that names the operation of the future `F` (see
/// [`operation_name`]) and says what to do instead, when the current thread
/// drives asynchronous tasks (inside `Runtime::block_on`, `#[tokio::main]`,
/// `#[tokio::test]`, or a spawned task): blocking there would stall that
/// runtime, or deadlock it when the call needs the very thread it blocks.
///
/// Threads where blocking is allowed pass: plain threads, `spawn_blocking`
/// tasks, `block_in_place` closures, threads that only `enter()`ed a runtime.
#[track_caller]
fn assert_blocking_allowed<F>() {
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
            "{ASYNC_CONTEXT_PANIC} (`{}`): this thread drives asynchronous tasks, \
             and blocking it would stall or deadlock its runtime. In async code, use the \
             async client (`kurrentdbclient::AsyncKurrentDBClient`, or \
             `KurrentDBClient::async_client()`) and `.await` its calls; or run the blocking \
             call with `tokio::task::spawn_blocking`.",
            operation_name(std::any::type_name::<F>())
        );
    }
}

/// What a user's future is reported as: the method that ran it.
const USER_FUTURE: &str = "KurrentDBClient::block_on";

/// The blocking operation that runs a future of type `future_type` (as
/// `std::any::type_name` prints it), as the async-context panic names it.
///
/// The future of an `async fn` (or of an `async` block in a function) prints
/// as the function's path followed by `::{{closure}}`, for instance
/// `kurrentdbclient::client::AsyncKurrentDBClient::read_stream::{{closure}}`,
/// `kurrentdbclient::client::streams::<impl kurrentdbclient::client::AsyncKurrentDBClient>::append_to_stream<[NewEvent; 1]>::{{closure}}`
/// (an impl block in another module; generic arguments after the name), or
/// `<kurrentdbclient_blocking::iter::ReadStream as core::iter::traits::iterator::Iterator>::next::{{closure}}`.
/// For the futures of this crate and of `kurrentdbclient`, the operation is
/// `Type::method` (`AsyncKurrentDBClient` read as this crate's
/// `KurrentDBClient`); any other future was handed to
/// [`KurrentDBClient::block_on`](crate::KurrentDBClient::block_on) by the user.
fn operation_name(future_type: &str) -> String {
    let path = future_type.trim_start_matches('<');
    let path = path.strip_prefix("impl ").unwrap_or(path);
    let ours = ["kurrentdbclient::", "kurrentdbclient_blocking::"];
    if !ours.iter().any(|krate| path.starts_with(krate)) {
        return USER_FUTURE.to_owned();
    }
    let segments = top_level_segments(future_type);
    let closures = segments
        .iter()
        .rev()
        .take_while(|segment| **segment == "{{closure}}")
        .count();
    if closures == 0 {
        // Not the future of an `async fn` or block.
        return USER_FUTURE.to_owned();
    }
    let [.., owner, method] = &segments[..segments.len() - closures] else {
        return USER_FUTURE.to_owned();
    };
    // `Type<..>`, `<impl path::Type>` or `<path::Type as Trait>`: the type's
    // own name.
    let owner = owner.trim_start_matches('<');
    let owner = owner.strip_prefix("impl ").unwrap_or(owner);
    let owner = owner.split([' ', '<', '>']).next().unwrap_or_default();
    let owner = owner.rsplit("::").next().unwrap_or_default();
    let owner = match owner {
        "AsyncKurrentDBClient" => "KurrentDBClient",
        owner => owner,
    };
    let method = method.split('<').next().unwrap_or_default();
    format!("{owner}::{method}")
}

/// `path` split at the `::` that are outside angle brackets (generic
/// arguments, `<impl ..>` and `<.. as ..>` stay whole).
fn top_level_segments(path: &str) -> Vec<&str> {
    let bytes = path.as_bytes();
    let mut segments = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            // The `>` of `->` (in `fn(..) -> T`) closes nothing.
            b'>' if i == 0 || bytes[i - 1] != b'-' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(&path[start..i]);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(&path[start..]);
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use kurrentdbclient::options::*;
    use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};

    /// The operation the future `f` returns would be reported as (`f` is never
    /// called: only its return type is read).
    fn operation_of<A, F: Future>(_f: impl FnOnce(A) -> F) -> String {
        operation_name(std::any::type_name::<F>())
    }

    #[test]
    fn the_futures_of_the_async_crate_name_their_blocking_operation() {
        type Client = &'static AsyncKurrentDBClient;
        let position = |(c, options): (Client, &'static GetCommitPositionOptions)| {
            c.get_commit_position(options)
        };
        assert_eq!(
            operation_of(position),
            "KurrentDBClient::get_commit_position"
        );
        // `impl Trait` arguments make the method generic.
        let append = |(c, options): (Client, &'static AppendToStreamOptions)| {
            c.append_to_stream(
                "s",
                StreamState::Any,
                (0..2).map(|_| NewEvent::new("E", "{}")),
                options,
            )
        };
        assert_eq!(operation_of(append), "KurrentDBClient::append_to_stream");
        let create = |(c, options): (Client, &'static CreateSubscriptionToAllOptions)| {
            c.create_subscription_to_all("g", options)
        };
        assert_eq!(
            operation_of(create),
            "KurrentDBClient::create_subscription_to_all"
        );
        assert_eq!(
            operation_of(AsyncKurrentDBClient::connect),
            "KurrentDBClient::connect"
        );
        assert_eq!(
            operation_of(AsyncKurrentDBClient::with_settings),
            "KurrentDBClient::with_settings"
        );
        assert_eq!(
            operation_of(kurrentdbclient::ReadStream::collect_events),
            "ReadStream::collect_events"
        );
        assert_eq!(
            operation_of(kurrentdbclient::PersistentSubscription::stop),
            "PersistentSubscription::stop"
        );
    }

    /// An iterator of this crate, as `ReadStream` and the subscriptions are.
    struct Probe;

    impl Iterator for Probe {
        type Item = String;

        fn next(&mut self) -> Option<String> {
            Some(operation_of(|()| async {}))
        }
    }

    #[test]
    fn the_iterators_name_their_next() {
        assert_eq!(Probe.next().unwrap(), "Probe::next");
    }

    #[test]
    fn other_futures_are_the_users() {
        // (A user's `async` blocks and functions print as the ones of this
        // crate do, in the user's crate: see `Probe`.)
        assert_eq!(operation_name("app::main::{{closure}}"), USER_FUTURE);
        assert_eq!(operation_of(|()| std::future::ready(1)), USER_FUTURE);
        assert_eq!(
            operation_name("app::Orders::load::{{closure}}"),
            USER_FUTURE
        );
        assert_eq!(
            operation_name(
                "<app::Orders as core::iter::traits::iterator::Iterator>::next::{{closure}}"
            ),
            USER_FUTURE
        );
        // A future of the async crate that no async fn made.
        assert_eq!(
            operation_name("kurrentdbclient::Something<u8>"),
            USER_FUTURE
        );
    }

    #[test]
    fn generic_arguments_with_paths_and_arrows_stay_whole() {
        assert_eq!(
            operation_name(
                "kurrentdbclient::client::streams::<impl kurrentdbclient::client::AsyncKurrentDBClient>\
                 ::append_records<core::iter::adapters::map::Map<core::ops::range::Range<i32>, \
                 fn(i32) -> kurrentdbclient::types::NewRecord>, [kurrentdbclient::StreamStateCheck; 1]>\
                 ::{{closure}}"
            ),
            "KurrentDBClient::append_records"
        );
        assert_eq!(
            top_level_segments("a::<b::c as d::e>::f<g::h>::{{closure}}"),
            ["a", "<b::c as d::e>", "f<g::h>", "{{closure}}"]
        );
    }
}
