//! Versions as the store numbers them, and [`ExpectedVersion`] for optimistic
//! locking.
//!
//! The store numbers a stream's events from 1: the first event is version 1,
//! and a stream's version is the version of its last event, 0 when it does not
//! exist. KurrentDB numbers stream positions from 0, so version `n` is stream
//! position `n - 1`.

use std::fmt;

use kurrentdbclient::StreamState;

/// The version a stream must be at for an append to succeed (optimistic
/// locking).
///
/// `Exact(0)` means "the stream must not exist yet"; `Exact(n)` means "the
/// stream's last event must be version `n`"; `Any` skips the check. A `u64`
/// converts to `Exact`.
///
/// ```
/// use kurrentdb_event_store::ExpectedVersion;
/// assert_eq!(ExpectedVersion::from(3u64), ExpectedVersion::Exact(3));
/// assert_eq!(ExpectedVersion::NEW_STREAM, ExpectedVersion::Exact(0));
/// assert_eq!(ExpectedVersion::Any.to_string(), "any");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// No check: append whatever the stream's version.
    Any,
    /// The stream must be at exactly this version (0: must not exist).
    Exact(u64),
}

impl ExpectedVersion {
    /// The stream must not exist yet: `Exact(0)`.
    pub const NEW_STREAM: ExpectedVersion = ExpectedVersion::Exact(0);

    /// The client's [`StreamState`] for this expectation.
    ///
    /// ```
    /// use kurrentdb_event_store::ExpectedVersion;
    /// use kurrentdbclient::StreamState;
    /// assert_eq!(ExpectedVersion::Exact(0).to_stream_state(), StreamState::NoStream);
    /// assert_eq!(ExpectedVersion::Exact(3).to_stream_state(), StreamState::Version(2));
    /// assert_eq!(ExpectedVersion::Any.to_stream_state(), StreamState::Any);
    /// ```
    pub fn to_stream_state(self) -> StreamState {
        match self {
            ExpectedVersion::Any => StreamState::Any,
            ExpectedVersion::Exact(version) => state_of_version(version),
        }
    }

    /// The expectation a client [`StreamState`] stands for (`Exists`, which
    /// the store never sends, reads as `Any`).
    ///
    /// ```
    /// use kurrentdb_event_store::ExpectedVersion;
    /// use kurrentdbclient::StreamState;
    /// assert_eq!(
    ///     ExpectedVersion::from_stream_state(StreamState::Version(0)),
    ///     ExpectedVersion::Exact(1)
    /// );
    /// ```
    pub fn from_stream_state(state: StreamState) -> ExpectedVersion {
        match state {
            StreamState::NoStream => ExpectedVersion::Exact(0),
            StreamState::Version(position) => ExpectedVersion::Exact(position + 1),
            StreamState::Any | StreamState::Exists => ExpectedVersion::Any,
        }
    }
}

impl Default for ExpectedVersion {
    /// `Exact(0)`: a new stream, the reference API's default.
    fn default() -> Self {
        ExpectedVersion::NEW_STREAM
    }
}

impl From<u64> for ExpectedVersion {
    fn from(version: u64) -> Self {
        ExpectedVersion::Exact(version)
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::Exact(version) => write!(f, "{version}"),
        }
    }
}

/// The client's state for a store version (0: no stream).
pub(crate) fn state_of_version(version: u64) -> StreamState {
    match version {
        0 => StreamState::NoStream,
        version => StreamState::Version(version - 1),
    }
}

/// The store version of a client state (a stream position plus one; 0 when
/// there is no stream).
pub(crate) fn version_of_state(state: StreamState) -> u64 {
    match state {
        StreamState::Version(position) => position + 1,
        _ => 0,
    }
}
