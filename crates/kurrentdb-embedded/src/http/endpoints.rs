//! KurrentDB's node endpoints over HTTP, with its status codes, JSON field
//! names and access rules (read in its `ClusterVNodeStartup` (`StatusCheck`),
//! `ClusterVNode` (the controllers and `/info`'s features) and the
//! controllers under `Services/Transport/Http/Controllers`; its JSON codec
//! camel-cases names and indents):
//!
//! - `GET`/`HEAD /health/live`: 204 once the node is ready, 503 while it
//!   shuts down; `?liveCode=N` answers N instead of 204 (an integer that is
//!   no status code, outside 100..=999, is refused with 400 here, where
//!   ASP.NET would fail the request); other methods 404. Mapped before
//!   authentication: anyone, credentials or not.
//! - `GET /info` (`InfoController`): `dbVersion`, `esVersion`, `state` (the
//!   node's state in lower case), `features` (`projections`,
//!   `userManagement`: secure servers, `atomPub`: false, as this server has
//!   no AtomPub API), `authentication` (`type` `internal`, or `insecure`
//!   for `--insecure`, and `properties`). Anonymous.
//! - `GET /gossip` (`GossipController`, `ClientClusterInfo`): `members`,
//!   each with KurrentDB's member fields, and this node's `serverIp` and
//!   `serverPort`. The TCP ports are 0: there is no TCP interface.
//!   Anonymous unless `--override-anonymous-endpoint-access-for-gossip
//!   false` (then as `/stats`).
//! - `GET /ping` (`PingController`): `{"text": "Ping request successfully
//!   handled"}`. Anonymous.
//! - `GET /stats` and `/stats/{group...}` (`StatController`,
//!   `StatsContainer`): the statistics that exist here, named as
//!   KurrentDB's (`proc-*`, `sys-*`, `es-checksum*`), grouped by their `-`
//!   separated names unless `?group=false`; a group path selects a
//!   sub-group (404 when there is none; 400 with `group=false`).
//! - `GET /metrics`: Prometheus text (`metrics.rs`).
//!
//! `/stats` and `/metrics` need a login on a secure server unless
//! `--allow-anonymous-endpoint-access` (`Node.Statistics.Read`); refused,
//! 401.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use super::node::{Endpoint, HttpNode, Refused};
use crate::metrics::{ProjectionFigures, Scrape};
use crate::store::Direction;
use crate::ticks::{now_ticks, timestamp};

type Node = State<Arc<HttpNode>>;

/// The endpoints of this module.
pub(super) fn routes() -> axum::Router<Arc<HttpNode>> {
    axum::Router::new()
        .route("/health/live", get(health).fallback(not_found))
        .route("/info", get(info))
        .route("/gossip", get(gossip))
        .route("/ping", get(ping))
        .route("/stats", get(stats))
        .route("/stats/{*path}", get(stats))
        .route("/metrics", get(metrics))
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// KurrentDB's JSON: indented.
fn json_response(value: &Value) -> Response {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

#[derive(Debug, serde::Deserialize)]
struct LiveQuery {
    #[serde(rename = "liveCode")]
    live_code: Option<String>,
}

async fn health(State(node): Node, Query(query): Query<LiveQuery>) -> Response {
    if *node.shutting_down.borrow() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // `int.TryParse`: anything but an integer leaves the default.
    match query.live_code.and_then(|c| c.trim().parse::<i64>().ok()) {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(code) => match u16::try_from(code).ok().map(StatusCode::from_u16) {
            Some(Ok(status)) => status.into_response(),
            _ => (
                StatusCode::BAD_REQUEST,
                format!("liveCode {code} is not an HTTP status code (100 to 999)"),
            )
                .into_response(),
        },
    }
}

/// The lower-case state of node `index`, as `/info` reports it.
fn state_name(node: &HttpNode) -> String {
    node.membership
        .view()
        .get(node.index)
        .map(|m| m.state.as_str_name().to_ascii_lowercase())
        .unwrap_or_else(|| "unknown".to_owned())
}

async fn info(State(node): Node, request: Request) -> Result<Response, Refused> {
    let (parts, _) = request.into_parts();
    node.principal(&parts).await?;
    let secure = node.authenticator.is_some();
    Ok(json_response(&json!({
        "dbVersion": node.server_version,
        "esVersion": node.server_version,
        "state": state_name(&node),
        "features": {
            "projections": node.projections_enabled,
            "userManagement": secure,
            "atomPub": false,
        },
        "authentication": {
            "type": if secure { "internal" } else { "insecure" },
            "properties": [],
        },
    })))
}

async fn ping(State(node): Node, request: Request) -> Result<Response, Refused> {
    let (parts, _) = request.into_parts();
    node.principal(&parts).await?;
    Ok(json_response(
        &json!({ "text": "Ping request successfully handled" }),
    ))
}

async fn gossip(State(node): Node, request: Request) -> Result<Response, Refused> {
    let (parts, _) = request.into_parts();
    let principal = node.principal(&parts).await?;
    node.authorize(&principal, Endpoint::Gossip)?;
    Ok(json_response(&gossip_json(&node)))
}

/// `ClientClusterInfo` for `node`.
pub(super) fn gossip_json(node: &HttpNode) -> Value {
    let (head, _) = node.store.head_position();
    // Where the current epoch's record is (the nodes share one log and one
    // epoch record: elections here write none).
    let epoch_position = node
        .store
        .read_stream(b"$epoch-information", None, Direction::Backwards, 1, false)
        .ok()
        .and_then(|batch| batch.events.first().map(|e| e.original().record.position))
        .unwrap_or(0);
    let time_stamp = timestamp(now_ticks());
    let listen_host = node.addr.ip().to_string();
    let members: Vec<Value> = node
        .membership
        .view()
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            // Each node listens on its advertised port here unless told
            // otherwise; this node knows its own.
            let internal_port = if i == node.index {
                node.addr.port()
            } else {
                m.port
            };
            json!({
                "instanceId": m.instance_id.to_string(),
                "timeStamp": time_stamp,
                "state": m.state.as_str_name(),
                "isAlive": m.is_alive,
                "internalTcpIp": listen_host,
                "internalTcpPort": 0,
                "internalSecureTcpPort": 0,
                "externalTcpIp": m.host,
                "externalTcpPort": 0,
                "externalSecureTcpPort": 0,
                "internalHttpEndPointIp": listen_host,
                "internalHttpEndPointPort": internal_port,
                "httpEndPointIp": m.host,
                "httpEndPointPort": m.port,
                "lastCommitPosition": head,
                "writerCheckpoint": head,
                "chaserCheckpoint": head,
                "epochPosition": epoch_position,
                "epochNumber": m.epoch,
                "epochId": m.epoch_id.to_string(),
                "nodePriority": m.priority,
                "isReadOnlyReplica": m.read_only,
                "esVersion": node.server_version,
            })
        })
        .collect();
    json!({
        "members": members,
        "serverIp": listen_host,
        "serverPort": node.addr.port(),
    })
}

#[derive(Debug, serde::Deserialize)]
struct StatsQuery {
    group: Option<String>,
}

async fn stats(
    State(node): Node,
    path: Option<axum::extract::Path<String>>,
    Query(query): Query<StatsQuery>,
    request: Request,
) -> Result<Response, Refused> {
    let (parts, _) = request.into_parts();
    let principal = node.principal(&parts).await?;
    node.authorize(&principal, Endpoint::Statistics)?;
    // `bool.TryParse`, default true.
    let grouped = !query
        .group
        .is_some_and(|g| g.trim().eq_ignore_ascii_case("false"));
    let path = path.map(|p| p.0).unwrap_or_default();
    let raw = raw_stats(&node);
    if !grouped {
        if !path.is_empty() {
            return Ok((
                StatusCode::BAD_REQUEST,
                "Dynamic stats selection works only with grouping enabled",
            )
                .into_response());
        }
        return Ok(json_response(&Value::Object(raw)));
    }
    let mut selected = group(raw);
    for name in path.split('/').filter(|s| !s.is_empty()) {
        match selected.remove(name) {
            Some(Value::Object(inner)) => selected = inner,
            _ => return Ok(StatusCode::NOT_FOUND.into_response()),
        }
    }
    Ok(json_response(&Value::Object(selected)))
}

/// The statistics that exist here, by KurrentDB's names (see the module
/// docs); the process and system figures on Linux only (`/proc`).
fn raw_stats(node: &HttpNode) -> Map<String, Value> {
    let mut stats = Map::new();
    stats.insert(
        "proc-startTime".into(),
        json!(timestamp(node.metrics.started_ticks())),
    );
    stats.insert("proc-id".into(), json!(std::process::id()));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |text: &str, name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    if let Some(kb) = field(&status, "VmRSS:") {
        stats.insert("proc-mem".into(), json!(kb.saturating_mul(1024)));
    }
    if let Some(threads) = field(&status, "Threads:") {
        stats.insert("proc-threadsCount".into(), json!(threads));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(kb) = field(&meminfo, "MemTotal:") {
        stats.insert("sys-totalMem".into(), json!(kb.saturating_mul(1024)));
    }
    if let Some(kb) = field(&meminfo, "MemAvailable:") {
        stats.insert("sys-freeMem".into(), json!(kb.saturating_mul(1024)));
    }
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    for (name, value) in ["1m", "5m", "15m"].iter().zip(loadavg.split_whitespace()) {
        if let Ok(v) = value.parse::<f64>() {
            stats.insert(format!("sys-loadavg-{name}"), json!(v));
        }
    }
    let (head, _) = node.store.head_position();
    stats.insert("es-checksum".into(), json!(head));
    stats.insert("es-checksumNonFlushed".into(), json!(head));
    stats
}

/// KurrentDB's `StatsContainer.Group`: `a-b-c` becomes `{a: {b: {c: ..}}}`.
fn group(raw: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in raw {
        let mut parts = key.split('-').filter(|p| !p.is_empty());
        let Some(first) = parts.next() else {
            continue;
        };
        let rest: Vec<&str> = parts.collect();
        if rest.is_empty() {
            out.insert(first.to_owned(), value);
            continue;
        }
        let inner = out
            .entry(first.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(inner) = inner {
            inner.insert(rest.join("-"), value);
        }
    }
    for value in out.values_mut() {
        if let Value::Object(inner) = value {
            *inner = group(std::mem::take(inner));
        }
    }
    out
}

async fn metrics(State(node): Node, request: Request) -> Result<Response, Refused> {
    let (parts, _) = request.into_parts();
    let principal = node.principal(&parts).await?;
    node.authorize(&principal, Endpoint::Statistics)?;
    let (events_read, bytes_read) = node.store.read_counts();
    let projections = match &node.projections {
        Some(p) => p
            .statistics(None)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| ProjectionFigures {
                name: s.name,
                status: s.status,
                // The statistics' progress is a percentage.
                progress: f64::from(s.progress) / 100.0,
                events_processed: u64::try_from(s.events_processed).unwrap_or(0),
            })
            .collect(),
        None => Vec::new(),
    };
    let scrape = Scrape {
        events_written: node.store.log_len() as u64,
        events_read,
        bytes_read,
        checkpoint: node.store.head_position().0,
        elections: node.membership.epoch(),
        groups: node.persistent.figures(),
        projections,
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        node.metrics.render(&scrape),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_grouped_by_their_dashed_names() {
        let mut raw = Map::new();
        raw.insert("proc-id".into(), json!(1));
        raw.insert("sys-loadavg-1m".into(), json!(0.5));
        raw.insert("sys-loadavg-5m".into(), json!(0.25));
        raw.insert("es-checksum".into(), json!(9));
        raw.insert("single".into(), json!("x"));
        assert_eq!(
            Value::Object(group(raw)),
            json!({
                "proc": {"id": 1},
                "sys": {"loadavg": {"1m": 0.5, "5m": 0.25}},
                "es": {"checksum": 9},
                "single": "x",
            })
        );
    }
}
