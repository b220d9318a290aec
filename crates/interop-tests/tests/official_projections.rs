//! The official `kurrentdb` crate's `ProjectionClient` against the embedded
//! server (`--run-projections=All --start-standard-projections=true`): it
//! creates, inspects, disables, enables, resets and deletes a JavaScript
//! projection, and both clients see the same statistics and state; the
//! standard projections' `$ce-` links resolve for the official client too.

use std::time::Duration;

use kurrentdb::{
    ClientSettings, CreateProjectionOptions as OfficialCreate, DeleteProjectionOptions, EventData,
    GenericProjectionOptions, GetStateProjectionOptions, ProjectionClient,
    ReadStreamOptions as OfficialRead, StreamPosition,
};
use kurrentdb_embedded::{EmbeddedServer, RunProjections, ServerOptions};
use kurrentdbclient::{AsyncKurrentDBClient, ProjectionStatus};
use serde_json::{Value, json};

/// Calls `probe` every 20 ms until it answers `Some`, for at most 10 s.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} within 10s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_projection_client_manages_projections() {
    let server = EmbeddedServer::start_with(ServerOptions {
        run_projections: RunProjections::All,
        start_standard_projections: true,
        ..Default::default()
    })
    .await
    .expect("embedded server starts");
    let uri = server.connection_string();
    let settings: ClientSettings = uri.parse().expect("official settings");
    let official = ProjectionClient::new(settings.clone()).expect("projection client");
    let streams = kurrentdb::Client::new(settings).expect("official client");
    let ours = AsyncKurrentDBClient::connect(&uri)
        .await
        .expect("our client");

    let events = (1..=3).map(|n| EventData::json("Added", &json!({ "n": n })).unwrap());
    streams
        .append_to_stream("order-1", &Default::default(), events.collect::<Vec<_>>())
        .await
        .expect("append");

    let query = "fromCategory('order').when({ $init: function () { return { sum: 0 }; }, \
                 Added: function (s, e) { s.sum += e.data.n; } })";
    let generic = GenericProjectionOptions::default();
    official
        .create("sum", query.to_owned(), &OfficialCreate::default())
        .await
        .expect("official create");
    let duplicate = official
        .create("sum", query.to_owned(), &OfficialCreate::default())
        .await;
    assert!(duplicate.is_err(), "a duplicate name is refused");

    let state: Value = eventually("the official state", || async {
        let state = official
            .get_state::<_, Value>("sum", &GetStateProjectionOptions::default())
            .await;
        let state = state.ok()?.ok()?;
        // google.protobuf.Value numbers are doubles: 6.0 to serde_json.
        (state["sum"].as_f64() == Some(6.0)).then_some(state)
    })
    .await;
    let ours_state = ours
        .get_projection_state("sum", &Default::default())
        .await
        .expect("our state");
    assert_eq!(ours_state, json!({ "sum": 6 }));
    assert_eq!(ours_state["sum"].as_f64(), state["sum"].as_f64());

    let status = official
        .get_status("sum", &generic)
        .await
        .expect("status")
        .expect("a status");
    assert_eq!(
        (status.status.as_str(), status.mode.as_str()),
        ("Running", "Continuous")
    );
    let listed: Vec<String> = {
        use futures::TryStreamExt;
        let list = official.list(&generic).await.expect("list");
        list.map_ok(|s| s.name).try_collect().await.expect("listed")
    };
    assert!(listed.iter().any(|n| n == "sum"), "{listed:?}");

    official.disable("sum", &generic).await.expect("disable");
    let stopped = ours
        .get_projection_statistics("sum", &Default::default())
        .await
        .expect("our statistics");
    assert_eq!(stopped.status, ProjectionStatus::Stopped);
    official.enable("sum", &generic).await.expect("enable");
    official.reset("sum", &generic).await.expect("reset");
    official.abort("sum", &generic).await.expect("abort");
    let aborted = ours
        .get_projection_statistics("sum", &Default::default())
        .await
        .expect("our statistics");
    assert_eq!(aborted.status, ProjectionStatus::Aborted);
    // An aborted projection is deleted once disabled (KurrentDB 26.1's
    // `ManagedProjection.Handle(Delete)` wants it stopped or faulted).
    official
        .delete("sum", &DeleteProjectionOptions::default())
        .await
        .expect_err("deleting an aborted projection");
    official.disable("sum", &generic).await.expect("disable");
    official
        .delete("sum", &DeleteProjectionOptions::default())
        .await
        .expect("delete");
    let missing = ours
        .get_projection_statistics("sum", &Default::default())
        .await;
    assert!(matches!(
        missing,
        Err(kurrentdbclient::Error::NotFound { .. })
    ));

    // The $ce- stream written by $by_category resolves for the official client.
    let links = eventually("$ce-order", || async {
        let options = OfficialRead::default()
            .position(StreamPosition::Start)
            .resolve_link_tos();
        let mut read = streams.read_stream("$ce-order", &options).await.ok()?;
        let mut found = Vec::new();
        while let Ok(Some(e)) = read.next().await {
            found.push(e);
        }
        (found.len() == 3).then_some(found)
    })
    .await;
    for (n, e) in links.iter().enumerate() {
        let event = e.event.as_ref().expect("the linked event");
        assert_eq!((event.stream_id(), event.revision), ("order-1", n as u64));
        assert_eq!(e.get_original_stream_id(), "$ce-order");
    }
}
