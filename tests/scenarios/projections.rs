//! Projections: the management calls (create, statistics, state, result,
//! disable, enable, abort, reset, update, delete, restart), their errors, and
//! the standard projections' streams (`$ce-`, `$et-`, `$streams`,
//! `$category-`, `$bc-`) read and subscribed with and without
//! `resolve_links`. They run on a server with `--run-projections=All
//! --start-standard-projections=true`.
//!
//! User projections need the embedded server's `javascript` feature: without
//! it they fault with a message saying so, which the scenarios check instead.

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::options::*;
use kurrentdbclient::{
    Error, NewEvent, ProjectionMode, ProjectionStatus, RecordedEvent, StreamState,
};
use serde_json::json;

use super::next_event;
use crate::common::harness::{ClientUnderTest, TestSubscription};
use crate::common::{against_real_server, unique};

/// Whether the server runs JavaScript projections. Without the embedded
/// server's `javascript` feature (`cargo test -p kurrentdbclient` alone), the
/// scenarios that need it check instead that a JavaScript projection faults
/// saying why ([`no_engine`]); CI sets `KURRENTDB_TESTS_REQUIRE_JAVASCRIPT`, so
/// that a build without the engine fails rather than skips them.
fn javascript() -> bool {
    let on = against_real_server() || kurrentdb_embedded::projections::JAVASCRIPT;
    assert!(
        on || std::env::var_os("KURRENTDB_TESTS_REQUIRE_JAVASCRIPT").is_none(),
        "KURRENTDB_TESTS_REQUIRE_JAVASCRIPT is set, but the embedded server was built \
         without its `javascript` feature"
    );
    on
}

/// What a server without the JavaScript engine does with a user projection:
/// it is created, faults with a reason naming the missing feature, and is
/// deleted.
async fn no_engine<C: ClientUnderTest>(client: &C) {
    let name = unique("no-engine");
    client
        .create_projection(&name, "fromAll().when({})", &Default::default())
        .await
        .unwrap();
    let stats = statistics_until(client, &name, |s| s.status == ProjectionStatus::Faulted).await;
    assert!(stats.state_reason.contains("javascript"), "{stats:?}");
    client
        .delete_projection(&name, &Default::default())
        .await
        .unwrap();
}

/// Calls `probe` every 20 ms until it gives `Ok(value)`, for at most 10 s;
/// then fails with the last `Err` it gave (what was seen instead).
async fn eventually<T, F, Fut>(mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) => assert!(tokio::time::Instant::now() < deadline, "within 10s: {seen}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `stream` (links resolved or not) until it holds `count` events.
async fn read_until<C: ClientUnderTest>(
    client: &C,
    stream: &str,
    count: usize,
    resolve_links: bool,
) -> Vec<RecordedEvent> {
    let options = ReadStreamOptions::default().resolve_links(resolve_links);
    eventually(|| async {
        match client.get_stream(stream, &options).await {
            Ok(events) if events.len() >= count => Ok(events),
            Ok(events) => Err(format!("{stream} has {} of {count} events", events.len())),
            Err(Error::NotFound { .. }) => Err(format!("{stream} not found")),
            Err(e) => panic!("reading {stream}: {e}"),
        }
    })
    .await
}

/// Polls a projection's statistics until `done` holds.
async fn statistics_until<C: ClientUnderTest>(
    client: &C,
    name: &str,
    done: impl Fn(&kurrentdbclient::ProjectionStatistics) -> bool,
) -> kurrentdbclient::ProjectionStatistics {
    eventually(|| async {
        let stats = client
            .get_projection_statistics(name, &GetProjectionStatisticsOptions::default())
            .await
            .expect("statistics");
        if done(&stats) {
            Ok(stats)
        } else {
            Err(format!("{stats:?}"))
        }
    })
    .await
}

/// Polls a projection's state (of `partition`, or the root) until it equals
/// `expected`.
async fn state_until<C: ClientUnderTest>(
    client: &C,
    name: &str,
    partition: Option<&str>,
    expected: serde_json::Value,
) {
    let mut options = GetProjectionStateOptions::default();
    if let Some(p) = partition {
        options = options.partition(p.to_owned());
    }
    eventually(|| async {
        let state = client
            .get_projection_state(name, &options)
            .await
            .expect("state");
        if state == expected {
            Ok(())
        } else {
            Err(format!("{name}: state {state}, not {expected}"))
        }
    })
    .await
}

/// Stops (disables) and deletes a projection.
async fn disable_and_delete<C: ClientUnderTest>(client: &C, name: &str) {
    client
        .disable_projection(name, &Default::default())
        .await
        .unwrap();
    client
        .delete_projection(name, &Default::default())
        .await
        .unwrap();
}

fn link_data(e: &RecordedEvent) -> &str {
    std::str::from_utf8(&e.data).expect("utf-8 link data")
}

/// The standard projections link every event of a new category into `$ce-`,
/// `$et-`, `$category-`, `$streams` and `$bc-`, as KurrentDB writes them;
/// reads and subscriptions with `resolve_links` return the original events
/// with their links.
pub async fn standard_projections_write_links_to_their_streams<C: ClientUnderTest>(client: &C) {
    let category = unique("cat").replace('-', "");
    let first = format!("{category}-1");
    let second = format!("{category}-2");
    let event_type = unique("Happened").replace('-', "");
    let correlation = unique("corr").replace('-', "");
    let metadata = format!(r#"{{"$correlationId":"{correlation}"}}"#);
    let opts = AppendToStreamOptions::default();
    let new = |data: &'static str| {
        NewEvent::new(event_type.as_str(), Bytes::from_static(data.as_bytes()))
            .with_metadata(Bytes::from(metadata.clone()))
    };
    client
        .append_to_stream(
            &first,
            StreamState::NoStream,
            vec![new("{\"n\":1}"), new("{\"n\":2}")],
            &opts,
        )
        .await
        .unwrap();
    client
        .append_to_stream(
            &second,
            StreamState::NoStream,
            vec![new("{\"n\":3}")],
            &opts,
        )
        .await
        .unwrap();

    // $ce-<category>: one link per event, `<revision>@<stream>`, type `$>`.
    let ce = format!("$ce-{category}");
    let raw = read_until(client, &ce, 3, false).await;
    assert!(raw.iter().all(|e| e.r#type == "$>" && e.link.is_none()));
    let data: Vec<&str> = raw.iter().map(link_data).collect();
    assert_eq!(
        data,
        [
            format!("0@{first}"),
            format!("1@{first}"),
            format!("0@{second}")
        ]
    );
    let resolved = read_until(client, &ce, 3, true).await;
    assert_eq!(resolved.len(), 3);
    assert!(resolved.iter().all(|e| e.r#type == event_type));
    assert_eq!(resolved[2].stream_name, second);
    assert_eq!(&resolved[1].data[..], b"{\"n\":2}");
    let link = resolved[1].link.as_ref().expect("the link");
    assert_eq!(
        (link.stream_name.as_str(), link.stream_position),
        (ce.as_str(), 1)
    );

    // $et-<type>, $bc-<correlation id>: the same links.
    let et = read_until(client, &format!("$et-{event_type}"), 3, false).await;
    assert_eq!(et.iter().map(link_data).collect::<Vec<_>>(), data);
    let bc = read_until(client, &format!("$bc-{correlation}"), 3, true).await;
    assert!(
        bc.iter()
            .all(|e| e.r#type == event_type && e.link.is_some())
    );

    // $category-<category>: a `$@` reference per new stream.
    let streams = read_until(client, &format!("$category-{category}"), 2, false).await;
    assert!(streams.iter().all(|e| e.r#type == "$@"));
    assert_eq!(
        streams.iter().map(link_data).collect::<Vec<_>>(),
        [&first, &second]
    );

    // $streams: the first event of each stream.
    let all_streams = read_until(client, "$streams", 1, false).await;
    let ours: Vec<&str> = all_streams
        .iter()
        .map(link_data)
        .filter(|d| d.ends_with(&format!("@{first}")) || d.ends_with(&format!("@{second}")))
        .collect();
    assert_eq!(ours, [format!("0@{first}"), format!("0@{second}")]);

    // Caught up, `$by_category` shows nothing buffered and 100%, though the
    // other projections wrote their links after it.
    eventually(|| async {
        let stats = client
            .get_projection_statistics("$by_category", &Default::default())
            .await
            .map_err(|e| e.to_string())?;
        if stats.buffered_events == 0 && stats.progress == 100.0 {
            Ok(())
        } else {
            Err(format!(
                "buffered {} at {}%",
                stats.buffered_events, stats.progress
            ))
        }
    })
    .await;

    // A subscription to $ce- with resolve_links sees the events and new ones.
    let mut sub = client
        .subscribe_to_stream(
            &ce,
            &SubscribeToStreamOptions::default().resolve_links(true),
        )
        .await
        .unwrap();
    for expected in [0, 1] {
        let e = next_event(&mut sub).await;
        assert_eq!(
            (e.stream_name.as_str(), e.stream_position),
            (first.as_str(), expected)
        );
        assert_eq!(
            e.link.as_ref().map(|l| l.stream_name.as_str()),
            Some(ce.as_str())
        );
    }
    assert_eq!(next_event(&mut sub).await.stream_name, second);
    client
        .append_to_stream(
            &second,
            StreamState::Version(0),
            vec![new("{\"n\":4}")],
            &opts,
        )
        .await
        .unwrap();
    let live = next_event(&mut sub).await;
    assert_eq!(
        (live.stream_name.as_str(), live.stream_position),
        (second.as_str(), 1)
    );
    assert_eq!(live.link.as_ref().map(|l| l.stream_position), Some(3));
    sub.stop();
}

/// A deleted stream is linked into its category's `$ce-` stream with `$o`
/// and `$deleted` in the link's metadata; the earlier links no longer
/// resolve.
pub async fn deleted_streams_show_in_category_streams<C: ClientUnderTest>(client: &C) {
    let category = unique("del").replace('-', "");
    let stream = format!("{category}-1");
    let opts = AppendToStreamOptions::default();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![super::event("A", "{}")],
            &opts,
        )
        .await
        .unwrap();
    let ce = format!("$ce-{category}");
    read_until(client, &ce, 1, false).await;
    client
        .delete_stream(
            &stream,
            StreamState::Version(0),
            &DeleteStreamOptions::default(),
        )
        .await
        .unwrap();
    let raw = read_until(client, &ce, 2, false).await;
    assert_eq!(raw[1].r#type, "$>");
    let metadata: serde_json::Value = serde_json::from_slice(&raw[1].metadata).unwrap();
    assert_eq!(metadata["$o"], json!(stream));
    assert_eq!(metadata["$deleted"], json!(-1));
    assert!(
        link_data(&raw[1]).ends_with(&format!("@$${stream}")),
        "{}",
        link_data(&raw[1])
    );
}

/// Every management call on a missing projection is NOT_FOUND; a duplicate
/// name is ALREADY_EXISTS; a standard projection cannot be deleted.
pub async fn projection_errors_are_not_found_already_exists_and_failed<C: ClientUnderTest>(
    client: &C,
) {
    let missing = unique("missing");
    let not_found = |r: kurrentdbclient::Result<()>| {
        assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    };
    not_found(
        client
            .update_projection(&missing, "fromAll()", &Default::default())
            .await,
    );
    not_found(
        client
            .delete_projection(&missing, &Default::default())
            .await,
    );
    not_found(
        client
            .enable_projection(&missing, &Default::default())
            .await,
    );
    not_found(
        client
            .disable_projection(&missing, &Default::default())
            .await,
    );
    not_found(client.abort_projection(&missing, &Default::default()).await);
    not_found(client.reset_projection(&missing, &Default::default()).await);
    let stats = client
        .get_projection_statistics(&missing, &Default::default())
        .await;
    assert!(matches!(stats, Err(Error::NotFound { .. })), "{stats:?}");
    let state = client
        .get_projection_state(&missing, &Default::default())
        .await;
    assert!(matches!(state, Err(Error::NotFound { .. })), "{state:?}");
    let result = client
        .get_projection_result(&missing, &Default::default())
        .await;
    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");

    let name = unique("dup");
    let query = "fromAll().when({})";
    client
        .create_projection(&name, query, &Default::default())
        .await
        .unwrap();
    let again = client
        .create_projection(&name, query, &Default::default())
        .await;
    // KurrentDB 26.1 answers "Envelope callback expected Updated, received
    // Conflict instead", without the name.
    assert!(matches!(&again, Err(Error::AlreadyExists(_))), "{again:?}");

    let standard = client
        .delete_projection("$by_category", &Default::default())
        .await;
    assert!(
        matches!(standard, Err(Error::FailedPrecondition(_))),
        "{standard:?}"
    );
    disable_and_delete(client, &name).await;
}

/// The standard projections are listed with their modes and statuses; a new
/// projection is listed among the continuous ones.
pub async fn projection_statistics_are_listed<C: ClientUnderTest>(client: &C) {
    let all = client
        .list_all_projection_statistics(&Default::default())
        .await
        .unwrap();
    for name in [
        "$streams",
        "$stream_by_category",
        "$by_category",
        "$by_event_type",
        "$by_correlation_id",
    ] {
        let s = all
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(s.mode, ProjectionMode::Continuous);
        assert_eq!(s.status, ProjectionStatus::Running, "{s:?}");
    }
    let name = unique("listed");
    client
        .create_projection(&name, "fromAll().when({})", &Default::default())
        .await
        .unwrap();
    let continuous = client
        .list_continuous_projection_statistics(&Default::default())
        .await
        .unwrap();
    assert!(continuous.iter().any(|s| s.name == name));
    assert!(
        continuous
            .iter()
            .all(|s| s.mode == ProjectionMode::Continuous)
    );
    disable_and_delete(client, &name).await;
}

/// A counting projection through its whole life: running with a state and a
/// result, stopped by disable and abort, running again on enable, back to
/// its initial state on reset, a new query on update, refused deletion while
/// running, deleted once stopped. Without JavaScript it faults with the
/// reason instead.
pub async fn projection_lifecycle<C: ClientUnderTest>(client: &C) {
    let stream = unique("counted");
    let event_type = unique("Counted").replace('-', "");
    let name = unique("count");
    let query = format!(
        "fromStream('{stream}').when({{ $init: function () {{ return {{ count: 0 }}; }}, \
         {event_type}: function (s, e) {{ s.count += e.data.n; return s; }} }})\
         .transformBy(function (s) {{ return {{ total: s.count }}; }})"
    );
    let opts = AppendToStreamOptions::default();
    let events = vec![
        NewEvent::new(event_type.as_str(), Bytes::from_static(b"{\"n\":2}")),
        NewEvent::new(event_type.as_str(), Bytes::from_static(b"{\"n\":3}")),
    ];
    client
        .append_to_stream(&stream, StreamState::NoStream, events, &opts)
        .await
        .unwrap();
    client
        .create_projection(&name, &query, &Default::default())
        .await
        .unwrap();

    if !javascript() {
        let stats =
            statistics_until(client, &name, |s| s.status == ProjectionStatus::Faulted).await;
        assert!(stats.state_reason.contains("javascript"), "{stats:?}");
        client
            .delete_projection(&name, &Default::default())
            .await
            .unwrap();
        return;
    }

    state_until(client, &name, None, json!({"count": 5})).await;
    let result = client
        .get_projection_result(&name, &Default::default())
        .await
        .unwrap();
    assert_eq!(result, json!({"total": 5}));
    let stats = statistics_until(client, &name, |s| s.events_processed_after_restart >= 2).await;
    assert_eq!(
        (stats.status, stats.mode),
        (ProjectionStatus::Running, ProjectionMode::Continuous)
    );

    let running = client.delete_projection(&name, &Default::default()).await;
    assert!(
        matches!(&running, Err(Error::FailedPrecondition(m)) if m.contains("OperationFailed")),
        "{running:?}"
    );

    client
        .disable_projection(&name, &Default::default())
        .await
        .unwrap();
    statistics_until(client, &name, |s| s.status == ProjectionStatus::Stopped).await;
    let more = vec![NewEvent::new(
        event_type.as_str(),
        Bytes::from_static(b"{\"n\":10}"),
    )];
    client
        .append_to_stream(&stream, StreamState::Any, more, &opts)
        .await
        .unwrap();
    client
        .enable_projection(&name, &Default::default())
        .await
        .unwrap();
    state_until(client, &name, None, json!({"count": 15})).await;

    // Aborted: reported as such, and not deletable until enabled or disabled.
    client
        .abort_projection(&name, &Default::default())
        .await
        .unwrap();
    let aborted = client
        .get_projection_statistics(&name, &Default::default())
        .await
        .unwrap();
    assert_eq!(aborted.status, ProjectionStatus::Aborted, "{aborted:?}");
    let refused = client.delete_projection(&name, &Default::default()).await;
    assert!(
        matches!(refused, Err(Error::FailedPrecondition(_))),
        "{refused:?}"
    );
    client
        .enable_projection(&name, &Default::default())
        .await
        .unwrap();
    client
        .reset_projection(&name, &Default::default())
        .await
        .unwrap();
    state_until(client, &name, None, json!({"count": 15})).await;

    let doubled = query.replace("s.count += e.data.n", "s.count += 2 * e.data.n");
    client
        .update_projection(&name, &doubled, &Default::default())
        .await
        .unwrap();
    client
        .reset_projection(&name, &Default::default())
        .await
        .unwrap();
    state_until(client, &name, None, json!({"count": 30})).await;

    client
        .restart_projections_subsystem(&Default::default())
        .await
        .unwrap();
    statistics_until(client, &name, |s| s.status == ProjectionStatus::Running).await;

    client
        .disable_projection(&name, &Default::default())
        .await
        .unwrap();
    client
        .delete_projection(
            &name,
            &DeleteProjectionOptions::default().delete_checkpoint_stream(true),
        )
        .await
        .unwrap();
    let gone = client
        .get_projection_statistics(&name, &Default::default())
        .await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
}

/// A projection with an empty query never runs: it is faulted (no source) by
/// the time its creation returns, so it can be deleted at once, and a
/// request for its state is never answered (the caller's deadline ends it).
pub async fn an_empty_query_never_starts<C: ClientUnderTest>(client: &C) {
    let name = unique("empty");
    client
        .create_projection(&name, "", &Default::default())
        .await
        .unwrap();
    let stats = client
        .get_projection_statistics(&name, &Default::default())
        .await
        .unwrap();
    assert_eq!(stats.status, ProjectionStatus::Faulted, "{stats:?}");
    if javascript() {
        assert_eq!(
            stats.state_reason,
            "None of streams and categories are included"
        );
    }
    let state = client
        .get_projection_state(
            &name,
            &GetProjectionStateOptions::default().timeout(Duration::from_millis(300)),
        )
        .await;
    assert!(matches!(state, Err(Error::DeadlineExceeded)), "{state:?}");
    client
        .delete_projection(&name, &Default::default())
        .await
        .unwrap();
    let gone = client
        .get_projection_statistics(&name, &Default::default())
        .await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
}

/// A projection whose handler throws faults with the JavaScript error as its
/// state reason; one that loops forever faults on its time budget; the
/// server goes on serving.
pub async fn failing_projections_fault_themselves<C: ClientUnderTest>(client: &C) {
    if !javascript() {
        return no_engine(client).await;
    }
    let stream = unique("faulty");
    let opts = AppendToStreamOptions::default();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![super::event("Boom", "{}")],
            &opts,
        )
        .await
        .unwrap();
    let throws = unique("throws");
    let query = format!(
        "fromStream('{stream}').when({{ Boom: function (s, e) {{ throw new Error('kaboom'); }} }})"
    );
    client
        .create_projection(&throws, &query, &Default::default())
        .await
        .unwrap();
    let stats = statistics_until(client, &throws, |s| s.status == ProjectionStatus::Faulted).await;
    assert!(stats.state_reason.contains("kaboom"), "{stats:?}");

    let syntax = unique("syntax");
    client
        .create_projection(&syntax, "fromAll().when({ oops", &Default::default())
        .await
        .unwrap();
    statistics_until(client, &syntax, |s| s.status == ProjectionStatus::Faulted).await;

    if !against_real_server() {
        let loops = unique("loops");
        let query =
            format!("fromStream('{stream}').when({{ Boom: function () {{ for (;;) {{}} }} }})");
        client
            .create_projection(&loops, &query, &Default::default())
            .await
            .unwrap();
        let stats =
            statistics_until(client, &loops, |s| s.status == ProjectionStatus::Faulted).await;
        assert!(!stats.state_reason.is_empty(), "{stats:?}");
        client
            .delete_projection(&loops, &Default::default())
            .await
            .unwrap();
    }
    client
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![super::event("Fine", "{}")],
            &opts,
        )
        .await
        .unwrap();
    disable_and_delete(client, &throws).await;
    disable_and_delete(client, &syntax).await;
}

/// KurrentDB's documented examples: a state partitioned per stream
/// (`foreachStream`), and `emit` / `linkTo` into new streams.
pub async fn documented_projection_examples<C: ClientUnderTest>(client: &C) {
    if !javascript() {
        return no_engine(client).await;
    }
    let category = unique("shop").replace('-', "");
    let (a, b) = (format!("{category}-a"), format!("{category}-b"));
    let opts = AppendToStreamOptions::default();
    for (stream, n) in [(&a, 2), (&b, 1)] {
        let events = (0..n)
            .map(|_| super::event("ItemAdded", "{\"price\":5}"))
            .collect();
        client
            .append_to_stream(stream, StreamState::NoStream, events, &opts)
            .await
            .unwrap();
    }

    // foreachStream over a category: one state per stream.
    let per_stream = unique("perstream");
    let query = format!(
        "fromCategory('{category}').foreachStream().when({{ \
         $init: function () {{ return {{ total: 0 }}; }}, \
         ItemAdded: function (s, e) {{ s.total += e.data.price; }} }})"
    );
    client
        .create_projection(&per_stream, &query, &Default::default())
        .await
        .unwrap();
    state_until(client, &per_stream, Some(&a), json!({"total": 10})).await;
    state_until(client, &per_stream, Some(&b), json!({"total": 5})).await;

    // emit and linkTo into new streams.
    let emitter = unique("emitter");
    let out = unique("out");
    let query = format!(
        "fromCategory('{category}').when({{ ItemAdded: function (s, e) {{ \
         emit('{out}-emitted', 'Priced', {{ price: e.data.price, from: e.streamId }}); \
         linkTo('{out}-linked', e); }} }})"
    );
    let emit = CreateProjectionOptions::default().emit_enabled(true);
    client
        .create_projection(&emitter, &query, &emit)
        .await
        .unwrap();
    let emitted = read_until(client, &format!("{out}-emitted"), 3, false).await;
    assert!(emitted.iter().all(|e| e.r#type == "Priced"));
    let bodies: Vec<serde_json::Value> = emitted
        .iter()
        .map(|e| serde_json::from_slice(&e.data).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"price": 5, "from": a}),
            json!({"price": 5, "from": a}),
            json!({"price": 5, "from": b})
        ]
    );
    let linked = read_until(client, &format!("{out}-linked"), 3, true).await;
    assert_eq!(
        linked
            .iter()
            .map(|e| (e.stream_name.as_str(), e.stream_position))
            .collect::<Vec<_>>(),
        [(a.as_str(), 0), (a.as_str(), 1), (b.as_str(), 0)]
    );

    // Without emit_enabled, a projection that emits faults.
    let no_emit = unique("noemit");
    client
        .create_projection(&no_emit, &query, &Default::default())
        .await
        .unwrap();
    statistics_until(client, &no_emit, |s| s.status == ProjectionStatus::Faulted).await;
    for name in [&per_stream, &emitter, &no_emit] {
        disable_and_delete(client, name).await;
    }
}

/// Appends `events` to `stream`, whatever its state.
async fn append<C: ClientUnderTest>(client: &C, stream: &str, events: Vec<NewEvent>) {
    client
        .append_to_stream(stream, StreamState::Any, events, &Default::default())
        .await
        .unwrap();
}

/// Polls a projection's result until it equals `expected`.
async fn result_until<C: ClientUnderTest>(client: &C, name: &str, expected: serde_json::Value) {
    eventually(|| async {
        let result = client
            .get_projection_result(name, &Default::default())
            .await
            .expect("result");
        if result == expected {
            Ok(())
        } else {
            Err(format!("{name}: result {result}, not {expected}"))
        }
    })
    .await
}

/// The result-shaping steps of KurrentDB's projection API: `transformBy`
/// makes the result from the state (which stays as the handlers left it),
/// `filterBy` removes the result while its predicate is false (it then
/// reads as `{}`), `outputTo`
/// writes `Result` events to the stream it names; `$initShared` makes a
/// bi-state projection whose handlers get `[partition state, shared state]`
/// and whose shared state is the root partition's; `linkStreamTo` writes a
/// `$@` event naming the linked stream.
pub async fn projection_results_transforms_and_shared_state<C: ClientUnderTest>(client: &C) {
    if !javascript() {
        return no_engine(client).await;
    }
    let sales = unique("sales");
    append(client, &sales, vec![super::event("Sold", "{\"amount\":3}")]).await;

    // transformBy and outputTo.
    let doubled = unique("doubled");
    let out = unique("doubledout");
    let query = format!(
        "fromStream('{sales}').when({{ \
         $init: function () {{ return {{ total: 0 }}; }}, \
         Sold: function (s, e) {{ s.total += e.data.amount; return s; }} }}) \
         .transformBy(function (s) {{ return {{ doubled: s.total * 2 }}; }}) \
         .outputTo('{out}')"
    );
    client
        .create_projection(&doubled, &query, &Default::default())
        .await
        .unwrap();
    // filterBy: no result while the total is at most 5.
    let big = unique("big");
    let query = format!(
        "fromStream('{sales}').when({{ \
         $init: function () {{ return {{ total: 0 }}; }}, \
         Sold: function (s, e) {{ s.total += e.data.amount; return s; }} }}) \
         .filterBy(function (s) {{ return s.total > 5; }})"
    );
    client
        .create_projection(&big, &query, &Default::default())
        .await
        .unwrap();
    result_until(client, &doubled, json!({"doubled": 6})).await;
    state_until(client, &big, None, json!({"total": 3})).await;
    // No result reads as an empty object, as KurrentDB answers it.
    result_until(client, &big, json!({})).await;

    append(client, &sales, vec![super::event("Sold", "{\"amount\":4}")]).await;
    result_until(client, &doubled, json!({"doubled": 14})).await;
    state_until(client, &doubled, None, json!({"total": 7})).await;
    result_until(client, &big, json!({"total": 7})).await;
    let results = read_until(client, &out, 2, false).await;
    assert!(results.iter().all(|e| e.r#type == "Result"), "{results:?}");
    let bodies: Vec<serde_json::Value> = results
        .iter()
        .map(|e| serde_json::from_slice(&e.data).unwrap())
        .collect();
    assert_eq!(bodies, [json!({"doubled": 6}), json!({"doubled": 14})]);

    // A bi-state projection per stream of a category, and linkStreamTo.
    let category = unique("till").replace('-', "");
    let (a, b) = (format!("{category}-a"), format!("{category}-b"));
    append(
        client,
        &a,
        vec![super::event("Rang", "{}"), super::event("Rang", "{}")],
    )
    .await;
    append(client, &b, vec![super::event("Rang", "{}")]).await;
    let shared = unique("shared");
    let links = unique("tills");
    let query = format!(
        "fromCategory('{category}').foreachStream().when({{ \
         $init: function () {{ return {{ n: 0 }}; }}, \
         $initShared: function () {{ return {{ all: 0 }}; }}, \
         Rang: function (s, e) {{ s[0].n++; s[1].all++; \
           if (e.sequenceNumber === 0) linkStreamTo('{links}', e.streamId); return s; }} }})"
    );
    let emit = CreateProjectionOptions::default().emit_enabled(true);
    client
        .create_projection(&shared, &query, &emit)
        .await
        .unwrap();
    state_until(client, &shared, Some(&a), json!({"n": 2})).await;
    state_until(client, &shared, Some(&b), json!({"n": 1})).await;
    state_until(client, &shared, None, json!({"all": 3})).await;
    let linked = read_until(client, &links, 2, false).await;
    assert!(linked.iter().all(|e| e.r#type == "$@"), "{linked:?}");
    assert_eq!(
        linked.iter().map(link_data).collect::<Vec<_>>(),
        [a.as_str(), b.as_str()]
    );
    for name in [&doubled, &big, &shared] {
        disable_and_delete(client, name).await;
    }
}
