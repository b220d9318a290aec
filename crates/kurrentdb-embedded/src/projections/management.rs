//! What the projection manager's calls take and answer: the new
//! projection, the delete options, the statistics and details, the
//! refusals, and who asks ([`RunAs`]). The gRPC Projections service and the
//! web UI build and read these the same way.

use super::state::PartitionState;

/// Why a management operation failed, as the service answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpError {
    /// NOT_FOUND "Projection '<name>' not found".
    NotFound(String),
    /// ALREADY_EXISTS with the reason.
    Conflict(String),
    /// FAILED_PRECONDITION with the reason (KurrentDB's OperationFailed).
    Failed(String),
    /// The caller may not change the projection (KurrentDB's
    /// `NotAuthorized`, see [`RunAs`]).
    NotAuthorized,
    /// A mode this server does not run (one-time and transient), with the
    /// reason.
    Unsupported(String),
    /// A create the handler refuses before the manager sees it (tracking
    /// emitted streams without emitting), with the reason.
    Invalid(String),
}

/// Who asks for a change to a projection, as KurrentDB's projection
/// manager checks it after the policy let the call in
/// (`ProjectionManagementMessage.RunAs.ValidateRunAs`): creating, updating,
/// enabling, disabling, resetting or deleting a projection that is not
/// transient (all of this server's) needs a caller in `$admins` or `$ops`;
/// anyone else is answered `NotAuthorized`, once the projection is known
/// to exist (a missing one is NOT_FOUND first). The authorizer answers the
/// same role check for `Operation::ProjectionsManage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunAs {
    /// A member of `$admins` or `$ops` (everyone, on an insecure server,
    /// where KurrentDB runs every call as its system account).
    Operator,
    /// Any other caller.
    User,
}

impl RunAs {
    /// [`RunAs::Operator`] when the caller passed the `$admins`-or-`$ops`
    /// check, else [`RunAs::User`].
    pub(crate) fn of(is_operator: bool) -> RunAs {
        if is_operator {
            RunAs::Operator
        } else {
            RunAs::User
        }
    }

    /// `Ok` for an operator, else [`OpError::NotAuthorized`].
    pub(super) fn check(self) -> Result<(), OpError> {
        match self {
            RunAs::Operator => Ok(()),
            RunAs::User => Err(OpError::NotAuthorized),
        }
    }
}

/// A projection's mode, as KurrentDB names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Runs once over what is written, without checkpoints (refused here).
    OneTime,
    /// A query's projection, kept in memory only (refused here: KurrentDB's
    /// newest servers deprecate them).
    Transient,
    /// Runs for ever, with checkpoints: the one mode this server runs.
    Continuous,
}

/// A projection's state and result, one per partition, with how many
/// there are: what the web UI shows (see `Projections::details`).
#[derive(Debug, Clone)]
pub(crate) struct Details {
    pub(crate) statistics: Statistics,
    pub(crate) query: String,
    pub(crate) emit_enabled: bool,
    pub(crate) track_emitted_streams: bool,
    /// One of the standard projections (its query is not JavaScript).
    pub(crate) standard: bool,
    /// The first partitions by name (`""` is the root partition of a
    /// projection that is not partitioned), each state and result cut to
    /// [`MAX_SHOWN_STATE`] bytes.
    pub(crate) partitions: Vec<(String, PartitionState)>,
    /// How many partitions have a state.
    pub(crate) partition_count: usize,
}

/// Bytes of a partition's state or result that `Projections::details`
/// copies, at most (a longer one is cut at a character boundary, and ends
/// with [`CUT_MARK`]).
pub(crate) const MAX_SHOWN_STATE: usize = 16 * 1024;

/// A projection's statistics, as the service reports them.
#[derive(Debug, Clone)]
pub(crate) struct Statistics {
    pub(crate) name: String,
    pub(crate) status: String,
    pub(crate) state_reason: String,
    pub(crate) mode: &'static str,
    pub(crate) position: String,
    pub(crate) progress: f32,
    pub(crate) last_checkpoint: String,
    pub(crate) events_processed: i64,
    pub(crate) buffered: i64,
    pub(crate) epoch: i64,
    pub(crate) version: i64,
    pub(crate) partitions_cached: i32,
}

/// The streams a projection's deletion deletes too (KurrentDB's delete
/// options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DeleteStreams {
    /// `$projections-<name>-checkpoint`.
    pub(crate) checkpoint_stream: bool,
    /// The state stream: KurrentDB 26.1 records the wish
    /// (`PersistedProjectionState.DeleteStateStream`) and deletes nothing
    /// for it; neither does this server.
    pub(crate) state_stream: bool,
    /// The emitted streams, when the projection tracked them.
    pub(crate) emitted_streams: bool,
}

/// What `create` is asked.
#[derive(Debug, Clone)]
pub(crate) struct NewProjection {
    pub(crate) name: String,
    pub(crate) mode: Mode,
    pub(crate) query: String,
    pub(crate) emit_enabled: bool,
    pub(crate) track_emitted_streams: bool,
}

/// `text`, or its first `max` bytes at most (cut at a character boundary)
/// followed by [`CUT_MARK`].
pub(super) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_MARK}", &text[..end])
}

/// What ends a text [`cut`] short.
pub(crate) const CUT_MARK: &str = " ... (cut)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_character_boundary_and_say_so() {
        assert_eq!(cut("short", 5), "short");
        assert_eq!(cut("abcdef", 4), format!("abcd{CUT_MARK}"));
        // "é" is two bytes: a cut inside it keeps it out.
        assert_eq!(cut("aé", 2), format!("a{CUT_MARK}"));
    }
}
