//! The requests of the persistent-subscriptions service, built from each
//! operation's options: create and update (with the group settings they
//! carry), delete, info, list, replay, and the consumer's opening message.
//! Nothing here talks to the server.

use std::time::Duration;

use super::{ConsumerStrategy, SubscriptionInfo};
use crate::error::{Error, Result};
use crate::options::*;
use crate::proto::persistent as pp;
use crate::proto::shared::{Empty, StreamIdentifier};
use crate::streams::check_stream_name;
use crate::streams::filter_expression;
use crate::wire::stream_identifier;

/// Refuses an empty group name before anything is sent.
pub(crate) fn check_group_name(group_name: &str) -> Result<()> {
    if group_name.is_empty() {
        return Err(Error::Programming("the group name is empty".into()));
    }
    Ok(())
}

fn ms_i32(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

fn count_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// A group's stream (`Some`) or `$all` (`None`), as one of the per-message
/// `StreamOption` enums, given its two variants.
fn stream_or_all<T>(
    stream_name: Option<&str>,
    stream: fn(StreamIdentifier) -> T,
    all: fn(Empty) -> T,
) -> T {
    match stream_name {
        Some(name) => stream(stream_identifier(name)),
        None => all(Empty {}),
    }
}

// ---- where a group starts -----------------------------------------------------------

/// Where a group starts reading its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartFrom {
    Start,
    End,
    /// A stream position, or a commit position for `$all`.
    Position(u64),
}

impl StartFrom {
    /// A create's start: a position wins over `from_end`.
    fn new(position: Option<u64>, from_end: bool) -> StartFrom {
        match (position, from_end) {
            (Some(p), _) => StartFrom::Position(p),
            (None, true) => StartFrom::End,
            (None, false) => StartFrom::Start,
        }
    }

    /// An update's start: what the options say, else where the group starts
    /// now (an update resends every setting).
    fn updated(position: Option<u64>, from_end: Option<bool>, info: &SubscriptionInfo) -> Self {
        match (position, from_end) {
            (Some(p), _) => StartFrom::Position(p),
            (None, Some(from_end)) => StartFrom::new(None, from_end),
            (None, None) => StartFrom::current(info),
        }
    }

    /// The group's start as its info reports it: `start_from` is `"-1"` /
    /// `"C:-1/P:-1"` for the end, `"0"` / `"C:0/P:0"` for the start, else a
    /// position (`"C:p/P:p"` for `$all`).
    fn current(info: &SubscriptionInfo) -> StartFrom {
        let text = info
            .start_from
            .strip_prefix("C:")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(&info.start_from);
        match text.parse::<i64>() {
            Ok(-1) => StartFrom::End,
            Ok(0) | Err(_) => StartFrom::Start,
            Ok(n) => u64::try_from(n).map_or(StartFrom::Start, StartFrom::Position),
        }
    }

    /// As one of the per-message start enums, given its variants.
    fn to_proto<T>(
        self,
        start: fn(Empty) -> T,
        end: fn(Empty) -> T,
        at: impl FnOnce(u64) -> T,
    ) -> T {
        match self {
            StartFrom::Start => start(Empty {}),
            StartFrom::End => end(Empty {}),
            StartFrom::Position(p) => at(p),
        }
    }
}

// ---- group settings ---------------------------------------------------------------

/// A group's settings with every value decided: the options'
/// [`PersistentSubscriptionSettings`] over a base (see [`SettingsValues::with`]).
#[derive(Debug, Clone)]
struct SettingsValues {
    resolve_links: bool,
    extra_statistics: bool,
    message_timeout: Duration,
    max_retry_count: u32,
    min_checkpoint_count: u32,
    max_checkpoint_count: u32,
    checkpoint_after: Duration,
    max_subscriber_count: u32,
    live_buffer_size: u32,
    read_batch_size: u32,
    history_buffer_size: u32,
    consumer_strategy: ConsumerStrategy,
}

impl SettingsValues {
    /// The Python client's defaults: the base of a create.
    fn defaults() -> SettingsValues {
        SettingsValues {
            resolve_links: false,
            extra_statistics: false,
            message_timeout: DEFAULT_PERSISTENT_SUB_MESSAGE_TIMEOUT,
            max_retry_count: DEFAULT_PERSISTENT_SUB_MAX_RETRY_COUNT,
            min_checkpoint_count: DEFAULT_PERSISTENT_SUB_MIN_CHECKPOINT_COUNT,
            max_checkpoint_count: DEFAULT_PERSISTENT_SUB_MAX_CHECKPOINT_COUNT,
            checkpoint_after: DEFAULT_PERSISTENT_SUB_CHECKPOINT_AFTER,
            max_subscriber_count: DEFAULT_PERSISTENT_SUB_MAX_SUBSCRIBER_COUNT,
            live_buffer_size: DEFAULT_PERSISTENT_SUB_LIVE_BUFFER_SIZE,
            read_batch_size: DEFAULT_PERSISTENT_SUB_READ_BATCH_SIZE,
            history_buffer_size: DEFAULT_PERSISTENT_SUB_HISTORY_BUFFER_SIZE,
            consumer_strategy: ConsumerStrategy::default(),
        }
    }

    /// A group's current settings, as its info reports them: the base of an
    /// update.
    fn current(i: &SubscriptionInfo) -> SettingsValues {
        let n = |v: i32| u32::try_from(v).unwrap_or(0);
        SettingsValues {
            resolve_links: i.resolve_links,
            extra_statistics: i.extra_statistics,
            message_timeout: i.message_timeout,
            max_retry_count: n(i.max_retry_count),
            min_checkpoint_count: n(i.min_checkpoint_count),
            max_checkpoint_count: n(i.max_checkpoint_count),
            checkpoint_after: i.checkpoint_after,
            max_subscriber_count: n(i.max_subscriber_count),
            live_buffer_size: n(i.live_buffer_size),
            read_batch_size: n(i.read_batch_size),
            history_buffer_size: n(i.history_buffer_size),
            consumer_strategy: i.consumer_strategy.clone(),
        }
    }

    /// These values with each setting `settings` gives in their place (the
    /// one place a create's or an update's options become the group's
    /// settings).
    fn with(self, s: &PersistentSubscriptionSettings) -> SettingsValues {
        SettingsValues {
            resolve_links: s.resolve_links.unwrap_or(self.resolve_links),
            extra_statistics: s.extra_statistics.unwrap_or(self.extra_statistics),
            message_timeout: s.message_timeout.unwrap_or(self.message_timeout),
            max_retry_count: s.max_retry_count.unwrap_or(self.max_retry_count),
            min_checkpoint_count: s.min_checkpoint_count.unwrap_or(self.min_checkpoint_count),
            max_checkpoint_count: s.max_checkpoint_count.unwrap_or(self.max_checkpoint_count),
            checkpoint_after: s.checkpoint_after.unwrap_or(self.checkpoint_after),
            max_subscriber_count: s.max_subscriber_count.unwrap_or(self.max_subscriber_count),
            live_buffer_size: s.live_buffer_size.unwrap_or(self.live_buffer_size),
            read_batch_size: s.read_batch_size.unwrap_or(self.read_batch_size),
            history_buffer_size: s.history_buffer_size.unwrap_or(self.history_buffer_size),
            consumer_strategy: s
                .consumer_strategy
                .clone()
                .unwrap_or(self.consumer_strategy),
        }
    }

    // `create` and `update` fill two generated messages that have the same
    // fields but are distinct types (and differ in the strategy fields).
    fn create(&self) -> pp::create_req::Settings {
        use pp::create_req::settings::{CheckpointAfter, MessageTimeout};
        pp::create_req::Settings {
            resolve_links: self.resolve_links,
            revision: 0,
            extra_statistics: self.extra_statistics,
            message_timeout: Some(MessageTimeout::MessageTimeoutMs(ms_i32(
                self.message_timeout,
            ))),
            max_retry_count: count_i32(self.max_retry_count),
            checkpoint_after: Some(CheckpointAfter::CheckpointAfterMs(ms_i32(
                self.checkpoint_after,
            ))),
            min_checkpoint_count: count_i32(self.min_checkpoint_count),
            max_checkpoint_count: count_i32(self.max_checkpoint_count),
            max_subscriber_count: count_i32(self.max_subscriber_count),
            live_buffer_size: count_i32(self.live_buffer_size),
            read_batch_size: count_i32(self.read_batch_size),
            history_buffer_size: count_i32(self.history_buffer_size),
            named_consumer_strategy: self.consumer_strategy.number().unwrap_or(0),
            consumer_strategy: self.consumer_strategy.as_str().to_owned(),
        }
    }

    fn update(&self) -> Result<pp::update_req::Settings> {
        use pp::update_req::settings::{CheckpointAfter, MessageTimeout};
        Ok(pp::update_req::Settings {
            resolve_links: self.resolve_links,
            revision: 0,
            extra_statistics: self.extra_statistics,
            message_timeout: Some(MessageTimeout::MessageTimeoutMs(ms_i32(
                self.message_timeout,
            ))),
            max_retry_count: count_i32(self.max_retry_count),
            checkpoint_after: Some(CheckpointAfter::CheckpointAfterMs(ms_i32(
                self.checkpoint_after,
            ))),
            min_checkpoint_count: count_i32(self.min_checkpoint_count),
            max_checkpoint_count: count_i32(self.max_checkpoint_count),
            max_subscriber_count: count_i32(self.max_subscriber_count),
            live_buffer_size: count_i32(self.live_buffer_size),
            read_batch_size: count_i32(self.read_batch_size),
            history_buffer_size: count_i32(self.history_buffer_size),
            named_consumer_strategy: self.consumer_strategy.number()?,
        })
    }
}

// ---- create / update ----------------------------------------------------------------

/// The `CreateReq` of a group on `$all`, after checking the group name.
pub(crate) fn create_to_all(
    group_name: &str,
    o: &CreateSubscriptionToAllOptions,
) -> Result<pp::CreateReq> {
    use pp::create_req::all_options::filter_options::{Expression, Filter, Window};
    use pp::create_req::all_options::{AllOption, FilterOption, FilterOptions};
    check_group_name(group_name)?;
    let all_option = StartFrom::new(o.commit_position, o.from_end).to_proto(
        AllOption::Start,
        AllOption::End,
        |p| {
            AllOption::Position(pp::create_req::Position {
                commit_position: p,
                prepare_position: p,
            })
        },
    );
    let exclude = crate::options::effective_exclude(&o.filter_exclude);
    let filter_option = if o.filter_include.is_empty() && exclude.is_empty() {
        FilterOption::NoFilter(Empty {})
    } else {
        let (regex, prefix) = filter_expression(&o.filter_include, &exclude, o.filter_by_prefix);
        let expression = Expression { regex, prefix };
        FilterOption::Filter(FilterOptions {
            filter: Some(if o.filter_by_stream_name {
                Filter::StreamIdentifier(expression)
            } else {
                Filter::EventType(expression)
            }),
            window: Some(Window::Max(o.window_size.unwrap_or(DEFAULT_WINDOW_SIZE))),
            checkpoint_interval_multiplier: o
                .checkpoint_interval_multiplier
                .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER),
        })
    };
    let all = pp::create_req::AllOptions {
        all_option: Some(all_option),
        filter_option: Some(filter_option),
    };
    let settings = SettingsValues::defaults().with(&o.settings);
    Ok(create_request(
        group_name,
        &settings,
        pp::create_req::options::StreamOption::All(all),
    ))
}

/// The `CreateReq` of a group on one stream, after checking both names.
pub(crate) fn create_to_stream(
    group_name: &str,
    stream_name: &str,
    o: &CreateSubscriptionToStreamOptions,
) -> Result<pp::CreateReq> {
    use pp::create_req::stream_options::RevisionOption;
    check_group_name(group_name)?;
    check_stream_name(stream_name)?;
    let revision = StartFrom::new(o.stream_position, o.from_end).to_proto(
        RevisionOption::Start,
        RevisionOption::End,
        RevisionOption::Revision,
    );
    let stream = pp::create_req::StreamOptions {
        stream_identifier: Some(stream_identifier(stream_name)),
        revision_option: Some(revision),
    };
    let settings = SettingsValues::defaults().with(&o.settings);
    Ok(create_request(
        group_name,
        &settings,
        pp::create_req::options::StreamOption::Stream(stream),
    ))
}

fn create_request(
    group_name: &str,
    settings: &SettingsValues,
    stream_option: pp::create_req::options::StreamOption,
) -> pp::CreateReq {
    pp::CreateReq {
        options: Some(pp::create_req::Options {
            stream_identifier: None,
            group_name: group_name.to_owned(),
            settings: Some(settings.create()),
            stream_option: Some(stream_option),
        }),
    }
}

/// The `UpdateReq` of a group on `$all`: unset options keep the values `info`
/// (the group's current info) reports.
pub(crate) fn update_to_all(
    group_name: &str,
    o: &UpdateSubscriptionToAllOptions,
    info: &SubscriptionInfo,
) -> Result<pp::UpdateReq> {
    use pp::update_req::all_options::AllOption;
    let all_option = StartFrom::updated(o.commit_position, o.from_end, info).to_proto(
        AllOption::Start,
        AllOption::End,
        |p| {
            AllOption::Position(pp::update_req::Position {
                commit_position: p,
                prepare_position: p,
            })
        },
    );
    let all = pp::update_req::AllOptions {
        all_option: Some(all_option),
    };
    let settings = SettingsValues::current(info).with(&o.settings);
    update_request(
        group_name,
        &settings,
        pp::update_req::options::StreamOption::All(all),
    )
}

/// The `UpdateReq` of a group on one stream (see [`update_to_all`]).
pub(crate) fn update_to_stream(
    group_name: &str,
    stream_name: &str,
    o: &UpdateSubscriptionToStreamOptions,
    info: &SubscriptionInfo,
) -> Result<pp::UpdateReq> {
    use pp::update_req::stream_options::RevisionOption;
    let revision = StartFrom::updated(o.stream_position, o.from_end, info).to_proto(
        RevisionOption::Start,
        RevisionOption::End,
        RevisionOption::Revision,
    );
    let stream = pp::update_req::StreamOptions {
        stream_identifier: Some(stream_identifier(stream_name)),
        revision_option: Some(revision),
    };
    let settings = SettingsValues::current(info).with(&o.settings);
    update_request(
        group_name,
        &settings,
        pp::update_req::options::StreamOption::Stream(stream),
    )
}

fn update_request(
    group_name: &str,
    settings: &SettingsValues,
    stream_option: pp::update_req::options::StreamOption,
) -> Result<pp::UpdateReq> {
    Ok(pp::UpdateReq {
        options: Some(pp::update_req::Options {
            stream_identifier: None,
            group_name: group_name.to_owned(),
            settings: Some(settings.update()?),
            stream_option: Some(stream_option),
        }),
    })
}

// ---- delete / info / list / replay / read ---------------------------------------------

/// The `DeleteReq` of a group of `stream_name` (`$all` when `None`).
pub(crate) fn delete(group_name: &str, stream_name: Option<&str>) -> Result<pp::DeleteReq> {
    use pp::delete_req::options::StreamOption;
    check_group_name(group_name)?;
    Ok(pp::DeleteReq {
        options: Some(pp::delete_req::Options {
            stream_option: Some(stream_or_all(
                stream_name,
                StreamOption::StreamIdentifier,
                StreamOption::All,
            )),
            group_name: group_name.to_owned(),
        }),
    })
}

/// The `GetInfoReq` of a group of `stream_name` (`$all` when `None`).
pub(crate) fn get_info(group_name: &str, stream_name: Option<&str>) -> Result<pp::GetInfoReq> {
    use pp::get_info_req::options::StreamOption;
    check_group_name(group_name)?;
    Ok(pp::GetInfoReq {
        options: Some(pp::get_info_req::Options {
            stream_option: Some(stream_or_all(
                stream_name,
                StreamOption::StreamIdentifier,
                StreamOption::All,
            )),
            group_name: group_name.to_owned(),
        }),
    })
}

/// The `ListReq` of every group.
pub(crate) fn list_all() -> pp::ListReq {
    list_request(pp::list_req::options::ListOption::ListAllSubscriptions(
        Empty {},
    ))
}

/// The `ListReq` of the groups of one stream (`"$all"` names the groups on all
/// streams), after checking the name.
pub(crate) fn list_for_stream(stream_name: &str) -> Result<pp::ListReq> {
    use pp::list_req::stream_option::StreamOption;
    check_stream_name(stream_name)?;
    let stream = (stream_name != "$all").then_some(stream_name);
    Ok(list_request(
        pp::list_req::options::ListOption::ListForStream(pp::list_req::StreamOption {
            stream_option: Some(stream_or_all(
                stream,
                StreamOption::Stream,
                StreamOption::All,
            )),
        }),
    ))
}

fn list_request(list_option: pp::list_req::options::ListOption) -> pp::ListReq {
    pp::ListReq {
        options: Some(pp::list_req::Options {
            list_option: Some(list_option),
        }),
    }
}

/// The `ReplayParkedReq` of a group of `stream_name` (`$all` when `None`).
pub(crate) fn replay_parked(
    group_name: &str,
    stream_name: Option<&str>,
    options: &ReplayParkedEventsOptions,
) -> Result<pp::ReplayParkedReq> {
    use pp::replay_parked_req::options::{StopAtOption, StreamOption};
    check_group_name(group_name)?;
    let stop_at = match options.stop_at {
        Some(n) => StopAtOption::StopAt(i64::try_from(n).unwrap_or(i64::MAX)),
        None => StopAtOption::NoLimit(Empty {}),
    };
    Ok(pp::ReplayParkedReq {
        options: Some(pp::replay_parked_req::Options {
            group_name: group_name.to_owned(),
            stream_option: Some(stream_or_all(
                stream_name,
                StreamOption::StreamIdentifier,
                StreamOption::All,
            )),
            stop_at_option: Some(stop_at),
        }),
    })
}

/// The first message of a consumer's `Read` call: which group to join, and how
/// many unacknowledged events the server may send (`buffer_size`, positive).
pub(crate) fn consumer_options(
    group_name: &str,
    stream_name: Option<&str>,
    buffer_size: u32,
) -> pp::ReadReq {
    use pp::read_req::options::{StreamOption, UuidOption, uuid_option};
    pp::ReadReq {
        content: Some(pp::read_req::Content::Options(pp::read_req::Options {
            stream_option: Some(stream_or_all(
                stream_name,
                StreamOption::StreamIdentifier,
                StreamOption::All,
            )),
            group_name: group_name.to_owned(),
            buffer_size: count_i32(buffer_size),
            uuid_option: Some(UuidOption {
                content: Some(uuid_option::Content::String(Empty {})),
            }),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(start_from: &str) -> SubscriptionInfo {
        SubscriptionInfo {
            start_from: start_from.to_owned(),
            ..SubscriptionInfo::from_proto(pp::SubscriptionInfo::default())
        }
    }

    #[test]
    fn an_update_keeps_the_start_unless_told() {
        for (text, current) in [
            ("-1", StartFrom::End),
            ("C:-1/P:-1", StartFrom::End),
            ("0", StartFrom::Start),
            ("C:0/P:0", StartFrom::Start),
            ("7", StartFrom::Position(7)),
            ("C:42/P:42", StartFrom::Position(42)),
        ] {
            let info = info(text);
            assert_eq!(StartFrom::updated(None, None, &info), current, "{text}");
            assert_eq!(StartFrom::updated(None, Some(true), &info), StartFrom::End);
            assert_eq!(
                StartFrom::updated(None, Some(false), &info),
                StartFrom::Start
            );
            assert_eq!(
                StartFrom::updated(Some(3), Some(true), &info),
                StartFrom::Position(3)
            );
        }
    }
}
