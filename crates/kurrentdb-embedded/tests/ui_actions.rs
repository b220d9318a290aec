//! The web UI's actions through curl, each seen through the client:
//! projections created, updated, enabled, disabled, reset and deleted from
//! their forms; parked messages replayed to a consumer; users created,
//! disabled, enabled, given a password and deleted, and their logins
//! following; and the refusals: a user without the rights (403, with
//! KurrentDB's rule), a post from another site (403), bad input (400).

use std::time::Duration;

use futures::StreamExt;
use kurrentdb_embedded::{EmbeddedServer, RunProjections, Security, ServerOptions};
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, Error, NackAction, NewEvent,
    PersistentSubscription, ProjectionStatus, RecordedEvent, StreamState,
};

#[path = "support/curl.rs"]
mod support;

use support::{Reply, curl};

/// A node's UI, as one user (or anonymous) sees it through curl.
struct Ui {
    base: String,
    args: Vec<String>,
}

impl Ui {
    /// The UI of `server`, signed in as `user:password` (`None`: anonymous).
    fn of(server: &EmbeddedServer, login: Option<&str>) -> Ui {
        let mut args = Vec::new();
        let base = match server.ca_file() {
            Some(ca) => {
                args.extend(["--cacert".to_owned(), ca.display().to_string()]);
                format!("https://localhost:{}", server.addr().port())
            }
            None => format!("http://{}", server.addr()),
        };
        if let Some(login) = login {
            args.extend(["-u".to_owned(), login.to_owned()]);
        }
        Ui { base, args }
    }

    async fn get(&self, path: &str) -> Reply {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        curl(&args, &format!("{}{path}", self.base)).await
    }

    /// Posts the form `fields` to `path`, with `headers`.
    async fn post_with(&self, path: &str, fields: &[(&str, &str)], headers: &[&str]) -> Reply {
        let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        // An empty form is still a form post.
        args.extend([
            "-X",
            "POST",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
        ]);
        for pair in &pairs {
            args.extend(["--data-urlencode", pair]);
        }
        for header in headers {
            args.extend(["-H", header]);
        }
        curl(&args, &format!("{}{path}", self.base)).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, fields, &[]).await
    }
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

/// Whether this build runs JavaScript projections; CI sets
/// `KURRENTDB_TESTS_REQUIRE_JAVASCRIPT`, and then a build without the
/// engine fails instead of leaving the state checks out.
fn javascript() -> bool {
    let on = kurrentdb_embedded::projections::JAVASCRIPT;
    assert!(
        on || std::env::var_os("KURRENTDB_TESTS_REQUIRE_JAVASCRIPT").is_none(),
        "KURRENTDB_TESTS_REQUIRE_JAVASCRIPT is set, but kurrentdb-embedded was built \
         without its `javascript` feature"
    );
    if !on {
        eprintln!("NOT RUN: the projection state checks need the `javascript` feature");
    }
    on
}

async fn append(client: &AsyncKurrentDBClient, stream: &str, count: usize) {
    let events: Vec<NewEvent> = (0..count)
        .map(|i| NewEvent::new("Counted", format!("{{\"i\":{i}}}")))
        .collect();
    client
        .append_to_stream(
            stream,
            StreamState::Any,
            events,
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
}

async fn status(client: &AsyncKurrentDBClient, name: &str) -> Result<ProjectionStatus, Error> {
    client
        .get_projection_statistics(name, &Default::default())
        .await
        .map(|s| s.status)
}

/// Waits until projection `name` has `wanted` status.
async fn status_becomes(client: &AsyncKurrentDBClient, name: &str, wanted: ProjectionStatus) {
    eventually(|| async {
        match status(client, name).await {
            Ok(s) if s == wanted => Ok(()),
            other => Err(format!("{name}: {other:?}, not {wanted:?}")),
        }
    })
    .await
}

/// Waits until projection `name`'s state is `wanted`.
async fn state_becomes(client: &AsyncKurrentDBClient, name: &str, wanted: serde_json::Value) {
    eventually(|| async {
        match client.get_projection_state(name, &Default::default()).await {
            Ok(s) if s == wanted => Ok(()),
            other => Err(format!("{name}: {other:?}, not {wanted}")),
        }
    })
    .await
}

const COUNTER: &str = "fromStream('counted-1').when({\
    $init: function () { return { count: 0 }; },\
    $any: function (s, e) { s.count += 1; return s; }})";

/// The consumer's next event, waited for 10 s at most.
async fn next_event(consumer: &mut PersistentSubscription) -> RecordedEvent {
    tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("an event within 10 s")
        .expect("the subscription goes on")
        .expect("an event, not an error")
}

#[tokio::test]
async fn projections_are_created_changed_and_deleted_from_their_pages() {
    // `fromCategory` reads what `$by_category` links.
    let server = EmbeddedServer::start_with(ServerOptions {
        run_projections: RunProjections::All,
        start_standard_projections: true,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let ui = Ui::of(&server, None);
    append(&client, "counted-1", 3).await;
    append(&client, "counted-2", 2).await;

    // Created from the form: the page shows it, the client sees it run.
    let created = ui
        .post(
            "/ui/projections",
            &[
                ("name", "counter"),
                ("mode", "continuous"),
                ("query", COUNTER),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(created.location(), "/ui/projections/counter?done=created");
    status_becomes(&client, "counter", ProjectionStatus::Running).await;
    let js = javascript();
    if js {
        state_becomes(&client, "counter", serde_json::json!({"count": 3})).await;
        let page = ui.get("/ui/projections/counter?done=created").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("<p class=\"note\" id=\"done\">Created.</p>")
        );
        assert!(
            page.body
                .contains("<pre id=\"state\">{\n  &quot;count&quot;: 3\n}</pre>"),
            "{}",
            page.body
        );
    }

    // Bad input: 400 with the reason, nothing created.
    for (fields, reason) in [
        (
            vec![("name", "counter"), ("query", COUNTER)],
            "Duplicate projection names : counter",
        ),
        (
            vec![("name", "  "), ("query", COUNTER)],
            "Projection name is required",
        ),
        (
            vec![
                ("name", "t"),
                ("query", COUNTER),
                ("track_emitted_streams", "on"),
            ],
            "EmitEnabled must be set to true to track emitted streams.",
        ),
        (
            vec![("name", "o"), ("mode", "one-time"), ("query", COUNTER)],
            "One-time projections are not supported by the embedded server.",
        ),
        (
            vec![("name", "x"), ("mode", "weekly"), ("query", COUNTER)],
            "Mode &quot;weekly&quot;: continuous, one-time or transient.",
        ),
    ] {
        let refused = ui.post("/ui/projections", &fields).await;
        assert_eq!(refused.status, 400, "{fields:?}: {}", refused.body);
        assert!(
            refused.body.contains(reason),
            "{reason} in {}",
            refused.body
        );
    }
    for name in ["t", "o", "x"] {
        assert!(matches!(
            status(&client, name).await,
            Err(Error::NotFound { .. })
        ));
    }

    // Disabled, its query updated (counting tens), reset, enabled: it
    // counts again from the start with the new query.
    let disabled = ui.post("/ui/projections/counter/disable", &[]).await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    assert_eq!(disabled.location(), "/ui/projections/counter?done=disabled");
    status_becomes(&client, "counter", ProjectionStatus::Stopped).await;
    let tens = COUNTER.replace("s.count += 1", "s.count += 10");
    let updated = ui
        .post("/ui/projections/counter/update", &[("query", &tens)])
        .await;
    assert_eq!(updated.status, 303, "{}", updated.body);
    let page = ui.get("/ui/projections/counter").await;
    assert!(page.body.contains("s.count += 10"), "{}", page.body);
    assert_eq!(
        ui.post("/ui/projections/counter/reset", &[])
            .await
            .location(),
        "/ui/projections/counter?done=reset"
    );
    assert_eq!(
        ui.post("/ui/projections/counter/enable", &[])
            .await
            .location(),
        "/ui/projections/counter?done=enabled"
    );
    status_becomes(&client, "counter", ProjectionStatus::Running).await;
    if js {
        state_becomes(&client, "counter", serde_json::json!({"count": 30})).await;
    }

    // A running projection is not deleted (the manager's reason); a
    // stopped one is, with its checkpoint.
    let running = ui.post("/ui/projections/counter/delete", &[]).await;
    assert_eq!(running.status, 400, "{}", running.body);
    assert!(
        running
            .body
            .contains("Cannot delete a projection that hasn&#39;t been stopped or faulted."),
        "{}",
        running.body
    );
    ui.post("/ui/projections/counter/disable", &[]).await;
    status_becomes(&client, "counter", ProjectionStatus::Stopped).await;
    let deleted = ui
        .post(
            "/ui/projections/counter/delete",
            &[("delete_checkpoint_stream", "on")],
        )
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(deleted.location(), "/ui/projections?deleted=counter");
    assert!(matches!(
        status(&client, "counter").await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        ui.get("/ui/projections?deleted=counter")
            .await
            .body
            .contains("Projection counter deleted.")
    );

    // Missing projections and unknown actions: 404.
    assert_eq!(
        ui.post("/ui/projections/nope/enable", &[]).await.status,
        404
    );
    assert_eq!(ui.get("/ui/projections/nope").await.status, 404);
    assert_eq!(
        ui.post("/ui/projections/$streams/frobnicate", &[])
            .await
            .status,
        404
    );

    // A projection whose query does not compile faulted before it ran: its
    // page shows why (it has no state to wait for).
    let created = ui
        .post(
            "/ui/projections",
            &[("name", "broken"), ("query", "fromAll(")],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    status_becomes(&client, "broken", ProjectionStatus::Faulted).await;
    let page = ui.get("/ui/projections/broken").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<dd id=\"status\">Faulted"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<dd id=\"reason\"></dd>"),
        "{}",
        page.body
    );

    // A partitioned projection shows a state per partition.
    let by_stream = "fromCategory('counted').foreachStream().when({\
        $init: function () { return { n: 0 }; },\
        $any: function (s, e) { s.n += 1; return s; }})";
    let created = ui
        .post(
            "/ui/projections",
            &[("name", "per-stream"), ("query", by_stream)],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    if js {
        let page = eventually(|| async {
            let page = ui.get("/ui/projections/per-stream").await;
            if page.body.contains("<td>counted-2</td>") {
                Ok(page)
            } else {
                Err(page.body)
            }
        })
        .await;
        assert!(page.body.contains("id=\"partitions\""), "{}", page.body);
        assert!(
            page.body
                .contains("<td>counted-1</td><td><pre>{\n  &quot;n&quot;: 3\n}</pre></td>"),
            "{}",
            page.body
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn parked_messages_are_shown_and_replayed_to_the_consumer() {
    let server = EmbeddedServer::start().await.unwrap();
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let ui = Ui::of(&server, None);
    client
        .create_subscription_to_stream("workers", "jobs", &Default::default())
        .await
        .unwrap();
    append(&client, "jobs", 3).await;
    let mut consumer = client
        .read_subscription_to_stream("workers", "jobs", &Default::default())
        .await
        .unwrap();
    // Every job is parked.
    for _ in 0..3 {
        let event = next_event(&mut consumer).await;
        consumer.nack(&event, NackAction::Park, "cannot").unwrap();
    }
    let page = eventually(|| async {
        let page = ui.get("/ui/persistent-subscriptions/jobs/workers").await;
        if page.body.contains("<dd id=\"parked-count\">3</dd>") {
            Ok(page)
        } else {
            Err(page.body)
        }
    })
    .await;
    for n in 0..3 {
        assert!(
            page.body
                .contains(&format!("<a href=\"/ui/streams/jobs/{n}\">{n}@jobs</a>")),
            "job {n} in {}",
            page.body
        );
    }

    // Replayed up to (not including) parked message 1: job 0 comes back.
    let replayed = ui
        .post(
            "/ui/persistent-subscriptions/jobs/workers/replay-parked",
            &[("stop_at", "1")],
        )
        .await;
    assert_eq!(replayed.status, 303, "{}", replayed.body);
    assert_eq!(
        replayed.location(),
        "/ui/persistent-subscriptions/jobs/workers?replayed=1"
    );
    let again = next_event(&mut consumer).await;
    assert_eq!(again.stream_position, 0);
    consumer.ack(&again).unwrap();
    // Parked messages 1 and 2 stay parked.
    let page = eventually(|| async {
        let page = ui.get("/ui/persistent-subscriptions/jobs/workers").await;
        if page.body.contains("<dd id=\"parked-count\">2</dd>") {
            Ok(page)
        } else {
            Err(page.body)
        }
    })
    .await;
    assert!(!page.body.contains("0@jobs"), "{}", page.body);
    assert!(page.body.contains("2@jobs"), "{}", page.body);
    // Then the rest: jobs 1 and 2 come back, and nothing is parked.
    let replayed = ui
        .post(
            "/ui/persistent-subscriptions/jobs/workers/replay-parked",
            &[("stop_at", "")],
        )
        .await;
    assert_eq!(replayed.status, 303, "{}", replayed.body);
    for n in 1..3 {
        let again = next_event(&mut consumer).await;
        assert_eq!(again.stream_position, n);
        consumer.ack(&again).unwrap();
    }
    let page = ui.get("/ui/persistent-subscriptions/jobs/workers").await;
    assert!(
        page.body
            .contains("<p id=\"no-parked\">No parked messages.</p>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<dd id=\"parked-count\">0</dd>"),
        "{}",
        page.body
    );

    // Bad input and a missing group.
    let bad = ui
        .post(
            "/ui/persistent-subscriptions/jobs/workers/replay-parked",
            &[("stop_at", "soon")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("Stop at &quot;soon&quot;"),
        "{}",
        bad.body
    );
    assert_eq!(
        ui.post("/ui/persistent-subscriptions/jobs/idle/replay-parked", &[])
            .await
            .status,
        404
    );
    consumer.stop().await;
    server.shutdown().await;
}

/// A secure server with projections, and a client signed in as `login`.
async fn secure() -> EmbeddedServer {
    EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        run_projections: RunProjections::All,
        ..ServerOptions::default()
    })
    .await
    .unwrap()
}

async fn client_as(server: &EmbeddedServer, login: &str) -> AsyncKurrentDBClient {
    let connection = server.connection_string().replace("admin:changeit", login);
    AsyncKurrentDBClient::connect(&connection).await.unwrap()
}

#[tokio::test]
async fn users_are_managed_from_their_pages_and_logins_follow() {
    let server = secure().await;
    let admin = Ui::of(&server, Some("admin:changeit"));
    let client = client_as(&server, "admin:changeit").await;

    let created = admin
        .post(
            "/ui/users",
            &[
                ("login", "carol"),
                ("full_name", "Carol C"),
                ("groups", "$ops, auditors"),
                ("password", "first"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(created.location(), "/ui/users/carol?done=created");
    let carol = client.get_user("carol", &Default::default()).await.unwrap();
    assert_eq!(carol.full_name, "Carol C");
    assert_eq!(carol.groups, ["$ops", "auditors"]);
    let signs_in = |password: &'static str| {
        let ui = Ui::of(&server, Some(&format!("carol:{password}")));
        async move { ui.get("/ui/users/carol").await.status }
    };
    assert_eq!(signs_in("first").await, 200);

    // Bad input: an empty login, a taken login with another password.
    let empty = admin
        .post("/ui/users", &[("login", " "), ("password", "x")])
        .await;
    assert_eq!(empty.status, 400);
    assert!(
        empty.body.contains("A user needs a login."),
        "{}",
        empty.body
    );
    let taken = admin
        .post("/ui/users", &[("login", "carol"), ("password", "other")])
        .await;
    assert_eq!(taken.status, 400);
    assert!(taken.body.contains("exists already"), "{}", taken.body);

    // Disabled: no login; enabled: logins again.
    let disabled = admin.post("/ui/users/carol/disable", &[]).await;
    assert_eq!(disabled.location(), "/ui/users/carol?done=disabled");
    assert_eq!(signs_in("first").await, 401);
    assert!(
        client
            .get_user("carol", &Default::default())
            .await
            .unwrap()
            .disabled
    );
    admin.post("/ui/users/carol/enable", &[]).await;
    assert_eq!(signs_in("first").await, 200);

    // A password reset by an administrator.
    let reset = admin
        .post(
            "/ui/users/carol/reset-password",
            &[("new_password", "second")],
        )
        .await;
    assert_eq!(reset.location(), "/ui/users/carol?done=password-reset");
    assert_eq!(signs_in("first").await, 401);
    assert_eq!(signs_in("second").await, 200);

    // Carol changes her own password; with a wrong current one, nothing.
    let as_carol = Ui::of(&server, Some("carol:second"));
    let wrong = as_carol
        .post(
            "/ui/users/carol/change-password",
            &[("current_password", "nope"), ("new_password", "third")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("The current password is wrong."));
    let changed = as_carol
        .post(
            "/ui/users/carol/change-password",
            &[("current_password", "second"), ("new_password", "third")],
        )
        .await;
    assert_eq!(changed.location(), "/ui/users/carol?done=password-changed");
    assert_eq!(signs_in("second").await, 401);
    assert_eq!(signs_in("third").await, 200);

    // Deleted: no login, and the client finds no user.
    let deleted = admin.post("/ui/users/carol/delete", &[]).await;
    assert_eq!(deleted.location(), "/ui/users?deleted=carol");
    assert_eq!(signs_in("third").await, 401);
    assert!(matches!(
        client.get_user("carol", &Default::default()).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(admin.post("/ui/users/carol/enable", &[]).await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn a_user_without_the_rights_and_a_foreign_site_are_refused() {
    let server = secure().await;
    let admin_client = client_as(&server, "admin:changeit").await;
    admin_client
        .create_user("reader", "Reader", &[], "reader", &Default::default())
        .await
        .unwrap();
    let admin = Ui::of(&server, Some("admin:changeit"));
    let ops = Ui::of(&server, Some("ops:changeit"));
    let reader = Ui::of(&server, Some("reader:reader"));
    let anonymous = Ui::of(&server, None);
    let new = [("name", "mine"), ("query", COUNTER)];

    // Projections: any user may look, only `$admins` and `$ops` change
    // them, as over gRPC.
    assert_eq!(reader.get("/ui/projections").await.status, 200);
    let refused = reader.post("/ui/projections", &new).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("needs a user in $admins or $ops: KurrentDB&#39;s projection manager"),
        "{}",
        refused.body
    );
    let over_grpc = client_as(&server, "reader:reader")
        .await
        .create_projection("mine", COUNTER, &Default::default())
        .await;
    assert!(
        matches!(over_grpc, Err(Error::AccessDenied { .. })),
        "{over_grpc:?}"
    );
    assert!(matches!(
        status(&admin_client, "mine").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(ops.post("/ui/projections", &new).await.status, 303);
    status_becomes(&admin_client, "mine", ProjectionStatus::Running).await;
    for action in ["disable", "enable", "reset", "update"] {
        let refused = reader
            .post(
                &format!("/ui/projections/mine/{action}"),
                &[("query", COUNTER)],
            )
            .await;
        assert_eq!(refused.status, 403, "{action}: {}", refused.body);
    }
    // Deleting is refused by the policy itself.
    let refused = reader.post("/ui/projections/mine/delete", &[]).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("Projections.Delete"),
        "{}",
        refused.body
    );
    status_becomes(&admin_client, "mine", ProjectionStatus::Running).await;

    // Users: administrators only; a user changes only their own password.
    assert_eq!(reader.get("/ui/users").await.status, 403);
    let refused = reader
        .post("/ui/users", &[("login", "eve"), ("password", "x")])
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("needs a user in $admins"),
        "{}",
        refused.body
    );
    assert_eq!(ops.post("/ui/users/reader/disable", &[]).await.status, 403);
    assert_eq!(reader.get("/ui/users/ops").await.status, 403);
    assert_eq!(reader.get("/ui/users/reader").await.status, 200);
    let refused = reader
        .post(
            "/ui/users/ops/change-password",
            &[("current_password", "changeit"), ("new_password", "x")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(matches!(
        admin_client.get_user("eve", &Default::default()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        !admin_client
            .get_user("reader", &Default::default())
            .await
            .unwrap()
            .disabled
    );

    // Parked messages: replayed by `$admins` and `$ops` only.
    admin_client
        .create_subscription_to_stream("workers", "jobs", &Default::default())
        .await
        .unwrap();
    let replay = "/ui/persistent-subscriptions/jobs/workers/replay-parked";
    let refused = reader.post(replay, &[]).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("Subscriptions.ReplayParked"),
        "{}",
        refused.body
    );
    assert_eq!(ops.post(replay, &[]).await.status, 303);

    // Anonymous posts are asked for a login.
    assert_eq!(anonymous.post("/ui/projections", &new).await.status, 401);
    assert_eq!(
        anonymous.post("/ui/users/ops/disable", &[]).await.status,
        401
    );

    // A post from another site is refused, even an administrator's.
    let foreign = ["Origin: https://evil.example"];
    for (path, fields) in [
        ("/ui/projections", &new[..]),
        ("/ui/users/ops/disable", &[][..]),
        (replay, &[][..]),
        ("/ui/projections/mine/disable", &[][..]),
    ] {
        let refused = admin.post_with(path, fields, &foreign).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
        assert!(
            refused.body.contains("a post from another site"),
            "{path}: {}",
            refused.body
        );
    }
    assert!(
        !admin_client
            .get_user("ops", &Default::default())
            .await
            .unwrap()
            .disabled
    );
    status_becomes(&admin_client, "mine", ProjectionStatus::Running).await;
    // This server's own pages post with its origin.
    let own = format!("Origin: https://localhost:{}", server.addr().port());
    let allowed = admin
        .post_with("/ui/projections/mine/disable", &[], &[&own])
        .await;
    assert_eq!(allowed.status, 303, "{}", allowed.body);
    server.shutdown().await;
}
