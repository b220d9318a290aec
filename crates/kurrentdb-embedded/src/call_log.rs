//! What the server logs about its connections and calls, with `tracing`.
//!
//! - A connection: `DEBUG` when accepted and when closed, with the peer.
//! - A call: one line when it ends, with its gRPC method, the peer, the gRPC
//!   status and how long it took: `DEBUG` for the statuses a client's mistake
//!   or an expected outcome gives (not found, wrong expected version, ...),
//!   `WARN` for `INTERNAL`, `UNKNOWN` and `DATA_LOSS` (the server's own
//!   failures), and `DEBUG` "cancelled" for a call the client dropped before
//!   its status (a stopped subscription). The services' own lines (groups,
//!   subscriptions) are inside the call's `grpc` span.
//!
//! The status of a call is in its response headers when the call fails before
//! answering (a "trailers-only" response) and otherwise in the trailers after
//! the body, so the body is wrapped to see them. With no subscriber that wants
//! these lines, a call is passed through untouched but for that wrapper.
//!
//! The library installs no subscriber: tests and embedding applications stay
//! quiet unless they install one. The binary does (`--log-level`, see
//! `main.rs`).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};
use tracing::{Instrument, Level};

/// Wraps every call of the server (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallLogLayer;

impl<S> tower_layer::Layer<S> for CallLogLayer {
    type Service = CallLog<S>;

    fn layer(&self, inner: S) -> CallLog<S> {
        CallLog { inner }
    }
}

/// A service whose calls are logged.
#[derive(Debug, Clone)]
pub(crate) struct CallLog<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower_service::Service<http::Request<B>> for CallLog<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: Body<Error = tonic::Status> + Unpin,
{
    type Response = http::Response<LoggedBody<R>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !tracing::enabled!(Level::DEBUG) {
            let call = self.inner.call(request);
            return Box::pin(async move { Ok(call.await?.map(LoggedBody::quiet)) });
        }
        let method = request.uri().path().to_owned();
        let extensions = request.extensions();
        let peer = extensions
            .get::<TcpConnectInfo>()
            .or_else(|| {
                extensions
                    .get::<TlsConnectInfo<TcpConnectInfo>>()
                    .map(TlsConnectInfo::get_ref)
            })
            .and_then(|info| info.remote_addr())
            .map_or_else(String::new, |addr| addr.to_string());
        let span = tracing::debug_span!("grpc", %method, %peer);
        let call = self.inner.call(request).instrument(span.clone());
        Box::pin(async move {
            let started = Instant::now();
            let response = call.await?;
            let mut ended = CallEnd {
                span,
                started,
                logged: false,
            };
            // A trailers-only answer: the status is in the headers.
            if let Some(status) = response.headers().get("grpc-status") {
                ended.log(Some(status.as_bytes()));
            }
            Ok(response.map(|body| LoggedBody {
                inner: body,
                end: Some(ended),
            }))
        })
    }
}

/// What logs the end of a call.
struct CallEnd {
    span: tracing::Span,
    started: Instant,
    logged: bool,
}

impl CallEnd {
    /// Logs the call's status (its `grpc-status` value), or that it was
    /// cancelled (`None`); once.
    fn log(&mut self, status: Option<&[u8]>) {
        if std::mem::replace(&mut self.logged, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        let _entered = self.span.enter();
        let Some(status) = status else {
            tracing::debug!(?elapsed, "call cancelled by the client");
            return;
        };
        let code = std::str::from_utf8(status)
            .ok()
            .and_then(|s| s.parse::<i32>().ok())
            .map_or(tonic::Code::Unknown, tonic::Code::from_i32);
        match code {
            tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::DataLoss => {
                tracing::warn!(status = ?code, ?elapsed, "call failed");
            }
            _ => tracing::debug!(status = ?code, ?elapsed, "call ended"),
        }
    }
}

/// A response body that logs the call's status when it sees the trailers (or
/// its cancellation when dropped first).
pub(crate) struct LoggedBody<B> {
    inner: B,
    end: Option<CallEnd>,
}

impl<B> LoggedBody<B> {
    fn quiet(inner: B) -> Self {
        LoggedBody { inner, end: None }
    }
}

impl<B: Body<Error = tonic::Status> + Unpin> Body for LoggedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(end) = &mut this.end {
            match &frame {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(status) = frame.trailers_ref().and_then(|t| t.get("grpc-status")) {
                        end.log(Some(status.as_bytes()));
                    }
                }
                Poll::Ready(Some(Err(status))) => {
                    end.log(Some(i32::from(status.code()).to_string().as_bytes()));
                }
                Poll::Ready(None) | Poll::Pending => {}
            }
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for LoggedBody<B> {
    fn drop(&mut self) {
        if let Some(end) = &mut self.end {
            end.log(None);
        }
    }
}

/// An accepted connection, which logs its closing and holds its slot.
pub(crate) struct LoggedConnection {
    inner: TcpStream,
    peer: Option<std::net::SocketAddr>,
    /// The node's connection slot, held while the connection is open
    /// (`node::serve`).
    _slot: OwnedSemaphorePermit,
}

impl LoggedConnection {
    /// Logs the connection's acceptance; it holds `slot` until dropped.
    pub(crate) fn accepted(inner: TcpStream, slot: OwnedSemaphorePermit) -> Self {
        let peer = inner.peer_addr().ok();
        tracing::debug!(?peer, "connection accepted");
        LoggedConnection {
            inner,
            peer,
            _slot: slot,
        }
    }
}

impl Drop for LoggedConnection {
    fn drop(&mut self) {
        tracing::debug!(peer = ?self.peer, "connection closed");
    }
}

impl Connected for LoggedConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for LoggedConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LoggedConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
