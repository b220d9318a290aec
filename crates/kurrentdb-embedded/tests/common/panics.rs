//! Every panic of the test process, seen: a panic hook ([`install`], once
//! per process, chained to the hook it replaces so the message still
//! prints) records each panic's thread, location and message, whichever
//! thread or task raised it (a handler, a spawned task of the server such
//! as a persistent subscription's ack task, a projection's thread, a
//! connection's task).
//!
//! A panic raised by test code, its location in a `tests/` directory of the
//! workspace (a failed assertion, an `expect` in a test), is the test's own
//! and is left to libtest. Any other panic (in the server's source, the
//! client's, a dependency or the standard library) is a bug of the code
//! under test: [`since`] lists them, and [`Watch`] fails its test when one
//! happened while it watched ([`Watch::server`]: one raised in the embedded
//! server's source, for test binaries whose clients panic on purpose).
//!
//! The root crate's client tests include this file too.

use std::panic::PanicHookInfo;
use std::path::{Component, Path};
use std::sync::{Mutex, Once, PoisonError};

/// One panic of the code under test.
#[derive(Debug, Clone)]
pub struct Panic {
    /// The panicking thread's name (`<unnamed>` when it has none).
    pub thread: String,
    /// `file:line:column`.
    pub location: String,
    /// The panic's message.
    pub message: String,
}

impl std::fmt::Display for Panic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "thread '{}' panicked at {}: {}",
            self.thread, self.location, self.message
        )
    }
}

/// Every panic since [`install`], in order; `None` for the tests' own.
static PANICS: Mutex<Vec<Option<Panic>>> = Mutex::new(Vec::new());

/// Installs the hook (once per process; later calls do nothing).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            record(info);
            previous(info);
        }));
    });
}

fn record(info: &PanicHookInfo<'_>) {
    let raised_by_code_under_test = info
        .location()
        .is_none_or(|l| !is_test_code(Path::new(l.file())));
    let panic = raised_by_code_under_test.then(|| Panic {
        thread: std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned(),
        location: info
            .location()
            .map_or_else(|| "an unknown location".to_owned(), ToString::to_string),
        message: info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(not a string)".to_owned()),
    });
    PANICS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(panic);
}

/// Test code: a workspace file (its path relative, as cargo passes them to
/// rustc) under a `tests` directory. Dependencies and the standard library
/// have absolute paths; the server's and the client's sources are under
/// `src/`.
fn is_test_code(file: &Path) -> bool {
    file.is_relative()
        && file
            .components()
            .any(|c| c == Component::Normal("tests".as_ref()))
}

/// How many panics (of any code) happened so far: a mark for [`since`].
pub fn mark() -> usize {
    PANICS.lock().unwrap_or_else(PoisonError::into_inner).len()
}

/// The panics of the code under test since `mark`.
pub fn since(mark: usize) -> Vec<Panic> {
    let panics = PANICS.lock().unwrap_or_else(PoisonError::into_inner);
    panics
        .get(mark..)
        .unwrap_or_default()
        .iter()
        .flatten()
        .cloned()
        .collect()
}

/// Panics (`what` said what ran) when the code under test panicked since
/// `mark`, naming each panic.
#[track_caller]
pub fn assert_none_since(mark: usize, what: &str) {
    let panics = since(mark);
    if !panics.is_empty() {
        let list: Vec<String> = panics.iter().map(|p| format!("  {p}")).collect();
        panic!(
            "{what}: the code under test panicked {} time(s):\n{}",
            panics.len(),
            list.join("\n")
        );
    }
}

/// Watches for panics of the code under test from its creation until it is
/// dropped, and then fails the test (unless the test is already failing)
/// when there was one. Tests run side by side in one process, so a panic of
/// another test's server is seen too: either way, the process saw a bug.
#[derive(Debug)]
pub struct Watch {
    mark: usize,
    server_only: bool,
}

/// Where the embedded server's source is, as cargo names a workspace
/// member's files to rustc.
const SERVER_SOURCE: &str = "crates/kurrentdb-embedded/src/";

impl Watch {
    /// Installs the hook and starts watching for panics of the code under
    /// test.
    pub fn start() -> Watch {
        install();
        Watch {
            mark: mark(),
            server_only: false,
        }
    }

    /// Installs the hook and starts watching for panics raised in the
    /// embedded server's source (on any thread).
    pub fn server() -> Watch {
        install();
        Watch {
            mark: mark(),
            server_only: true,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let what = "while this test ran (its server or another test's)";
        if !self.server_only {
            return assert_none_since(self.mark, what);
        }
        let panics: Vec<String> = since(self.mark)
            .into_iter()
            .filter(|p| p.location.starts_with(SERVER_SOURCE))
            .map(|p| format!("  {p}"))
            .collect();
        assert!(
            panics.is_empty(),
            "{what}: the embedded server panicked {} time(s):\n{}",
            panics.len(),
            panics.join("\n")
        );
    }
}
