//! The web UI in a real browser: headless Chromium driven through
//! chromedriver (WebDriver). A user browses to a stream our client wrote,
//! sees its events, opens one, and appends one from the form, which the
//! client then reads; creates a JavaScript projection from its form and
//! sees its state; replays a group's parked messages, which its consumer
//! receives again; and, on a secure server, signs in and is refused what
//! the ACL refuses. With `KURRENTDB_UI_SCREENSHOTS=1` the main pages are
//! saved as screenshots under `docs/images/` (the README shows them).
//!
//! Signing in: chromedriver cannot answer the browser's login box, but
//! Chromium uses the credentials of a top-level URL
//! (`https://user:password@localhost:PORT/ui/...`) when the page asks for
//! a login, and then keeps sending them to the pages under `/ui/`. A
//! secure server always speaks TLS, with a certificate the browser does
//! not trust (the `--dev` CA): the session asks WebDriver's standard
//! `acceptInsecureCerts`, which this one session takes, instead of
//! installing the CA.
//!
//! Chromium and chromedriver come from Debian's `chromium` and
//! `chromium-driver` (`.ci/run` installs them). CI sets
//! `KURRENTDB_TESTS_REQUIRE_BROWSER`, and then the test fails without them;
//! elsewhere (a fresh machine running `cargo test --workspace`) it says that
//! it did not run and why, so that the README's test command passes with
//! what a fresh machine has.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures::StreamExt;
use kurrentdb_embedded::{EmbeddedServer, RunProjections, Security, ServerOptions};
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, NackAction, NewEvent, PersistentSubscription,
    ReadStreamOptions, RecordedEvent, StreamAcl, StreamMetadata, StreamState,
};

/// A chromedriver process, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn which(program: &str) -> PathBuf {
    find(program).unwrap_or_else(|| {
        panic!("{program} is not installed: apt-get install chromium chromium-driver")
    })
}

/// Whether the browser test can run here: the browser and its driver are
/// installed, or CI requires them (and the test then fails without them).
fn browser_available() -> bool {
    let installed = find("chromium").is_some() && find("chromedriver").is_some();
    if !installed && std::env::var_os("KURRENTDB_TESTS_REQUIRE_BROWSER").is_none() {
        eprintln!(
            "NOT RUN: the web UI browser test needs chromium and chromedriver \
             (apt-get install chromium chromium-driver)"
        );
        return false;
    }
    true
}

/// Starts chromedriver on a free port and waits until it listens.
async fn driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(which("chromedriver"))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = std::env::temp_dir().join(format!("kdb-ui-{}", uuid::Uuid::new_v4()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not listen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    browser_with(driver, false).await
}

/// A Chromium session; `accept_insecure_certs` for a secure server's
/// development certificate (see the module docs).
async fn browser_with(driver: &Driver, accept_insecure_certs: bool) -> Client {
    let args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1200,800",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([format!("--user-data-dir={}", driver.profile.display())])
    .collect();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": which("chromium").display().to_string(),
            "args": args,
        }),
    );
    if accept_insecure_certs {
        capabilities.insert("acceptInsecureCerts".into(), true.into());
    }
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Saves a screenshot of the page as `docs/images/NAME.png`.
/// Takes a screenshot of the page (a PNG, checked as such); with
/// `KURRENTDB_UI_SCREENSHOTS=1` it replaces `docs/images/<name>.png`, so
/// that an ordinary test run leaves the source tree as it was.
async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
    if std::env::var_os("KURRENTDB_UI_SCREENSHOTS").is_some() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/images");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

async fn text(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Whether the server runs JavaScript projections: CI sets
/// `KURRENTDB_TESTS_REQUIRE_JAVASCRIPT`, and then a build without the engine
/// fails; elsewhere the scenario says it did not run.
fn javascript_available() -> bool {
    let on = kurrentdb_embedded::projections::JAVASCRIPT;
    if !on && std::env::var_os("KURRENTDB_TESTS_REQUIRE_JAVASCRIPT").is_some() {
        panic!(
            "KURRENTDB_TESTS_REQUIRE_JAVASCRIPT is set, but kurrentdb-embedded was built \
             without its `javascript` feature"
        );
    }
    if !on {
        eprintln!("NOT RUN: the projection scenario needs the `javascript` feature");
    }
    on
}

/// Reloads the page until the text of `css` satisfies `done` (at most 10 s).
async fn reload_until(browser: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = text(browser, css).await;
        if done(&seen) {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} still shows {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        browser.refresh().await.unwrap();
    }
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Types `event_type` and `data` into the stream page's append form and
/// sends it.
async fn append_from_form(browser: &Client, event_type: &str, data: &str) {
    browser
        .find(Locator::Css("#event-type"))
        .await
        .unwrap()
        .send_keys(event_type)
        .await
        .unwrap();
    let field = browser.find(Locator::Css("#event-data")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(data).await.unwrap();
    browser
        .find(Locator::Css("#append-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The consumer's next event, waited for 10 s at most.
async fn next_event(consumer: &mut PersistentSubscription) -> RecordedEvent {
    tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("an event within 10 s")
        .expect("the subscription goes on")
        .expect("an event, not an error")
}

#[tokio::test]
async fn a_user_browses_a_stream_opens_an_event_and_appends_one() {
    if !browser_available() {
        return;
    }
    let server = EmbeddedServer::start().await.unwrap();
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let options = AppendToStreamOptions::default();
    client
        .append_to_stream(
            "order/1 <b>",
            StreamState::NoStream,
            [
                NewEvent::new("OrderPlaced", r#"{"total":42,"lines":[{"sku":"a-1"}]}"#),
                NewEvent::new("<img src=x onerror=alert(1)>", r#"{"note":"<script>"}"#),
                NewEvent::new("Scanned", vec![0u8, 1, 2, 0xff])
                    .with_content_type("application/octet-stream"),
            ],
            &options,
        )
        .await
        .unwrap();

    let driver = driver().await;
    let browser = browser(&driver).await;
    let base = format!("http://{}", server.addr());

    // `/` leads to the UI; the cluster page shows this node leading.
    browser.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(text(&browser, "#node-state").await, "Leader");
    screenshot(&browser, "ui-cluster").await;

    // The stream, from the list of streams written last.
    browser.goto(&format!("{base}/ui/streams")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::LinkText("order/1 <b>"))
        .await
        .expect("the stream is listed")
        .click()
        .await
        .unwrap();
    let table = text(&browser, "#events").await;
    for expected in ["OrderPlaced", "<img src=x onerror=alert(1)>", "Scanned"] {
        assert!(table.contains(expected), "{expected} in {table}");
    }
    // Rendered as text, never as markup.
    assert!(
        browser
            .find_all(Locator::Css("#events img, h1 b"))
            .await
            .unwrap()
            .is_empty()
    );
    screenshot(&browser, "ui-stream").await;

    // One event: its JSON body pretty-printed.
    browser
        .find(Locator::Css("#events tr:last-child td a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text(&browser, "#event-type").await, "OrderPlaced");
    let body = text(&browser, "#event-body").await;
    // Indented, in the order it was written.
    assert!(
        body.starts_with("{\n  \"total\": 42,\n  \"lines\": ["),
        "{body}"
    );
    screenshot(&browser, "ui-event").await;

    // A binary body shows as bytes.
    browser
        .goto(&format!("{base}/ui/streams/order%2F1%20%3Cb%3E/2"))
        .await
        .unwrap();
    assert!(text(&browser, "#event-body").await.contains("00 01 02 ff"));

    // Append from the form, then read it with the client.
    browser
        .goto(&format!("{base}/ui/streams/order%2F1%20%3Cb%3E"))
        .await
        .unwrap();
    append_from_form(&browser, "FromBrowser", r#"{"from":"browser"}"#).await;
    assert_eq!(text(&browser, "#appended").await, "Appended event 3.");
    let events = client
        .get_stream("order/1 <b>", &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[3].r#type, "FromBrowser");
    assert_eq!(&events[3].data[..], br#"{"from":"browser"}"#);

    // A wrong body is refused with the reason, nothing written.
    append_from_form(&browser, "Broken", "{not json").await;
    assert!(text(&browser, "#problem").await.contains("not JSON"));
    assert_eq!(
        client
            .get_stream("order/1 <b>", &ReadStreamOptions::default())
            .await
            .unwrap()
            .len(),
        4
    );

    // `$all`, newest first, paged.
    browser
        .goto(&format!("{base}/ui/streams/$all?count=2"))
        .await
        .unwrap();
    assert!(text(&browser, "#events").await.contains("FromBrowser"));
    browser
        .find(Locator::Css("#next"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        text(&browser, "#events")
            .await
            .contains("<img src=x onerror=alert(1)>")
    );

    // The dashboard's figures follow the server, live (the page's script
    // fetches them every second).
    browser.goto(&format!("{base}/ui/dashboard")).await.unwrap();
    let written: u64 = text(&browser, "#f-events_written").await.parse().unwrap();
    assert_eq!(written, server.store().log_len() as u64);
    client
        .append_to_stream(
            "live",
            StreamState::Any,
            [NewEvent::new("Tick", "{}")],
            &options,
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now: u64 = text(&browser, "#f-events_written").await.parse().unwrap();
        if now == written + 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dashboard still shows {now}, not {}",
            written + 1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&browser, "ui-dashboard").await;

    browser.close().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn a_user_creates_a_javascript_projection_and_sees_its_state() {
    if !browser_available() || !javascript_available() {
        return;
    }
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
    let options = AppendToStreamOptions::default();
    for (stream, pages) in [("visits-home", 3), ("visits-cart", 2)] {
        let events: Vec<NewEvent> = (0..pages)
            .map(|i| NewEvent::new("PageViewed", format!("{{\"n\":{i}}}")))
            .collect();
        client
            .append_to_stream(stream, StreamState::Any, events, &options)
            .await
            .unwrap();
    }

    let driver = driver().await;
    let browser = browser(&driver).await;
    let base = format!("http://{}", server.addr());
    browser
        .goto(&format!("{base}/ui/projections"))
        .await
        .unwrap();
    browser
        .find(Locator::Css("#projection-name"))
        .await
        .unwrap()
        .send_keys("page-views")
        .await
        .unwrap();
    let query = browser
        .find(Locator::Css("#projection-query"))
        .await
        .unwrap();
    query.clear().await.unwrap();
    query
        .send_keys(
            "fromCategory('visits').when({\n\
             $init: function () { return { views: 0, last: null }; },\n\
             PageViewed: function (s, e) { s.views += 1; s.last = e.streamId; return s; }\n\
             })",
        )
        .await
        .unwrap();
    click(&browser, "#create-projection").await;
    assert_eq!(text(&browser, "#done").await, "Created.");
    assert_eq!(text(&browser, "h1").await, "page-views");
    // The state, once the projection caught up (the page shows it as of
    // its loading).
    let state = reload_until(&browser, "#state", |s| s.contains("\"views\": 5")).await;
    assert!(state.contains("\"last\": \"visits-cart\""), "{state}");
    assert_eq!(text(&browser, "#status").await, "Running");
    screenshot(&browser, "ui-projection").await;
    let seen = client
        .get_projection_state("page-views", &Default::default())
        .await
        .unwrap();
    assert_eq!(seen["views"], 5);

    browser.close().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn a_user_replays_parked_messages_and_the_consumer_gets_them_again() {
    if !browser_available() {
        return;
    }
    let server = EmbeddedServer::start().await.unwrap();
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    client
        .create_subscription_to_stream("mailers", "emails", &Default::default())
        .await
        .unwrap();
    let events: Vec<NewEvent> = ["welcome", "reminder", "receipt"]
        .iter()
        .map(|kind| NewEvent::new("EmailRequested", format!("{{\"kind\":\"{kind}\"}}")))
        .collect();
    client
        .append_to_stream(
            "emails",
            StreamState::NoStream,
            events,
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let mut consumer = client
        .read_subscription_to_stream("mailers", "emails", &Default::default())
        .await
        .unwrap();
    for _ in 0..3 {
        let event = next_event(&mut consumer).await;
        consumer
            .nack(&event, NackAction::Park, "mail server down")
            .unwrap();
    }

    let driver = driver().await;
    let browser = browser(&driver).await;
    let base = format!("http://{}", server.addr());
    browser
        .goto(&format!("{base}/ui/persistent-subscriptions"))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::LinkText("mailers"))
        .await
        .expect("the group is listed")
        .click()
        .await
        .unwrap();
    reload_until(&browser, "#parked-count", |n| n == "3").await;
    let parked = text(&browser, "#parked").await;
    for n in 0..3 {
        assert!(parked.contains(&format!("{n}@emails")), "{parked}");
    }
    screenshot(&browser, "ui-persistent-subscription").await;

    click(&browser, "#replay-parked").await;
    assert!(text(&browser, "#done").await.contains("again"));
    for n in 0..3 {
        let again = next_event(&mut consumer).await;
        assert_eq!(again.stream_position, n);
        consumer.ack(&again).unwrap();
    }
    reload_until(&browser, "#parked-count", |n| n == "0").await;
    assert_eq!(text(&browser, "#no-parked").await, "No parked messages.");

    consumer.stop().await;
    browser.close().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn a_user_signs_in_on_a_secure_server_and_is_refused_what_the_acl_refuses() {
    if !browser_available() {
        return;
    }
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    client
        .create_user("reader", "Reader", &[], "reads", &Default::default())
        .await
        .unwrap();
    let options = AppendToStreamOptions::default();
    for stream in ["orders", "salaries"] {
        client
            .append_to_stream(
                stream,
                StreamState::Any,
                [NewEvent::new("Noted", "{}")],
                &options,
            )
            .await
            .unwrap();
    }
    let admins_only = StreamMetadata::default().with_acl(StreamAcl {
        read: vec!["$admins".to_owned()],
        ..StreamAcl::default()
    });
    client
        .set_stream_metadata(
            "salaries",
            &admins_only,
            StreamState::Any,
            &Default::default(),
        )
        .await
        .unwrap();

    let driver = driver().await;
    let browser = browser_with(&driver, true).await;
    let port = server.addr().port();
    // Signed in through the URL: the page asks, Chromium answers.
    browser
        .goto(&format!(
            "https://reader:reads@localhost:{port}/ui/streams/orders"
        ))
        .await
        .unwrap();
    assert_eq!(text(&browser, "#me").await, "signed in as reader");
    assert!(text(&browser, "#events").await.contains("Noted"));
    // The login is kept for the other pages; the ACL refuses the stream
    // only admins may read, and the users page.
    let base = format!("https://localhost:{port}");
    browser
        .goto(&format!("{base}/ui/streams/salaries"))
        .await
        .unwrap();
    assert_eq!(text(&browser, "h1").await, "Access denied");
    assert!(text(&browser, "#rule").await.contains("$r"));
    browser.goto(&format!("{base}/ui/users")).await.unwrap();
    assert_eq!(text(&browser, "h1").await, "Access denied");
    assert!(text(&browser, "#rule").await.contains("$admins"));
    // Their own page is theirs.
    click(&browser, "#me").await;
    assert_eq!(text(&browser, "#login").await, "reader");
    assert!(
        browser
            .find_all(Locator::Css("#delete-user"))
            .await
            .unwrap()
            .is_empty()
    );

    browser.close().await.unwrap();
    server.shutdown().await;
}
