//! HTTP on the node's gRPC port, as KurrentDB serves it (Kestrel serves both
//! on one port, HTTP/1.1 and HTTP/2, plain or TLS): a request whose
//! content type is `application/grpc...` goes to the gRPC services (through
//! the call log, the metrics, the role gate and authentication, as before),
//! any other to the HTTP routes here ([`HttpLayer`]).
//!
//! - `endpoints`: KurrentDB's node endpoints, `/health/live`, `/info`,
//!   `/gossip`, `/ping`, `/stats` and `/metrics`;
//! - `node`: what the handlers share ([`HttpNode`]), and who makes a
//!   request (authentication as KurrentDB's `AuthenticationMiddleware` does
//!   it for HTTP, with the gRPC side's users: `security::auth`);
//! - `ui/`: the web UI at `/ui`;
//! - here: the routes, and the service that tells gRPC calls from the rest.
//!
//! Hostile input is bounded below the routes: hyper refuses an HTTP/1 head
//! over its 400 KiB read buffer or 100 headers (431), HTTP/2 header lists
//! over 16 KiB, unknown methods (400 / 405 by route), and closes an HTTP/1
//! connection that sends no complete head within 30 s, idle keep-alive
//! connections included (tonic sets hyper's timer, which enables its header
//! read timeout: Kestrel's `RequestHeadersTimeout`, 30 s too), but reads
//! bodies without a time limit. Here, before
//! the routes, an HTTP request is held to Kestrel's default limits on a
//! head, which KurrentDB keeps (its `kestrelsettings.json` sets none): a
//! request line over 8 KiB (`MaxRequestLineSize`) is answered 414, headers
//! over 32 KiB in all (`MaxRequestHeadersTotalSize`) 431, and the
//! connection closed, as Kestrel closes it after a bad request; and a
//! request body must arrive at 240 bytes a second on average once 5 s have
//! passed (`MinRequestBodyDataRate`), else the request is answered 408 and
//! the connection closed. The node holds a bounded number of connections
//! (`node::serve`).

mod endpoints;
mod node;
mod ui;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use http::header;

pub(crate) use self::node::HttpNode;

/// The node's HTTP routes.
pub(crate) fn router(node: HttpNode) -> axum::Router {
    endpoints::routes()
        .merge(ui::routes())
        .with_state(Arc::new(node))
}

/// Whether a request is a gRPC call (`application/grpc`, `+proto`, ...), as
/// ASP.NET's `IsGrpc` tells them apart.
fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// Kestrel's `MaxRequestLineSize` and `MaxRequestHeadersTotalSize`
/// defaults (see the module docs).
const MAX_REQUEST_LINE: usize = 8 * 1024;
const MAX_REQUEST_HEADERS: usize = 32 * 1024;

/// Kestrel's answer to a request whose head is over its limits, if it is:
/// 414 for the request line, 431 for the headers, closing the connection.
/// Sizes are counted as sent over HTTP/1.1: `METHOD TARGET HTTP/1.1\r\n`,
/// and `name: value\r\n` for each header.
fn head_refusal<B>(request: &http::Request<B>) -> Option<http::Response<tonic::body::Body>> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(1, |p| p.as_str().len());
    let line = request.method().as_str().len() + target + " HTTP/1.1\r\n ".len();
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + ": \r\n".len())
        .sum();
    let (status, text) = if line > MAX_REQUEST_LINE {
        (
            http::StatusCode::URI_TOO_LONG,
            "Request line too long (8 KiB at most)",
        )
    } else if headers > MAX_REQUEST_HEADERS {
        (
            http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request headers too large (32 KiB at most)",
        )
    } else {
        return None;
    };
    Some(closing(status, text, request.version()))
}

/// A refusal that closes the connection, as Kestrel closes it after a bad
/// request: over HTTP/1.x hyper closes it after this answer (HTTP/2 has no
/// `Connection` header: there the stream ends).
fn closing(
    status: http::StatusCode,
    text: &'static str,
    version: http::Version,
) -> http::Response<tonic::body::Body> {
    let mut response = http::Response::new(tonic::body::Body::new(text.to_owned()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if version < http::Version::HTTP_2 {
        headers.insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    response
}

/// Kestrel's `MinRequestBodyDataRate` default: after a grace period, a
/// request body must have arrived at this many bytes a second on average.
const MIN_BODY_RATE: u64 = 240;
const MIN_BODY_RATE_GRACE: Duration = Duration::from_secs(5);

/// An HTTP request body held to [`MIN_BODY_RATE`] from its first read: when
/// the bytes received so far are fewer than the rate asks by now, it ends
/// with an error and sets `too_slow` (the request is then answered 408, as
/// Kestrel answers it). hyper reads bodies without a time limit, so a body
/// sent a byte now and then would otherwise hold its connection for ever.
struct MinRateBody {
    inner: tonic::body::Body,
    /// When the body was first read, and the deadline for more bytes.
    started: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
    received: u64,
    too_slow: Arc<AtomicBool>,
}

impl MinRateBody {
    fn new(inner: tonic::body::Body, too_slow: Arc<AtomicBool>) -> Self {
        MinRateBody {
            inner,
            started: None,
            received: 0,
            too_slow,
        }
    }
}

impl http_body::Body for MinRateBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, tonic::Status>>> {
        let this = self.get_mut();
        let (started, deadline) = this.started.get_or_insert_with(|| {
            let now = Instant::now();
            let sleep = tokio::time::sleep_until((now + MIN_BODY_RATE_GRACE).into());
            (now, Box::pin(sleep))
        });
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    // By when the bytes so far are the least rate's.
                    let earned =
                        Duration::from_secs_f64(this.received as f64 / MIN_BODY_RATE as f64);
                    // Checked: past what an Instant holds, no deadline moves.
                    if let Some(at) = started.checked_add(earned.max(MIN_BODY_RATE_GRACE)) {
                        deadline.as_mut().reset(at.into());
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.too_slow.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(tonic::Status::deadline_exceeded(
                        "the request body arrived too slowly",
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Sends gRPC calls to the services it wraps and other requests to the HTTP
/// routes (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct HttpLayer {
    router: axum::Router,
}

impl HttpLayer {
    /// HTTP requests go to `router`.
    pub(crate) fn new(router: axum::Router) -> Self {
        HttpLayer { router }
    }
}

impl<S> tower_layer::Layer<S> for HttpLayer {
    type Service = HttpOrGrpc<S>;

    fn layer(&self, grpc: S) -> HttpOrGrpc<S> {
        HttpOrGrpc {
            grpc,
            http: self.router.clone(),
        }
    }
}

/// The gRPC services and the HTTP routes behind one service.
#[derive(Debug, Clone)]
pub(crate) struct HttpOrGrpc<S> {
    grpc: S,
    http: axum::Router,
}

impl<S, R> tower_service::Service<http::Request<tonic::body::Body>> for HttpOrGrpc<S>
where
    S: tower_service::Service<http::Request<tonic::body::Body>, Response = http::Response<R>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    R: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.grpc.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        if is_grpc(&request) {
            let call = self.grpc.call(request);
            return Box::pin(async move { Ok(call.await?.map(tonic::body::Body::new)) });
        }
        if let Some(refusal) = head_refusal(&request) {
            return Box::pin(async move { Ok(refusal) });
        }
        // A body (a form's) must arrive at Kestrel's least rate.
        let version = request.version();
        let too_slow = Arc::new(AtomicBool::new(false));
        let request = if http_body::Body::is_end_stream(request.body()) {
            request
        } else {
            let too_slow = too_slow.clone();
            request.map(|body| tonic::body::Body::new(MinRateBody::new(body, too_slow)))
        };
        // The router is always ready (axum's `Router` is), and takes any
        // body.
        let call = tower_service::Service::call(&mut self.http, request);
        Box::pin(async move {
            let response: Result<_, Infallible> = call.await;
            let Ok(response) = response;
            if too_slow.load(Ordering::Relaxed) {
                return Ok(closing(
                    http::StatusCode::REQUEST_TIMEOUT,
                    "The request body arrived too slowly",
                    version,
                ));
            }
            Ok(response.map(tonic::body::Body::new))
        })
    }
}
