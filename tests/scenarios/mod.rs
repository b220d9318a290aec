//! Client scenarios, written once against
//! [`ClientUnderTest`](crate::common::harness::ClientUnderTest) and run through both
//! the async and the blocking API. Each names what it proves; the ones named
//! after a reference page repeat that page's examples and assert the same
//! outcomes. One file per topic; the scenarios that only connect (connection
//! strings) are in `tests/connection_strings.rs`.
//!
//! `for_each_scenario!(Client)` expands to one test per scenario run through
//! `Client`, so a scenario added to its list runs through both APIs.

mod access;
mod appending;
mod bearer;
mod cluster;
mod connection;
mod deleting;
mod embedded_cluster;
mod metadata;
mod operations;
mod persistent;
mod persistent_stats;
mod projections;
mod reading;
mod reference_pages;
mod subscriptions;
mod user_certificates;
mod users;

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::options::AppendToStreamOptions;
use kurrentdbclient::{NewEvent, RecordedEvent, StreamState, SubscriptionItem};

use crate::common::harness::{ClientUnderTest, TestSubscription};

pub use access::*;
pub use appending::*;
pub use bearer::*;
pub use cluster::*;
pub use connection::*;
pub use deleting::*;
pub use embedded_cluster::*;
pub use metadata::*;
pub use operations::*;
pub use persistent::*;
pub use persistent_stats::*;
pub use projections::*;
pub use reading::*;
pub use reference_pages::*;
pub use subscriptions::*;
pub use user_certificates::*;
pub use users::*;

/// One test per scenario of this module, each run through `$client` (a
/// `ClientUnderTest`), in three modules of tests:
///
/// - `insecure_server` and `dev_server`: the scenarios that run in both server
///   modes ([`Mode`](crate::common::Mode)), each against an insecure server and
///   against a `--dev` (TLS, `admin:changeit`) server: shared by the test
///   binary, shared by the projection scenarios, or its own;
/// - `insecure_server` also runs the few that need a plain HTTP/2 server
///   (listed there with the reason);
/// - `own_setup`: the scenarios that start the servers (or listeners) they
///   need themselves, in the mode they test, so the server mode does not
///   apply to them: the user and access scenarios (their own dev servers),
///   the connection scenarios on a listener or TLS server of their own, and
///   the embedded clusters (insecure; one dev cluster scenario covers TLS).
#[macro_export]
macro_rules! for_each_scenario {
    ($client:ty) => {
        /// The scenarios against insecure servers.
        mod insecure_server {
            use super::*;
            $crate::scenarios_in_mode!($client, Insecure);
            $crate::scenario_tests!(
                $client,
                Insecure,
                scenarios,
                shared_server;
                // connection.rs: credentials sent over `tls=false` is about
                // an insecure connection.
                credentials_are_sent_over_insecure_connections,
                // connection.rs, cluster.rs: the dropping proxy and the fake
                // follower read plain HTTP/2 frames, so they need a plain server.
                retry_after_dropped_connection_writes_no_duplicate,
                not_leader_reconnects_to_the_leader,
            );
        }
        /// The same scenarios against `--dev` (TLS) servers, as `admin:changeit`.
        mod dev_server {
            use super::*;
            $crate::scenarios_in_mode!($client, Secure);
        }
        /// The scenarios that start what they need (see above).
        mod own_setup {
            use super::*;
            $crate::scenario_tests!(
                $client,
                Insecure,
                scenarios,
                shared_server;
                // connection.rs
                missing_tls_files_fail_at_connect,
                unreachable_server_is_service_unavailable,
                default_deadline_applies,
                tls_ca_file_credentials_and_call_metadata,
                dev_server_speaks_tls,
                // users.rs
                user_management_round_trip,
                basic_credentials_are_authenticated,
                // user_certificates.rs
                user_certificates_log_in_as_their_common_name,
                // access.rs
                stream_acls_decide_who_reads_writes_and_deletes,
                system_streams_all_and_settings_are_for_admins,
                ops_and_user_limits,
                anonymous_and_refused_credentials,
                // bearer.rs
                bearer_tokens_per_client_and_per_call,
                stream_acls_decide_by_the_tokens_roles,
                bad_tokens_are_refused_and_write_nothing,
                a_subscription_outlives_its_token,
            );
            $crate::scenario_tests!(
                $client,
                Insecure,
                scenarios,
                own_cluster;
                // embedded_cluster.rs
                each_node_preference_lands_on_a_node_of_that_role,
                a_write_through_a_follower_connection_reaches_the_leader,
                the_client_follows_a_new_leader_after_the_leader_stops,
                chaos_appends_and_a_resumable_subscription_survive_ten_leader_stops,
                chaos_a_resumable_persistent_subscription_keeps_consuming_across_ten_leader_stops,
                a_resumable_subscription_from_the_end_skips_nothing_appended_while_it_was_lost,
                discovery_through_a_dns_name_finds_the_leader,
                // operations.rs
                priority_and_resignation_move_leadership,
                a_dev_cluster_is_discovered_over_tls_and_followed_through_a_resign,
            );
        }
    };
}

/// The scenarios that run in both server modes, through `$client` in `Mode::$mode`.
#[macro_export]
macro_rules! scenarios_in_mode {
    ($client:ty, $mode:ident) => {
        $crate::scenario_tests!(
            $client,
            $mode,
            scenarios,
            shared_server;
            // reference_pages.rs
            getting_started_reference_page,
            appending_reference_page,
            deleting_reference_page,
            // appending.rs
            wrong_current_version_carries_stream_expected_actual,
            append_stream_states_exists_and_any,
            append_is_idempotent_with_same_ids,
            append_returns_increasing_commit_positions,
            append_octet_stream_and_metadata_round_trip,
            multi_append_to_same_stream_is_refused,
            multi_append_wrong_current_version,
            multi_append_metadata_restrictions,
            append_records_consistency_checks_report_every_failure,
            append_records_checks_on_deleted_and_tombstoned_streams,
            append_records_metadata_restrictions,
            empty_names_and_types_are_programming_errors,
            maximum_append_size_exceeded,
            // reading.rs
            read_stream_options,
            read_missing_stream_is_not_found_at_call_time,
            read_all_options_and_filters,
            read_all_excludes_system_events_by_default,
            resolve_links,
            get_commit_position_with_filters,
            secondary_indexes_hold_a_category_or_type_in_commit_order,
            // deleting.rs
            delete_then_append_reopens_stream,
            delete_wrong_version_and_missing_stream,
            tombstoned_stream_is_deleted_for_every_operation,
            delete_of_a_never_existing_stream_is_not_found,
            // metadata.rs
            stream_metadata_typed_keys_round_trip,
            stream_metadata_consistency_check,
            stream_metadata_unexpected_shapes_are_kept,
            // subscriptions.rs
            subscribe_to_stream_catches_up_then_goes_live,
            subscribe_to_stream_from_position_and_from_end,
            subscribe_to_all_with_filters_checkpoints_and_caught_up,
            subscribe_to_all_reports_fell_behind_when_asked,
            subscribe_to_stream_reports_fell_behind_when_asked,
            subscription_stop_ends_the_stream,
            subscription_timeout_is_deadline_exceeded,
            // connection.rs
            calls_after_close_give_client_closed,
            // cluster.rs
            gossip_and_server_info,
            cluster_seeds_are_discovered_through_gossip,
        );
        $crate::scenario_tests!(
            $client,
            $mode,
            scenarios,
            projection_server;
            // projections.rs
            standard_projections_write_links_to_their_streams,
            deleted_streams_show_in_category_streams,
            projection_errors_are_not_found_already_exists_and_failed,
            projection_statistics_are_listed,
            projection_lifecycle,
            an_empty_query_never_starts,
            failing_projections_fault_themselves,
            documented_projection_examples,
            projection_results_transforms_and_shared_state,
        );
        $crate::scenario_tests!(
            $client,
            $mode,
            scenarios,
            own_server;
            // persistent.rs
            a_group_from_the_start_receives_every_event_once,
            a_nacked_event_comes_back_with_a_higher_retry_count,
            an_unacked_event_is_retried_after_the_message_timeout,
            an_unacked_event_is_retried_to_the_limit_then_parked_and_the_rest_follow_in_order,
            a_parked_event_lands_in_the_parked_stream_and_comes_back_on_replay,
            round_robin_consumers_share_the_events,
            a_deleted_and_recreated_group_starts_over,
            a_reconnecting_consumer_resumes_after_the_checkpoint,
            info_and_list_report_what_happened,
            errors_are_already_exists_not_found_and_maximum_subscribers,
            a_group_on_all_streams_with_a_filter,
            acking_the_received_event_settles_a_resolved_link,
            persistent_subscription_lifecycle,
            // persistent_stats.rs
            statistics_follow_a_stream_group_from_history_to_live,
            the_outbox_pattern_sees_events_written_while_nobody_reads,
            retries_parks_and_latencies_show_in_the_statistics,
            a_consumer_buffer_of_one_gets_retries_before_the_next_event,
            settings_kurrentdb_refuses_fail_the_call,
            // operations.rs
            a_scavenge_removes_deleted_and_expired_events_from_all,
            node_operations_on_a_single_node,
        );
    };
}

fn event(r#type: &str, data: &'static str) -> NewEvent {
    NewEvent::new(r#type, Bytes::from_static(data.as_bytes()))
}

/// Creates `stream` with `events`: an append expecting no stream, which
/// must succeed; its result.
async fn create_stream<C: ClientUnderTest>(
    client: &C,
    stream: &str,
    events: Vec<NewEvent>,
) -> kurrentdbclient::WriteResult {
    client
        .append_to_stream(
            stream,
            StreamState::NoStream,
            events,
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap()
}

fn types(events: &[RecordedEvent]) -> Vec<&str> {
    events.iter().map(|e| e.r#type.as_str()).collect()
}

fn positions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.stream_position).collect()
}

/// The next event of a catch-up subscription (past checkpoints and caught-up
/// markers), which must come within 10 s.
async fn next_event<S: TestSubscription>(sub: &mut S) -> RecordedEvent {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), sub.next_item())
            .await
            .expect("an item within 10s")
            .expect("the subscription goes on")
            .expect("no error");
        if let SubscriptionItem::Event(e) = item {
            return e;
        }
    }
}
