//! The connection: credentials and TLS, `close`, unreachable and silent
//! servers, deadlines, and the retry after a dropped connection.

use kurrentdbclient::options::*;
use kurrentdbclient::{Credentials, Error, StreamState};
use std::time::Duration;

use super::event;
use crate::common::harness::{ClientUnderTest, TestPersistentSubscription, TestSubscription};
use crate::common::proxy::DroppingProxy;
use crate::common::{against_real_server, server_addr, server_uri, unique, with_endpoint};

/// Credentials are sent over `tls=false` when given, as the official clients
/// do: the user info, a settings token and a call's credentials reach a plain
/// HTTP/2 server; the embedded server's insecure mode, like KurrentDB's
/// `--insecure`, ignores them (even wrong ones) and lets every call through.
pub async fn credentials_are_sent_over_insecure_connections<C: ClientUnderTest>(_client: &C) {
    let plain = crate::common::tls::TlsServer::start_plain().await;
    let authorization = || {
        plain
            .last()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let info = GetServerInfoOptions::default();
    let with_user = C::connect(&format!(
        "kurrentdb://admin:changeit@{}?tls=false",
        plain.addr
    ))
    .await
    .unwrap();
    with_user.get_server_info(&info).await.unwrap();
    assert_eq!(
        authorization().as_deref(),
        Some("Basic YWRtaW46Y2hhbmdlaXQ=")
    );
    with_user
        .get_server_info(&info.clone().credentials(Credentials::bearer("call.token")))
        .await
        .unwrap();
    assert_eq!(authorization().as_deref(), Some("Bearer call.token"));
    let settings: kurrentdbclient::ConnectionSettings =
        format!("kurrentdb://admin:changeit@{}?tls=false", plain.addr)
            .parse()
            .unwrap();
    let with_token = C::with_settings(settings.with_bearer_token("client.token"))
        .await
        .unwrap();
    with_token.get_server_info(&info).await.unwrap();
    assert_eq!(authorization().as_deref(), Some("Bearer client.token"));
    with_token
        .get_server_info(&info.clone().credentials(Credentials::new("ops", "secret")))
        .await
        .unwrap();
    assert_eq!(authorization().as_deref(), Some("Basic b3BzOnNlY3JldA=="));
    let without = C::connect(&format!("kurrentdb://{}?tls=false", plain.addr))
        .await
        .unwrap();
    without.get_server_info(&info).await.unwrap();
    assert_eq!(authorization(), None);

    // The insecure embedded server ignores credentials, wrong ones included.
    let uri = format!("kurrentdb://nobody:wrong@{}?tls=false", server_addr());
    let client = C::connect(&uri).await.unwrap();
    let stream = unique("creds");
    for creds in [
        Credentials::new("admin", "not-the-password"),
        Credentials::bearer("not-a-token"),
    ] {
        client
            .append_to_stream(
                &stream,
                StreamState::Any,
                vec![event("A", "{}")],
                &AppendToStreamOptions::default().credentials(creds.clone()),
            )
            .await
            .expect("an insecure server ignores credentials");
        client
            .read_stream(&stream, &ReadStreamOptions::default().credentials(creds))
            .await
            .expect("an insecure server ignores credentials");
    }
    client.get_server_info(&info).await.unwrap();
}

/// After `close()`, every call gives ClientClosed, and open subscriptions end.
pub async fn calls_after_close_give_client_closed<C: ClientUnderTest>(_client: &C) {
    let client = C::connect(&server_uri()).await.unwrap();
    let mut sub = client
        .subscribe_to_all(&SubscribeToAllOptions::default().from_end(true))
        .await
        .unwrap();
    let group_stream = unique("closed-group");
    client
        .create_subscription_to_stream("closing", &group_stream, &Default::default())
        .await
        .unwrap();
    let mut consumer = client
        .read_subscription_to_stream("closing", &group_stream, &Default::default())
        .await
        .unwrap();
    client.close();
    let r = client
        .append_to_stream(
            &unique("closed"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
    let r = client
        .read_stream(&unique("closed"), &ReadStreamOptions::default())
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
    let r = client
        .get_commit_position(&GetCommitPositionOptions::default())
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
    let r = client
        .subscribe_to_all(&SubscribeToAllOptions::default())
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{:?}", r.err());
    let next = tokio::time::timeout(Duration::from_secs(5), sub.next_item())
        .await
        .expect("the open subscription ends");
    assert!(
        matches!(next, Some(Err(Error::ClientClosed)) | None),
        "{next:?}"
    );
    // Persistent subscriptions end too.
    let next = tokio::time::timeout(Duration::from_secs(5), consumer.next_event())
        .await
        .expect("the open persistent subscription ends");
    assert!(matches!(next, Some(Err(Error::ClientClosed))), "{next:?}");
    let next = tokio::time::timeout(Duration::from_secs(5), consumer.next_event())
        .await
        .expect("and stays ended");
    assert!(next.is_none(), "{next:?}");
}

/// TLS files that cannot be read fail `connect`, not the first call.
pub async fn missing_tls_files_fail_at_connect<C: ClientUnderTest>(_client: &C) {
    let r = C::connect("kurrentdb://localhost:2113?tlsCaFile=/no/such/ca.pem").await;
    assert!(matches!(r, Err(Error::Tls(_))), "{:?}", r.err());
    let r = C::connect(
        "kurrentdb://localhost:2113?userCertFile=/no/such/cert.pem&userKeyFile=/no/such/key.pem",
    )
    .await;
    assert!(matches!(r, Err(Error::Tls(_))), "{:?}", r.err());
}

/// Nobody listening: ServiceUnavailable (after the one retry).
pub async fn unreachable_server_is_service_unavailable<C: ClientUnderTest>(_client: &C) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = C::connect(&format!("kurrentdb://127.0.0.1:{port}?tls=false"))
        .await
        .expect("connecting is lazy");
    let r = client
        .append_to_stream(
            &unique("down"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::ServiceUnavailable(_))), "{r:?}");
}

/// `defaultDeadline` bounds calls to a server that never answers; a per-call
/// `timeout` overrides it. The bounds asserted are far from the deadlines
/// compared (a call that waited for a 60 s default instead of its 200 ms
/// timeout fails), so a busy machine does not matter.
pub async fn default_deadline_applies<C: ClientUnderTest>(_client: &C) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accept, never answer
        }
    });
    let client = C::connect(&format!("kurrentdb://{addr}?tls=false&defaultDeadline=1"))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let r = client
        .append_to_stream(
            &unique("slow"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    // A default of a minute, and a call's own timeout of 200 ms: the call's.
    let client = C::connect(&format!("kurrentdb://{addr}?tls=false&defaultDeadline=60"))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let r = client
        .get_server_info(&GetServerInfoOptions::default().timeout(Duration::from_millis(200)))
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the call's timeout, not the default deadline"
    );
    hold.abort();
}

/// The connection drops after the server received an append but before the
/// client heard back: the client retries once with the same ids, and the
/// stream holds each event once.
pub async fn retry_after_dropped_connection_writes_no_duplicate<C: ClientUnderTest>(client: &C) {
    if against_real_server() && server_uri().contains("tls=true") {
        return; // the proxy reads plain HTTP/2 frames only
    }
    let proxy = DroppingProxy::start(server_addr(), 1).await;
    let via_proxy = C::connect(&with_endpoint(&server_uri(), &proxy.addr))
        .await
        .unwrap();
    let stream = unique("retry");
    let events = vec![event("A", "{}"), event("B", "{}")];
    let position = via_proxy
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            events.clone(),
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("the retry succeeds")
        .commit_position;
    assert_eq!(
        proxy.dropped.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a response was dropped"
    );
    assert!(
        proxy.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the client reconnected"
    );
    let read = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(read.len(), 2, "no duplicate");
    assert_eq!(read[0].id, events[0].id);
    assert_eq!(read[1].commit_position, Some(position));
}

/// Over TLS: an untrusted server certificate gives a TLS error; with `tlsCaFile`
/// the calls work and carry the connection string's user info as basic auth
/// (or the per-call credentials instead), `requires-leader: true` (node
/// preference leader) and the connection name; `tlsVerifyCert=false` skips the
/// check.
pub async fn tls_ca_file_credentials_and_call_metadata<C: ClientUnderTest>(_client: &C) {
    let tls = crate::common::tls::TlsServer::start().await;
    let untrusted = C::connect(&format!("kurrentdb://{}", tls.addr))
        .await
        .unwrap();
    let r = untrusted
        .get_server_info(&GetServerInfoOptions::default())
        .await;
    assert!(matches!(r, Err(Error::Tls(_))), "{r:?}");

    let uri = format!(
        "kurrentdb://admin:changeit@{}?tlsCaFile={}&connectionName=tls-scenario",
        tls.addr,
        tls.ca_file.display()
    );
    let client = C::connect(&uri).await.unwrap();
    let stream = unique("tls");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("append over TLS");
    let meta = tls.last();
    assert_eq!(
        meta.get("authorization").unwrap().to_str().unwrap(),
        "Basic YWRtaW46Y2hhbmdlaXQ="
    );
    assert_eq!(meta.get("requires-leader").unwrap(), "true");
    assert_eq!(meta.get("connection-name").unwrap(), "tls-scenario");

    let events = client
        .read_stream(
            &stream,
            &ReadStreamOptions::default().credentials(Credentials::new("ops", "secret")),
        )
        .await
        .expect("read over TLS");
    assert_eq!(events.len(), 1);
    let meta = tls.last();
    assert_eq!(
        meta.get("authorization").unwrap().to_str().unwrap(),
        "Basic b3BzOnNlY3JldA=="
    );

    let follower = C::connect(&format!("{uri}&nodePreference=follower"))
        .await
        .unwrap();
    follower
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(tls.last().get("requires-leader").unwrap(), "false");

    let unverified = C::connect(&format!("kurrentdb://{}?tlsVerifyCert=false", tls.addr))
        .await
        .unwrap();
    unverified
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("tlsVerifyCert=false accepts the certificate");
}

/// The embedded server in dev mode speaks TLS with its generated CA: through
/// its connection string (`tlsCaFile`, `admin:changeit`) appends, reads and
/// subscriptions work; without the CA the certificate is untrusted; plain
/// HTTP/2 gets no answer; a user certificate signed by the dev CA is accepted
/// and one signed by another CA is refused in the handshake.
pub async fn dev_server_speaks_tls<C: ClientUnderTest>(_client: &C) {
    use kurrentdb_embedded::security::DevCertificates;

    let server = crate::common::start_dev_server().await;
    assert!(server.is_secure());
    let uri = server.connection_string();
    assert!(
        uri.starts_with("kurrentdb://admin:changeit@127.0.0.1:"),
        "{uri}"
    );
    let ca_file = server.ca_file().expect("a dev server writes its CA");
    assert_eq!(
        std::fs::read_to_string(ca_file).unwrap(),
        server.ca_pem().unwrap()
    );

    let client = C::connect(&uri).await.unwrap();
    let stream = unique("dev-tls");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("append over TLS");
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .expect("read over TLS");
    assert_eq!(super::types(&events), ["A"]);
    let mut sub = client
        .subscribe_to_stream(&stream, &SubscribeToStreamOptions::default())
        .await
        .expect("subscribe over TLS");
    assert_eq!(super::next_event(&mut sub).await.r#type, "A");

    let addr = server.addr();
    let untrusted = C::connect(&format!("kurrentdb://{addr}")).await.unwrap();
    let r = untrusted
        .get_server_info(&GetServerInfoOptions::default())
        .await;
    assert!(matches!(r, Err(Error::Tls(_))), "{r:?}");
    let plain = C::connect(&format!(
        "kurrentdb://{addr}?tls=false&defaultDeadline=2000"
    ))
    .await
    .unwrap();
    let r = plain
        .get_server_info(&GetServerInfoOptions::default())
        .await;
    assert!(r.is_err(), "plain HTTP/2 to a TLS server: {r:?}");

    // User certificates (mutual TLS): the dev CA's are accepted, others not.
    let dir = std::env::temp_dir().join(unique("kdb-user-cert"));
    std::fs::create_dir_all(&dir).unwrap();
    let with_user_certificate = |name: &str, dev: &DevCertificates| {
        let (cert, key) = dev.user_certificate("admin").unwrap();
        let (cert_file, key_file) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&cert_file, cert).unwrap();
        std::fs::write(&key_file, key).unwrap();
        format!(
            "kurrentdb://{addr}?tlsCaFile={}&userCertFile={}&userKeyFile={}&defaultDeadline=5000",
            ca_file.display(),
            cert_file.display(),
            key_file.display()
        )
    };
    let trusted = with_user_certificate("trusted", server.dev_certificates().unwrap());
    C::connect(&trusted)
        .await
        .unwrap()
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("a user certificate signed by the dev CA");
    // The same material in memory (the Python client's `root_certificates`),
    // with no file named in the connection string.
    let bare: kurrentdbclient::ConnectionSettings = format!("kurrentdb://admin:changeit@{addr}")
        .parse()
        .unwrap();
    let (cert, key) = server
        .dev_certificates()
        .unwrap()
        .user_certificate("admin")
        .unwrap();
    let in_memory = bare
        .clone()
        .with_root_certificates(server.ca_pem().unwrap())
        .with_user_certificate(cert, key);
    assert!(!format!("{in_memory:?}").contains("PRIVATE KEY"));
    let client = C::with_settings(in_memory).await.unwrap();
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .expect("read trusting an in-memory CA");
    assert_eq!(super::types(&events), ["A"]);
    let r = C::with_settings(bare.with_root_certificates("not a certificate")).await;
    assert!(
        matches!(&r, Err(Error::Tls(m)) if m.contains("root_certificates")),
        "{:?}",
        r.err()
    );
    let stranger = DevCertificates::generate().unwrap();
    let refused = with_user_certificate("stranger", &stranger);
    let r = C::connect(&refused)
        .await
        .unwrap()
        .get_server_info(&GetServerInfoOptions::default())
        .await;
    assert!(r.is_err(), "a user certificate from another CA: {r:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
