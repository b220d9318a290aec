//! Stream names and event ids: where an aggregate's events and snapshots live.
//!
//! An aggregate instance is the stream `<aggregate type>-<aggregate id>`, so
//! that KurrentDB's `$by_category` projection (category = the name before the
//! first `-`, its default) groups every instance of a type in
//! `$ce-<aggregate type>`. Its snapshots are the stream
//! `snapshot-<aggregate type>-<aggregate id>`, of the category `snapshot`
//! (as `kurrentdb-event-store` names them): kept out of `$ce-<aggregate type>`,
//! and free of `$` (streams starting with `$` are KurrentDB's system streams,
//! readable by admins only).

use uuid::Uuid;

use crate::error::KurrentDBRepositoryError;

/// The namespace of the repository's event ids (UUID v5).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0xa126f21d_a236_41c7_b90d_d9e863c09f04);

/// Checks that `aggregate_type` can be a stream category.
pub(crate) fn check_aggregate_type(aggregate_type: &str) -> Result<(), KurrentDBRepositoryError> {
    if aggregate_type.is_empty() || aggregate_type.starts_with('$') || aggregate_type.contains('-')
    {
        return Err(KurrentDBRepositoryError::InvalidAggregateType(
            aggregate_type.to_owned(),
        ));
    }
    Ok(())
}

/// The stream of one aggregate instance's events.
pub(crate) fn event_stream(
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<String, KurrentDBRepositoryError> {
    check_aggregate_type(aggregate_type)?;
    if aggregate_id.is_empty() {
        return Err(KurrentDBRepositoryError::EmptyAggregateId);
    }
    Ok(format!("{aggregate_type}-{aggregate_id}"))
}

/// The stream of one aggregate instance's snapshots.
pub(crate) fn snapshot_stream(
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<String, KurrentDBRepositoryError> {
    Ok(format!(
        "snapshot-{}",
        event_stream(aggregate_type, aggregate_id)?
    ))
}

/// The prefix every event stream of `aggregate_type` starts with.
pub(crate) fn category_prefix(aggregate_type: &str) -> Result<String, KurrentDBRepositoryError> {
    check_aggregate_type(aggregate_type)?;
    Ok(format!("{aggregate_type}-"))
}

/// The aggregate id of an event stream of `aggregate_type`, or `None` when
/// the stream is not of that type.
pub(crate) fn aggregate_id_of<'a>(aggregate_type: &str, stream: &'a str) -> Option<&'a str> {
    stream
        .strip_prefix(aggregate_type)?
        .strip_prefix('-')
        .filter(|id| !id.is_empty())
}

/// The id of the event (or snapshot, `kind`) at `sequence` of an aggregate,
/// written by the commit `commit_id`: the same for every attempt of that
/// commit, so that an append sent again (after a lost answer) is recognised
/// by KurrentDB as written already, and different for another commit, so
/// that a concurrent commit at the same sequence is refused by the revision
/// check rather than taken for a retry.
pub(crate) fn event_id(
    kind: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: usize,
    commit_id: Uuid,
) -> Uuid {
    // Lengths first, so that no two different tuples give the same name.
    let name = format!(
        "{kind}/{}:{aggregate_type}/{}:{aggregate_id}/{sequence}/{commit_id}",
        aggregate_type.len(),
        aggregate_id.len()
    );
    Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_category_convention() {
        assert_eq!(event_stream("account", "a-1").unwrap(), "account-a-1");
        assert_eq!(
            snapshot_stream("account", "a-1").unwrap(),
            "snapshot-account-a-1"
        );
        assert_eq!(aggregate_id_of("account", "account-a-1"), Some("a-1"));
        assert_eq!(aggregate_id_of("account", "accounts-1"), None);
        assert_eq!(aggregate_id_of("account", "account-"), None);
    }

    #[test]
    fn bad_types_and_ids_are_named_errors() {
        for bad in ["", "$account", "bank-account"] {
            assert!(matches!(
                event_stream(bad, "1"),
                Err(KurrentDBRepositoryError::InvalidAggregateType(t)) if t == bad
            ));
        }
        assert!(matches!(
            event_stream("account", ""),
            Err(KurrentDBRepositoryError::EmptyAggregateId)
        ));
    }

    #[test]
    fn event_ids_are_stable_per_commit_and_differ_across_commits() {
        let commit = Uuid::new_v4();
        let a = event_id("event", "account", "1", 3, commit);
        assert_eq!(a, event_id("event", "account", "1", 3, commit));
        assert_ne!(a, event_id("event", "account", "1", 4, commit));
        assert_ne!(a, event_id("event", "account", "1", 3, Uuid::new_v4()));
        assert_ne!(a, event_id("snapshot", "account", "1", 3, commit));
        assert_ne!(
            event_id("event", "a", "b/1", 1, commit),
            event_id("event", "a/b", "1", 1, commit)
        );
    }
}
