//! What the HTTP benches share: a log filled fast (v2 `AppendRecords`,
//! a thousand records a call, over many streams and one long one), and a
//! plain HTTP/1.1 client (hyper-util's) for the pages.

#![allow(dead_code)]

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kurrentdbclient::options::AppendRecordsOptions;
use kurrentdbclient::{AsyncKurrentDBClient, NewRecord, StreamStateCheck};

/// Records per append.
pub const BATCH: u64 = 1_000;
/// The long stream's name.
pub const LONG: &str = "long-stream";

/// What a fill wrote: the log's last commit position.
#[derive(Debug, Clone, Copy)]
pub struct Filled {
    pub head: u64,
}

/// Appends `total` events in calls of [`BATCH`] records: one in ten to
/// [`LONG`], the others spread over `streams` streams `item-N`.
pub async fn fill(client: &AsyncKurrentDBClient, total: u64, streams: u64) -> Filled {
    let mut head = 0;
    let mut n = 0u64;
    for _ in 0..total.div_ceil(BATCH) {
        let records: Vec<NewRecord> = (0..BATCH)
            .map(|i| {
                n += 1;
                let stream = if i % 10 == 0 {
                    LONG.to_owned()
                } else {
                    format!("item-{}", n % streams)
                };
                NewRecord::new(
                    stream,
                    "ItemChanged",
                    format!("{{\"n\":{n},\"note\":\"an ordinary event of a bench\"}}"),
                )
            })
            .collect();
        let written = client
            .append_records(
                records,
                std::iter::empty::<StreamStateCheck>(),
                &AppendRecordsOptions::default(),
            )
            .await
            .expect("a bench append");
        head = written.commit_position;
    }
    Filled { head }
}

/// An HTTP/1.1 client of one server (keep-alive connections, pooled).
#[derive(Debug, Clone)]
pub struct Http {
    client: Client<HttpConnector, String>,
    base: String,
}

impl Http {
    /// A client of the server at `addr`.
    pub fn new(addr: SocketAddr) -> Http {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Http {
            client,
            base: format!("http://{addr}"),
        }
    }

    /// GET `path`: the status and the body.
    pub async fn get(&self, path: &str) -> Result<(u16, Bytes), String> {
        let uri: http::Uri = format!("{}{path}", self.base)
            .parse()
            .map_err(|e| format!("{path}: {e}"))?;
        let response = self
            .client
            .get(uri)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{path}: {e}"))?
            .to_bytes();
        Ok((status, body))
    }

    /// GET `path`, which must answer 200: its body.
    pub async fn get_ok(&self, path: &str) -> Bytes {
        match self.get(path).await {
            Ok((200, body)) => body,
            Ok((status, body)) => {
                panic!("{path}: {status}: {:.300}", String::from_utf8_lossy(&body))
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// The pages the UI bench measures and the HTTP attackers loop over, with
/// names: `$all` newest first (the default), oldest first, a page in the
/// middle of the log (`from` as the paging links give it), the streams'
/// home (recently written), the long stream's newest and oldest pages, one
/// of its events, the dashboard's figures, `/metrics`, `/stats` and
/// `/gossip`.
pub fn pages(filled: Filled, long_len: u64) -> Vec<(&'static str, String)> {
    vec![
        ("all_newest", "/ui/streams/$all?count=100".to_owned()),
        (
            "all_oldest",
            "/ui/streams/$all?dir=forwards&count=100".to_owned(),
        ),
        (
            "all_middle",
            format!(
                "/ui/streams/$all?dir=backwards&from={}&count=100",
                filled.head / 2
            ),
        ),
        ("streams_home", "/ui/streams".to_owned()),
        ("long_newest", format!("/ui/streams/{LONG}?count=100")),
        (
            "long_oldest",
            format!("/ui/streams/{LONG}?dir=forwards&count=100"),
        ),
        ("long_event", format!("/ui/streams/{LONG}/{}", long_len / 2)),
        ("dashboard_figures", "/ui/dashboard/figures".to_owned()),
        ("metrics", "/metrics".to_owned()),
        ("stats", "/stats".to_owned()),
        ("gossip", "/gossip".to_owned()),
    ]
}
