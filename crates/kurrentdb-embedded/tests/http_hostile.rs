//! Hostile HTTP clients against the node's port, and the limits KurrentDB's
//! web server (Kestrel, with its defaults) holds them to: a request line
//! over 8 KiB is answered 414 and headers over 32 KiB in all 431, with the
//! connection closed; a head not sent in full within 30 s is cut; a body
//! that arrives slower than 240 bytes a second once 5 s have passed is
//! answered 408, and nothing of it is done; and the node holds at most `max_connections` connections, closing one accepted
//! past them while the others are served.
//!
//! Raw TCP, so that nothing between the test and the server fixes up what
//! is sent. No timings are asserted: each test waits for what it expects
//! with a generous bound.

use std::net::SocketAddr;
use std::time::Duration;

use kurrentdb_embedded::{EmbeddedServer, ServerOptions};
use kurrentdbclient::{AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, StreamState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long any wait for the server may take before a test fails.
const WAIT: Duration = Duration::from_secs(15);

/// Sends `request` on a fresh connection; what comes back before the server
/// closes the connection (the test fails if it does not within [`WAIT`]).
async fn exchange_until_closed(addr: SocketAddr, request: &[u8]) -> String {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before the whole request is sent.
    let _ = socket.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(WAIT, socket.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the server left the connection open; it sent {:.300}",
        String::from_utf8_lossy(&answer)
    );
    String::from_utf8_lossy(&answer).into_owned()
}

/// One GET on an open keep-alive connection: the answer's head.
async fn get(socket: &mut TcpStream, path: &str) -> String {
    socket
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .expect("request sent");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(WAIT, socket.read(&mut byte))
            .await
            .expect("an answer in time")
            .expect("an answer");
        assert!(
            n == 1,
            "closed mid-answer: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    // The body, by its length (the endpoints here always say it).
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no content-length: {head}"));
    let mut body = vec![0u8; length];
    tokio::time::timeout(WAIT, socket.read_exact(&mut body))
        .await
        .expect("a body in time")
        .expect("a body");
    head
}

/// `count` headers of `size` bytes each (`X-Hn: aaa...`).
fn headers(count: usize, size: usize) -> String {
    (0..count)
        .map(|i| format!("X-H{i}: {}\r\n", "a".repeat(size)))
        .collect()
}

#[tokio::test]
async fn heads_over_kestrels_limits_are_refused_and_the_connection_closed() {
    let server = EmbeddedServer::start().await.unwrap();
    let addr = server.addr();
    // 40 KiB of headers, in ten: under hyper's own limits (400 KiB, 100
    // headers), over Kestrel's 32 KiB.
    let big = format!("GET /info HTTP/1.1\r\nHost: x\r\n{}\r\n", headers(10, 4096));
    let answer = exchange_until_closed(addr, big.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.300}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer:.300}"
    );
    // A request line of 9 KiB: over Kestrel's 8 KiB.
    let long = format!(
        "GET /info?pad={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "p".repeat(9 * 1024)
    );
    let answer = exchange_until_closed(addr, long.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer:.300}");
    // Under both limits (30 KiB of headers, a 7 KiB line): served.
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let fits = format!(
        "GET /info?pad={} HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "p".repeat(7 * 1024),
        headers(10, 3000)
    );
    socket.write_all(fits.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 12];
    tokio::time::timeout(WAIT, socket.read_exact(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap();
    assert_eq!(
        &answer,
        b"HTTP/1.1 200",
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // gRPC calls carry no such limit here (HTTP/2 bounds their headers).
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    client
        .append_to_stream(
            "hostile",
            StreamState::Any,
            [NewEvent::new("E", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn a_head_not_sent_in_full_within_the_header_timeout_is_cut() {
    let server = EmbeddedServer::start().await.unwrap();
    let addr = server.addr();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /info HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Meanwhile others are served.
    let mut other = TcpStream::connect(addr).await.unwrap();
    assert!(get(&mut other, "/ping").await.starts_with("HTTP/1.1 200"));
    // The server cuts it after its header read timeout (30 s, as
    // Kestrel's RequestHeadersTimeout): end of stream or a reset, nothing
    // answered. Bounded at three times that.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(90), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the half-sent head is still open");
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_answered_408_and_nothing_is_appended() {
    let server = EmbeddedServer::start().await.unwrap();
    let addr = server.addr();
    let socket = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    // The UI's append form, its body a byte a second: never 240 a second.
    let head = format!(
        "POST /ui/streams/slow-body HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n\
         event_type=E&data="
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(read.is_ok(), "the slow body's connection is still open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:.300}");
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let read = client.read_stream("slow-body", &Default::default()).await;
    assert!(
        matches!(read, Err(kurrentdbclient::Error::NotFound { .. })),
        "nothing appended: {:?}",
        read.map(|_| ())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connections_past_the_limit_are_closed_and_the_others_served() {
    let limit = 8;
    let server = EmbeddedServer::start_with(ServerOptions {
        max_connections: limit,
        ..Default::default()
    })
    .await
    .unwrap();
    let addr = server.addr();
    // `limit` keep-alive connections, each served once: each holds a slot.
    let mut held = Vec::new();
    for _ in 0..limit {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        assert!(get(&mut socket, "/ping").await.starts_with("HTTP/1.1 200"));
        held.push(socket);
    }
    // One more: closed at once, unanswered.
    let answer = exchange_until_closed(addr, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(
        answer, "",
        "a connection past the limit is closed unanswered"
    );
    // The held ones are served still.
    for socket in &mut held {
        assert!(get(socket, "/ping").await.starts_with("HTTP/1.1 200"));
    }
    // One closes: a new connection is served once the server has seen it go.
    drop(held.pop());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        let _ = socket
            .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(WAIT, socket.read_to_end(&mut answer)).await;
        if answer.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no connection served after one of {limit} closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await;
}
