//! The connection: credentials and TLS, `close`, unreachable and silent
//! servers, deadlines, and the retry after a dropped connection.

use kurrentdbclient::options::*;
use kurrentdbclient::{Credentials, Error, StreamState};
use std::time::Duration;

use super::event;
use crate::common::harness::{ClientUnderTest, TestPersistentSubscription, TestSubscription};
use crate::common::proxy::DroppingProxy;
use crate::common::{against_real_server, server_addr, server_uri, unique, with_endpoint};

/// Credentials are never sent over `tls=false`: the call is refused first.
pub async fn credentials_over_insecure_connection_are_refused<C: ClientUnderTest>(_client: &C) {
    let uri = format!("kurrentdb://{}?tls=false", server_addr());
    let client = C::connect(&uri).await.unwrap();
    let creds = Credentials::new("admin", "changeit");
    let r = client
        .append_to_stream(
            &unique("creds"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default().credentials(creds.clone()),
        )
        .await;
    assert!(
        matches!(r, Err(Error::CredentialsOverInsecureConnection)),
        "{r:?}"
    );
    let r = client
        .read_stream(
            &unique("creds"),
            &ReadStreamOptions::default().credentials(creds.clone()),
        )
        .await;
    assert!(
        matches!(r, Err(Error::CredentialsOverInsecureConnection)),
        "{r:?}"
    );
    let r = client
        .get_server_info(&GetServerInfoOptions::default().credentials(creds))
        .await;
    assert!(
        matches!(r, Err(Error::CredentialsOverInsecureConnection)),
        "{r:?}"
    );
    // User info in the connection string of an insecure connection is not sent.
    let with_user = format!("kurrentdb://admin:changeit@{}?tls=false", server_addr());
    let client = C::connect(&with_user).await.unwrap();
    client
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("calls work, without credentials");
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
/// `timeout` overrides it.
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
    assert!(started.elapsed() < Duration::from_secs(5));
    let started = std::time::Instant::now();
    let r = client
        .get_server_info(&GetServerInfoOptions::default().timeout(Duration::from_millis(200)))
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
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
    let Some(tls) = crate::common::tls::TlsServer::start().await else {
        eprintln!("openssl is not available: TLS scenario skipped");
        return;
    };
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
