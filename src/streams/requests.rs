//! The request messages of the v1 streams operations: appends, deletes and
//! tombstones, reads and catch-up subscriptions (with their `$all` filters).
//! Each operation's options go in, the proto message comes out; nothing here
//! talks to the server.

use crate::options::{
    DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER, DEFAULT_WINDOW_SIZE, GetCommitPositionOptions,
    ReadAllOptions, ReadStreamOptions, SubscribeToAllOptions, SubscribeToStreamOptions,
};
use crate::proto::shared::Empty;
use crate::proto::streams::{self as pst, ReadReq, read_req};
use crate::types::{NewEvent, StreamState};

use crate::wire::{stream_identifier, uuid_to_proto};

// ---- append / delete / tombstone ------------------------------------------------

/// `current_version` as one of the per-message `ExpectedStreamRevision` enums
/// (append, delete and tombstone each declare their own), given its variants.
fn expected_revision<T>(
    current_version: StreamState,
    any: fn(Empty) -> T,
    no_stream: fn(Empty) -> T,
    exists: fn(Empty) -> T,
    revision: fn(u64) -> T,
) -> T {
    match current_version {
        StreamState::Any => any(Empty {}),
        StreamState::NoStream => no_stream(Empty {}),
        StreamState::Exists => exists(Empty {}),
        StreamState::Version(v) => revision(v),
    }
}

/// The `AppendReq` messages of one append: options, then one per event. Kept as
/// a `Vec` so that a retry resends exactly the same ids (payloads are `Bytes`,
/// so cloning shares them).
pub(crate) fn append_requests(
    stream_name: &str,
    current_version: StreamState,
    events: &[NewEvent],
) -> Vec<pst::AppendReq> {
    use pst::append_req::options::ExpectedStreamRevision as E;
    let expected = expected_revision(
        current_version,
        E::Any,
        E::NoStream,
        E::StreamExists,
        E::Revision,
    );
    let mut reqs = Vec::with_capacity(events.len() + 1);
    reqs.push(pst::AppendReq {
        content: Some(pst::append_req::Content::Options(
            pst::append_req::Options {
                stream_identifier: Some(stream_identifier(stream_name)),
                expected_stream_revision: Some(expected),
            },
        )),
    });
    for event in events {
        let mut metadata = std::collections::HashMap::with_capacity(2);
        metadata.insert("type".to_owned(), event.r#type.clone());
        metadata.insert("content-type".to_owned(), event.content_type.clone());
        reqs.push(pst::AppendReq {
            content: Some(pst::append_req::Content::ProposedMessage(
                pst::append_req::ProposedMessage {
                    id: Some(uuid_to_proto(event.id)),
                    metadata,
                    custom_metadata: event.metadata.clone(),
                    data: event.data.clone(),
                },
            )),
        });
    }
    reqs
}

/// The `DeleteReq` of a soft delete.
pub(crate) fn delete_request(stream_name: &str, current_version: StreamState) -> pst::DeleteReq {
    use pst::delete_req::options::ExpectedStreamRevision as E;
    pst::DeleteReq {
        options: Some(pst::delete_req::Options {
            stream_identifier: Some(stream_identifier(stream_name)),
            expected_stream_revision: Some(expected_revision(
                current_version,
                E::Any,
                E::NoStream,
                E::StreamExists,
                E::Revision,
            )),
        }),
    }
}

/// The `TombstoneReq` of a hard delete.
pub(crate) fn tombstone_request(
    stream_name: &str,
    current_version: StreamState,
) -> pst::TombstoneReq {
    use pst::tombstone_req::options::ExpectedStreamRevision as E;
    pst::TombstoneReq {
        options: Some(pst::tombstone_req::Options {
            stream_identifier: Some(stream_identifier(stream_name)),
            expected_stream_revision: Some(expected_revision(
                current_version,
                E::Any,
                E::NoStream,
                E::StreamExists,
                E::Revision,
            )),
        }),
    }
}

// ---- read ------------------------------------------------------------------------

/// Where a read or subscription starts.
#[derive(Debug, Clone)]
enum ReadFrom {
    Stream {
        name: String,
        position: Option<u64>,
        from_end: bool,
    },
    All {
        commit_position: Option<u64>,
        from_end: bool,
    },
}

/// How many events a `Read` call asks for.
#[derive(Debug, Clone, Copy)]
enum ReadCount {
    /// A read: at most this many events (all when `None`), then the call ends.
    Limit(Option<u64>),
    /// A catch-up subscription: the stored events, then live ones, no end.
    Subscription,
}

/// A `$all` filter.
#[derive(Debug, Clone, Default)]
struct Filter {
    include: Vec<String>,
    exclude: Vec<String>,
    by_stream_name: bool,
    by_prefix: bool,
    window_size: u32,
    checkpoint_interval_multiplier: u32,
}

/// Everything a `ReadReq` says, by name.
struct ReadSpec<'a> {
    from: ReadFrom,
    backwards: bool,
    resolve_links: bool,
    count: ReadCount,
    filter: Option<&'a Filter>,
}

/// `^a|b$`: the Python client's include regex.
pub fn construct_filter_include_regex(patterns: &[String]) -> String {
    format!("^{}$", patterns.join("|"))
}

/// `^(?!(a$|b$))`: the Python client's exclude regex.
pub fn construct_filter_exclude_regex(patterns: &[String]) -> String {
    let alternatives: Vec<String> = patterns.iter().map(|p| format!("{p}$")).collect();
    format!("^(?!({}))", alternatives.join("|"))
}

/// The `ReadReq` of `read_stream` and `get_stream`.
pub(crate) fn read_stream_request(stream_name: &str, options: &ReadStreamOptions) -> ReadReq {
    read_request(ReadSpec {
        from: ReadFrom::Stream {
            name: stream_name.to_owned(),
            position: options.stream_position,
            from_end: false,
        },
        backwards: options.backwards,
        resolve_links: options.resolve_links,
        count: ReadCount::Limit(options.limit),
        filter: None,
    })
}

/// The regular expression and the prefixes of a `$all` filter (of a read, a
/// subscription or a persistent group): the include patterns as prefixes when
/// `by_prefix`, else one regex of them, else one regex excluding `exclude`.
pub(crate) fn filter_expression(
    include: &[String],
    exclude: &[String],
    by_prefix: bool,
) -> (String, Vec<String>) {
    if by_prefix && !include.is_empty() {
        (String::new(), include.to_vec())
    } else if !include.is_empty() {
        (construct_filter_include_regex(include), Vec::new())
    } else {
        (construct_filter_exclude_regex(exclude), Vec::new())
    }
}

/// The `ReadReq` of `read_all` (and `get_commit_position`), filtered with the
/// default search window.
pub(crate) fn read_all_request(options: &ReadAllOptions) -> ReadReq {
    let filter = Filter {
        include: options.filter_include.clone(),
        exclude: options.effective_exclude(),
        by_stream_name: options.filter_by_stream_name,
        by_prefix: options.filter_by_prefix,
        window_size: DEFAULT_WINDOW_SIZE,
        checkpoint_interval_multiplier: DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER,
    };
    read_request(ReadSpec {
        from: ReadFrom::All {
            commit_position: options.commit_position,
            from_end: false,
        },
        backwards: options.backwards,
        resolve_links: options.resolve_links,
        count: ReadCount::Limit(options.limit),
        filter: Some(&filter),
    })
}

/// The `ReadReq` of `get_commit_position`: the last event of `$all` that
/// passes the filters.
pub(crate) fn last_commit_request(options: &GetCommitPositionOptions) -> ReadReq {
    let mut read = ReadAllOptions::default().backwards(true).limit(1);
    read.filter_include = options.filter_include.clone();
    read.filter_exclude = options.filter_exclude.clone();
    read.filter_by_stream_name = options.filter_by_stream_name;
    read_all_request(&read)
}

/// The `ReadReq` of `subscribe_to_all`.
pub(crate) fn subscribe_to_all_request(options: &SubscribeToAllOptions) -> ReadReq {
    let filter = Filter {
        include: options.filter_include.clone(),
        exclude: options.effective_exclude(),
        by_stream_name: options.filter_by_stream_name,
        by_prefix: options.filter_by_prefix,
        window_size: options.window_size.unwrap_or(DEFAULT_WINDOW_SIZE),
        checkpoint_interval_multiplier: options
            .checkpoint_interval_multiplier
            .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER),
    };
    read_request(ReadSpec {
        from: ReadFrom::All {
            commit_position: options.commit_position,
            from_end: options.from_end,
        },
        backwards: false,
        resolve_links: options.resolve_links,
        count: ReadCount::Subscription,
        filter: Some(&filter),
    })
}

/// The `ReadReq` of `subscribe_to_stream`.
pub(crate) fn subscribe_to_stream_request(
    stream_name: &str,
    options: &SubscribeToStreamOptions,
) -> ReadReq {
    read_request(ReadSpec {
        from: ReadFrom::Stream {
            name: stream_name.to_owned(),
            position: options.stream_position,
            from_end: options.from_end,
        },
        backwards: false,
        resolve_links: options.resolve_links,
        count: ReadCount::Subscription,
        filter: None,
    })
}

/// The `ReadReq` of a read or a catch-up subscription.
fn read_request(spec: ReadSpec<'_>) -> ReadReq {
    use read_req::options::{
        self as o, AllOptions, CountOption, FilterOption, ReadDirection, StreamOption,
        StreamOptions, UuidOption, all_options::AllOption, stream_options::RevisionOption,
    };
    let backwards = spec.backwards;
    let stream_option = match spec.from {
        ReadFrom::Stream {
            name,
            position,
            from_end,
        } => {
            let revision = match (position, from_end, backwards) {
                (Some(p), _, _) => RevisionOption::Revision(p),
                (None, true, _) | (None, false, true) => RevisionOption::End(Empty {}),
                (None, false, false) => RevisionOption::Start(Empty {}),
            };
            StreamOption::Stream(StreamOptions {
                stream_identifier: Some(stream_identifier(&name)),
                revision_option: Some(revision),
            })
        }
        ReadFrom::All {
            commit_position,
            from_end,
        } => {
            let all = match (commit_position, from_end, backwards) {
                (Some(p), _, _) => AllOption::Position(o::Position {
                    commit_position: p,
                    prepare_position: p,
                }),
                (None, true, _) | (None, false, true) => AllOption::End(Empty {}),
                (None, false, false) => AllOption::Start(Empty {}),
            };
            StreamOption::All(AllOptions {
                all_option: Some(all),
            })
        }
    };
    let count_option = match spec.count {
        ReadCount::Subscription => CountOption::Subscription(o::SubscriptionOptions {}),
        ReadCount::Limit(limit) => CountOption::Count(limit.unwrap_or(i64::MAX as u64)),
    };
    let filter_option = match spec.filter {
        Some(f) if !f.include.is_empty() || !f.exclude.is_empty() => {
            let (regex, prefix) = filter_expression(&f.include, &f.exclude, f.by_prefix);
            let expression = o::filter_options::Expression { regex, prefix };
            let which = if f.by_stream_name {
                o::filter_options::Filter::StreamIdentifier(expression)
            } else {
                o::filter_options::Filter::EventType(expression)
            };
            FilterOption::Filter(o::FilterOptions {
                filter: Some(which),
                window: Some(o::filter_options::Window::Max(f.window_size)),
                checkpoint_interval_multiplier: f.checkpoint_interval_multiplier,
            })
        }
        _ => FilterOption::NoFilter(Empty {}),
    };
    ReadReq {
        options: Some(read_req::Options {
            stream_option: Some(stream_option),
            read_direction: if backwards {
                ReadDirection::Backwards as i32
            } else {
                ReadDirection::Forwards as i32
            },
            resolve_links: spec.resolve_links,
            count_option: Some(count_option),
            filter_option: Some(filter_option),
            uuid_option: Some(UuidOption {
                content: Some(o::uuid_option::Content::String(Empty {})),
            }),
            control_option: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_regexes_match_the_python_client() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(construct_filter_include_regex(&p(&["a", "b"])), "^a|b$");
        assert_eq!(
            construct_filter_exclude_regex(&p(&[r"\$.+", r"PersistentConfig\d+", "Result"])),
            r"^(?!(\$.+$|PersistentConfig\d+$|Result$))"
        );
    }
}
