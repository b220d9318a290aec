//! HTTP on the node's gRPC port, as KurrentDB serves it: the endpoints'
//! status codes, JSON fields and access rules on insecure, secure and
//! cluster nodes, through curl (HTTP/1.1 and HTTP/2, plain and TLS), with
//! gRPC still served on the same port; and hostile HTTP input.

use std::collections::BTreeMap;
use std::time::Duration;

use kurrentdb_embedded::{
    ClusterOptions, EmbeddedCluster, EmbeddedServer, Security, ServerOptions,
};
use kurrentdbclient::{AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, StreamState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/curl.rs"]
mod support;

use support::curl;

/// One sample of Prometheus text.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses Prometheus / OpenMetrics text strictly: comment lines (`# TYPE`,
/// `# HELP`, `# UNIT`, `# EOF` last), and samples `name{k="v",...} value`.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut saw_eof = false;
    for line in text.lines() {
        assert!(!saw_eof, "a line after # EOF: {line}");
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            match words.next() {
                Some("EOF") => saw_eof = true,
                Some("TYPE") => {
                    let (_, kind) = (words.next().expect("name"), words.next().expect("type"));
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "summary",
                            "unknown",
                            "info"
                        ]
                        .contains(&kind),
                        "{line}"
                    );
                }
                Some("HELP" | "UNIT") => {}
                _ => panic!("unknown comment: {line}"),
            }
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'),
            "bad name: {line}"
        );
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut key = String::new();
            let end;
            loop {
                let (i, c) = chars
                    .next()
                    .unwrap_or_else(|| panic!("open labels: {line}"));
                match c {
                    '}' => {
                        end = i;
                        break;
                    }
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().map(|(_, c)| c) {
                                Some('"') => break,
                                Some('\\') => match chars.next().map(|(_, c)| c) {
                                    Some('n') => value.push('\n'),
                                    Some(c @ ('\\' | '"')) => value.push(c),
                                    other => panic!("bad escape {other:?}: {line}"),
                                },
                                Some(c) => value.push(c),
                                None => panic!("open label value: {line}"),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    c if c.is_ascii_alphanumeric() || c == '_' => key.push(c),
                    c => panic!("bad label character {c:?}: {line}"),
                }
            }
            rest = &inner[end + 1..];
        }
        let mut fields = rest.split_whitespace();
        let value = fields.next().unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    assert!(saw_eof, "no # EOF");
    samples
}

/// The value of the sample `name` with `labels`.
fn sample(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

async fn append_one(client: &AsyncKurrentDBClient, stream: &str) {
    client
        .append_to_stream(
            stream,
            StreamState::Any,
            [NewEvent::new("Tested", r#"{"a":1}"#)],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("gRPC append on the HTTP port");
}

#[tokio::test]
async fn an_insecure_node_serves_kurrentdbs_endpoints_beside_grpc() {
    let server = EmbeddedServer::start().await.unwrap();
    let base = format!("http://{}", server.addr());
    let url = |path: &str| format!("{base}{path}");

    // The Docker healthcheck KurrentDB users copy.
    let healthcheck = tokio::process::Command::new("curl")
        .args(["--fail", "-s", &url("/health/live")])
        .status()
        .await
        .expect("curl runs");
    assert!(healthcheck.success());
    let live = curl(&[], &url("/health/live")).await;
    assert_eq!((live.status, live.version.as_str()), (204, "1.1"));
    assert_eq!(curl(&["-I"], &url("/health/live")).await.status, 204);
    assert_eq!(
        curl(&[], &url("/health/live?liveCode=200")).await.status,
        200
    );
    assert_eq!(
        curl(&[], &url("/health/live?liveCode=abc")).await.status,
        204
    );
    assert_eq!(
        curl(&[], &url("/health/live?liveCode=42")).await.status,
        400
    );
    assert_eq!(
        curl(&["-X", "POST"], &url("/health/live")).await.status,
        404
    );
    assert_eq!(curl(&[], &url("/no/such/page")).await.status, 404);

    // HTTP/2 without TLS, as gRPC speaks it.
    let info = curl(&["--http2-prior-knowledge"], &url("/info")).await;
    assert_eq!((info.status, info.version.as_str()), (200, "2"));
    assert!(info.headers.contains("content-type: application/json"));
    let info = info.json();
    assert_eq!(info["dbVersion"], "25.1.0");
    assert_eq!(info["esVersion"], "25.1.0");
    assert_eq!(info["state"], "leader");
    assert_eq!(info["authentication"]["type"], "insecure");
    assert_eq!(info["features"]["projections"], false);
    assert_eq!(info["features"]["userManagement"], false);
    assert_eq!(info["features"]["atomPub"], false);

    assert_eq!(
        curl(&[], &url("/ping")).await.json()["text"],
        "Ping request successfully handled"
    );

    let gossip = curl(&[], &url("/gossip")).await.json();
    assert_eq!(gossip["serverPort"], server.addr().port());
    assert_eq!(gossip["serverIp"], "127.0.0.1");
    let members = gossip["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    let me = &members[0];
    assert_eq!(me["state"], "Leader");
    assert_eq!(me["isAlive"], true);
    assert_eq!(me["httpEndPointIp"], "127.0.0.1");
    assert_eq!(me["httpEndPointPort"], server.addr().port());
    assert_eq!(me["epochNumber"], 1);
    assert_eq!(me["isReadOnlyReplica"], false);
    uuid::Uuid::parse_str(me["instanceId"].as_str().unwrap()).unwrap();
    uuid::Uuid::parse_str(me["epochId"].as_str().unwrap()).unwrap();
    for field in [
        "timeStamp",
        "internalTcpIp",
        "internalTcpPort",
        "internalSecureTcpPort",
        "externalTcpIp",
        "externalTcpPort",
        "externalSecureTcpPort",
        "internalHttpEndPointIp",
        "internalHttpEndPointPort",
        "lastCommitPosition",
        "writerCheckpoint",
        "chaserCheckpoint",
        "epochPosition",
        "nodePriority",
        "esVersion",
    ] {
        assert!(!me[field].is_null(), "{field} in {me}");
    }

    let stats = curl(&[], &url("/stats")).await.json();
    assert!(stats["es"]["checksum"].is_u64(), "{stats}");
    assert!(stats["proc"]["id"].is_u64(), "{stats}");
    assert_eq!(
        curl(&[], &url("/stats/es")).await.json()["checksum"],
        stats["es"]["checksum"]
    );
    assert_eq!(curl(&[], &url("/stats/nope")).await.status, 404);
    let flat = curl(&[], &url("/stats?group=false")).await.json();
    assert!(flat["es-checksum"].is_u64(), "{flat}");
    assert_eq!(curl(&[], &url("/stats/es?group=false")).await.status, 400);

    // gRPC on the same port, and /metrics moving with it.
    let metrics = curl(&[], &url("/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .headers
            .contains("content-type: application/openmetrics-text")
    );
    let before = parse_prometheus(&metrics.body);
    let written = |s: &[Sample]| sample(s, "kurrentdb_io_events_total", &[("activity", "written")]);
    let calls = |s: &[Sample]| {
        sample(
            s,
            "kurrentdb_incoming_grpc_calls_total",
            &[("kind", "total")],
        )
        .unwrap_or(0.0)
    };
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    append_one(&client, "http-metrics").await;
    append_one(&client, "http-metrics").await;
    let after = parse_prometheus(&curl(&[], &url("/metrics")).await.body);
    assert_eq!(written(&after).unwrap(), written(&before).unwrap() + 2.0);
    assert!(calls(&after) >= calls(&before) + 2.0);
    assert!(
        sample(
            &after,
            "kurrentdb_grpc_method_duration_seconds_count",
            &[("activity", "append"), ("status", "successful")]
        )
        .unwrap()
            >= 2.0
    );
    let read_before = sample(&after, "kurrentdb_io_events_total", &[("activity", "read")]).unwrap();
    let events = client
        .get_stream("http-metrics", &Default::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    let read_after = parse_prometheus(&curl(&[], &url("/metrics")).await.body);
    assert!(
        sample(
            &read_after,
            "kurrentdb_io_events_total",
            &[("activity", "read")]
        )
        .unwrap()
            >= read_before + 2.0
    );
    let writer = sample(&read_after, "kurrentdb_checkpoints", &[("name", "writer")]).unwrap();
    assert!(writer > 0.0);
    for checkpoint in ["index", "replication"] {
        let labels = [("name", checkpoint), ("read", "non-flushed")];
        assert_eq!(
            sample(&read_after, "kurrentdb_checkpoints", &labels),
            Some(writer)
        );
    }
    assert_eq!(
        sample(&read_after, "kurrentdb_current_incoming_grpc_calls", &[]),
        Some(0.0)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_secure_node_serves_https_and_asks_a_login_for_statistics() {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let ca = server.ca_file().unwrap().to_str().unwrap().to_owned();
    let base = format!("https://127.0.0.1:{}", server.addr().port());
    let url = |path: &str| format!("{base}{path}");
    let tls = ["--cacert", ca.as_str()];

    // ALPN picks HTTP/2; a client offering only HTTP/1.1 is served too.
    let live = curl(&tls, &url("/health/live")).await;
    assert_eq!((live.status, live.version.as_str()), (204, "2"));
    let live = curl(&[&tls[..], &["--http1.1"]].concat(), &url("/health/live")).await;
    assert_eq!((live.status, live.version.as_str()), (204, "1.1"));
    // Wrong credentials do not matter to the health check.
    assert_eq!(
        curl(
            &[&tls[..], &["-u", "admin:wrong"]].concat(),
            &url("/health/live")
        )
        .await
        .status,
        204
    );

    let info = curl(&tls, &url("/info")).await.json();
    assert_eq!(info["authentication"]["type"], "internal");
    assert_eq!(info["features"]["userManagement"], true);
    assert_eq!(curl(&tls, &url("/gossip")).await.status, 200);
    assert_eq!(curl(&tls, &url("/ping")).await.status, 200);

    let admin = [&tls[..], &["-u", "admin:changeit"]].concat();
    let wrong = [&tls[..], &["-u", "admin:wrong"]].concat();
    for path in ["/stats", "/metrics"] {
        assert_eq!(curl(&tls, &url(path)).await.status, 401, "{path}");
        assert_eq!(curl(&admin, &url(path)).await.status, 200, "{path}");
        let refused = curl(&wrong, &url(path)).await;
        assert_eq!(refused.status, 401, "{path}");
        assert!(
            refused
                .headers
                .contains("www-authenticate: x-basic realm=\"esdb\""),
            "{}",
            refused.headers
        );
    }
    // Refused credentials are refused on every route but the health check.
    assert_eq!(curl(&wrong, &url("/info")).await.status, 401);
    parse_prometheus(&curl(&admin, &url("/metrics")).await.body);

    // gRPC over the same TLS port.
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    append_one(&client, "https").await;
    server.shutdown().await;
}

#[tokio::test]
async fn kurrentdbs_anonymous_access_options_open_the_endpoints() {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        allow_anonymous_endpoint_access: true,
        override_anonymous_endpoint_access_for_gossip: false,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let ca = server.ca_file().unwrap().to_str().unwrap().to_owned();
    let url = |path: &str| format!("https://localhost:{}{path}", server.addr().port());
    for path in ["/stats", "/metrics", "/gossip"] {
        assert_eq!(
            curl(&["--cacert", &ca], &url(path)).await.status,
            200,
            "{path}"
        );
    }
    server.shutdown().await;

    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        override_anonymous_endpoint_access_for_gossip: false,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let ca = server.ca_file().unwrap().to_str().unwrap().to_owned();
    let url = format!("https://localhost:{}/gossip", server.addr().port());
    assert_eq!(curl(&["--cacert", &ca], &url).await.status, 401);
    assert_eq!(
        curl(&["--cacert", &ca, "-u", "ops:changeit"], &url)
            .await
            .status,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn every_node_of_a_cluster_serves_http() {
    let cluster = EmbeddedCluster::start_with(ClusterOptions {
        cluster_size: 3,
        election_timeout: Duration::from_millis(100),
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    for index in 0..3 {
        let base = format!("http://{}", cluster.addr(index));
        assert_eq!(curl(&[], &format!("{base}/health/live")).await.status, 204);
        let info = curl(&[], &format!("{base}/info")).await.json();
        assert_eq!(
            info["state"],
            if index == 0 { "leader" } else { "follower" }
        );
        let gossip = curl(&[], &format!("{base}/gossip")).await.json();
        assert_eq!(gossip["serverPort"], cluster.addr(index).port());
        let members = gossip["members"].as_array().unwrap();
        assert_eq!(members.len(), 3);
        let states: Vec<&str> = members
            .iter()
            .map(|m| m["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["Leader", "Follower", "Follower"]);
        for (i, m) in members.iter().enumerate() {
            assert_eq!(m["httpEndPointPort"], cluster.addr(i).port());
        }
    }
    // gRPC through the cluster's ports still finds the leader.
    let client = AsyncKurrentDBClient::connect(&cluster.connection_string())
        .await
        .unwrap();
    append_one(&client, "cluster-http").await;
    cluster.shutdown().await;
}

/// Sends `request` on a fresh connection and returns what comes back before
/// the server closes it or a second passes.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before the whole request is sent.
    let _ = socket.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn hostile_http_neither_crashes_the_node_nor_stops_grpc() {
    let server = EmbeddedServer::start().await.unwrap();
    let addr = server.addr();
    // Many slow clients: half-sent heads, held open.
    let mut slow = Vec::new();
    for _ in 0..64 {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(b"GET /info HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(socket);
    }
    // A huge header and a huge path: refused, 431 or 414 family.
    let huge = format!(
        "GET /info HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let answer = raw(addr, huge.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    let path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "p".repeat(1 << 20));
    let answer = raw(addr, path.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    // A method nobody knows, and bytes that are no HTTP at all.
    let answer = raw(
        addr,
        b"BREW /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer:.200}");
    let answer = raw(addr, b"\x00\x01\x02 garbage\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:.200}");

    // Meanwhile gRPC and HTTP are served.
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    append_one(&client, "hostile-http").await;
    let url = format!("http://{addr}/health/live");
    assert_eq!(curl(&[], &url).await.status, 204);
    drop(slow);
    server.shutdown().await;
}

#[tokio::test]
async fn the_ui_on_a_secure_node_asks_a_login_and_applies_the_acl() {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let ca = server.ca_file().unwrap().to_str().unwrap().to_owned();
    let url = |path: &str| format!("https://localhost:{}{path}", server.addr().port());
    let tls = ["--cacert", ca.as_str()];
    let admin = [&tls[..], &["-u", "admin:changeit"]].concat();
    let ops = [&tls[..], &["-u", "ops:changeit"]].concat();

    // `/` leads to the UI.
    let root = curl(&tls, &url("/")).await;
    assert_eq!(root.status, 303);
    assert!(root.headers.contains("location: /ui"), "{}", root.headers);

    // Anonymous: the browser's login box; refused credentials too.
    let anonymous = curl(&tls, &url("/ui/streams/orders")).await;
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .headers
            .contains("www-authenticate: basic realm=\"kurrentdb\""),
        "{}",
        anonymous.headers
    );
    assert_eq!(
        curl(
            &[&tls[..], &["-u", "admin:wrong"]].concat(),
            &url("/ui/streams/orders")
        )
        .await
        .status,
        401
    );

    // A form post appends as the signed-in user (303 to the stream).
    let post = [
        &admin[..],
        &[
            "--data-urlencode",
            "event_type=FromForm",
            "--data-urlencode",
            "json=on",
            "--data-urlencode",
            "data={\"a\":1}",
        ],
    ]
    .concat();
    let appended = curl(&post, &url("/ui/streams/orders")).await;
    assert_eq!(appended.status, 303, "{}", appended.body);
    assert!(
        appended
            .headers
            .contains("location: /ui/streams/orders?appended=0")
    );
    let page = curl(&admin, &url("/ui/streams/orders")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("FromForm"), "{}", page.body);
    // The event's page shows its body, pretty-printed and escaped.
    let event = curl(&admin, &url("/ui/streams/orders/0")).await;
    assert!(event.body.contains("&quot;a&quot;: 1"), "{}", event.body);
    assert_eq!(curl(&admin, &url("/ui/streams/orders/7")).await.status, 404);

    // A post from another site is refused, signed in or not.
    let forged = [&post[..], &["-H", "Origin: https://evil.example"]].concat();
    assert_eq!(curl(&forged, &url("/ui/streams/orders")).await.status, 403);

    // `ops` is no admin: system streams and `$all` are not for it.
    assert_eq!(curl(&ops, &url("/ui/streams/orders")).await.status, 200);
    assert_eq!(curl(&ops, &url("/ui/streams/$all")).await.status, 403);
    assert_eq!(
        curl(&ops, &url("/ui/streams/$epoch-information"))
            .await
            .status,
        403
    );
    assert_eq!(curl(&admin, &url("/ui/streams/$all")).await.status, 200);

    // Users are for administrators.
    assert_eq!(curl(&tls, &url("/ui/users")).await.status, 401);
    assert_eq!(curl(&ops, &url("/ui/users")).await.status, 403);
    let users = curl(&admin, &url("/ui/users")).await;
    assert_eq!(users.status, 200);
    assert!(users.body.contains("<td>ops</td>"), "{}", users.body);
    assert!(users.body.contains("signed in as admin"), "{}", users.body);

    // Projections and persistent subscriptions need a login.
    assert_eq!(curl(&tls, &url("/ui/projections")).await.status, 401);
    assert_eq!(
        curl(&tls, &url("/ui/persistent-subscriptions"))
            .await
            .status,
        401
    );
    assert_eq!(
        curl(&ops, &url("/ui/persistent-subscriptions"))
            .await
            .status,
        200
    );
    assert_eq!(curl(&ops, &url("/ui/projections")).await.status, 200);

    // The dashboard's figures are statistics: a login is needed.
    assert_eq!(curl(&tls, &url("/ui/dashboard")).await.status, 401);
    assert_eq!(curl(&tls, &url("/ui/dashboard/figures")).await.status, 401);
    assert_eq!(curl(&ops, &url("/ui/dashboard")).await.status, 200);
    let figures = curl(&admin, &url("/ui/dashboard/figures")).await.json();
    assert_eq!(
        figures["events_written"].as_u64(),
        Some(server.store().log_len() as u64)
    );
    assert_eq!(figures["members_alive"], 1);

    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let events = client
        .get_stream("orders", &Default::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].r#type, "FromForm");
    server.shutdown().await;
}

#[tokio::test]
async fn the_ui_shows_the_projections() {
    let server = EmbeddedServer::start_with(ServerOptions {
        run_projections: kurrentdb_embedded::RunProjections::All,
        start_standard_projections: true,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let url = |path: &str| format!("http://{}{path}", server.addr());
    let list = curl(&[], &url("/ui/projections")).await;
    assert_eq!(list.status, 200);
    for name in ["$by_category", "$by_event_type", "$streams"] {
        assert!(
            list.body
                .contains(&format!("<a href=\"/ui/projections/{name}\">{name}</a>")),
            "{name} in {}",
            list.body
        );
    }
    let one = curl(&[], &url("/ui/projections/$by_category")).await;
    assert_eq!(one.status, 200);
    assert!(
        one.body.contains("<dd id=\"status\">Running</dd>"),
        "{}",
        one.body
    );
    assert_eq!(curl(&[], &url("/ui/projections/nope")).await.status, 404);
    server.shutdown().await;

    let server = EmbeddedServer::start().await.unwrap();
    let off = curl(&[], &format!("http://{}/ui/projections", server.addr())).await;
    assert!(off.body.contains("id=\"off\""), "{}", off.body);
    server.shutdown().await;
}

#[tokio::test]
async fn the_ui_shows_the_persistent_subscriptions() {
    let server = EmbeddedServer::start().await.unwrap();
    let url = |path: &str| format!("http://{}{path}", server.addr());
    let none = curl(&[], &url("/ui/persistent-subscriptions")).await;
    assert!(none.body.contains("id=\"none\""), "{}", none.body);
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    client
        .create_subscription_to_stream("workers", "jobs/<1>", &Default::default())
        .await
        .unwrap();
    let list = curl(&[], &url("/ui/persistent-subscriptions")).await;
    assert!(
        list.body.contains(
            "<a href=\"/ui/persistent-subscriptions/jobs%2F%3C1%3E/workers\">workers</a>"
        ),
        "{}",
        list.body
    );
    assert!(list.body.contains("jobs/&lt;1&gt;"), "{}", list.body);
    let one = curl(
        &[],
        &url("/ui/persistent-subscriptions/jobs%2F%3C1%3E/workers"),
    )
    .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(
        one.body.contains("<dd id=\"connections\">0</dd>"),
        "{}",
        one.body
    );
    assert!(
        one.body
            .contains("/ui/streams/$persistentsubscription-jobs%2F%3C1%3E%3A%3Aworkers-parked"),
        "{}",
        one.body
    );
    assert_eq!(
        curl(&[], &url("/ui/persistent-subscriptions/jobs/nope"))
            .await
            .status,
        404
    );
    server.shutdown().await;
}
