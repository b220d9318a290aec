//! The dashboard: the node's figures, live. The page is rendered with the
//! figures of the moment (usable without JavaScript); a few lines of
//! JavaScript fetch `/ui/dashboard/figures` (JSON) every second, update
//! them and draw the events written per second over the last minute.
//!
//! The figures are statistics: on a secure server they need a login, as
//! `/stats` does (unless `--allow-anonymous-endpoint-access`).

use std::fmt::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::node::{Endpoint, HttpNode};
use super::page::{caller, denied, esc, render};
use crate::security::principal::Principal;

/// The figures, by the element ids (`f-NAME`) that show them, with labels.
const FIGURES: [(&str, &str); 8] = [
    ("events_written", "Events written"),
    ("events_read", "Events read"),
    ("log_end", "Log end (position)"),
    ("grpc_calls", "gRPC calls served"),
    ("grpc_failed", "gRPC calls failed"),
    ("grpc_current", "gRPC calls in flight"),
    ("persistent_groups", "Persistent subscription groups"),
    ("members_alive", "Cluster members alive"),
];

const SCRIPT: &str = "
const seen=[];
function draw(){const c=document.getElementById('chart');if(!c.getContext)return;
const g=c.getContext('2d'),w=c.width,h=c.height;
const rates=seen.slice(1).map((v,i)=>Math.max(0,v-seen[i]));
const max=Math.max(1,...rates);g.clearRect(0,0,w,h);
g.strokeStyle='#e1e6ec';g.strokeRect(0,0,w,h);
g.fillStyle='#1d2733';g.fillText(max+' /s',4,12);
g.beginPath();rates.forEach((r,i)=>{const x=i*w/60,y=h-2-r/max*(h-18);i?g.lineTo(x,y):g.moveTo(x,y);});
g.strokeStyle='#2a9d8f';g.lineWidth=2;g.stroke();}
function tick(){fetch('/ui/dashboard/figures',{credentials:'same-origin'}).then(r=>r.json()).then(f=>{
for(const k in f){const e=document.getElementById('f-'+k);if(e)e.textContent=f[k];}
seen.push(f.events_written);if(seen.length>61)seen.shift();draw();}).catch(()=>{});}
setInterval(tick,1000);tick();
";

/// The figures now.
fn figures(node: &HttpNode) -> Value {
    let (events_read, _) = node.store.read_counts();
    let (current, total, failed) = node.metrics.call_figures();
    json!({
        "events_written": node.store.log_len(),
        "events_read": events_read,
        "log_end": node.store.head_position().0,
        "grpc_calls": total,
        "grpc_failed": failed,
        "grpc_current": current,
        "persistent_groups": node.persistent.figures().len(),
        "members_alive": node.membership.view().iter().filter(|m| m.is_alive).count(),
    })
}

/// The caller, if they may see the figures; else the refusal.
async fn caller_allowed(node: &HttpNode, request: Request) -> Result<Principal, Response> {
    let (parts, _) = request.into_parts();
    let caller = caller(node, &parts).await?;
    match node.authorize(&caller, Endpoint::Statistics) {
        Ok(()) => Ok(caller),
        Err(_) => Err(denied(
            &caller,
            "The node's figures need a signed-in user (Node.Statistics.Read).",
        )),
    }
}

/// `GET /ui/dashboard`.
pub(super) async fn page(State(node): State<Arc<HttpNode>>, request: Request) -> Response {
    let caller = match caller_allowed(&node, request).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let now = figures(&node);
    let mut html = String::from("<table id=\"figures\">");
    for (id, label) in FIGURES {
        let _ = write!(
            html,
            "<tr><th>{label}</th><td id=\"f-{id}\">{}</td></tr>",
            esc(&now[id].to_string())
        );
    }
    let _ = write!(
        html,
        "</table><h2>Events written per second (last minute)</h2>\
         <canvas id=\"chart\" width=\"600\" height=\"160\"></canvas>\
         <script>{SCRIPT}</script>"
    );
    render("Dashboard", "Dashboard", &caller, &html)
}

/// `GET /ui/dashboard/figures`: the figures as JSON.
pub(super) async fn figures_json(State(node): State<Arc<HttpNode>>, request: Request) -> Response {
    if let Err(refused) = caller_allowed(&node, request).await {
        return refused;
    }
    Json(figures(&node)).into_response()
}
