//! [`CatchPanic`]: a panic in a handler answers its call with `INTERNAL`.
//!
//! No handler is known to panic. But without this, a panic unwinds through
//! the connection's task: every call on that HTTP/2 connection dies with it,
//! and the client sees a reset stream instead of a status. Wrapped, the call
//! that panicked gets `INTERNAL` (in its headers when nothing was sent yet, in
//! its trailers when a streaming response had started), and the others go on.
//! Like every `catch_unwind`, this relies on the default `panic = "unwind"`.

use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::BoxFuture;
use http_body::Frame;
use tonic::Status;
use tonic::body::Body;
use tonic::server::NamedService;

/// `INTERNAL`: what a call gets if its handler panics (a bug; none is known).
/// KurrentDB's host answers an unexpected exception with `UNKNOWN`
/// (the services' `HANDLER_EXCEPTION`), but that is also its answer to
/// malformed input; a panic here is this server's fault, and says so.
pub(crate) fn handler_panicked() -> Status {
    Status::internal("The embedded server failed while handling this call.")
}

/// A gRPC service whose panics become `INTERNAL` answers (see the module
/// docs).
#[derive(Debug, Clone)]
pub(crate) struct CatchPanic<S>(pub(crate) S);

impl<S: NamedService> NamedService for CatchPanic<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower_service::Service<http::Request<B>> for CatchPanic<S>
where
    S: tower_service::Service<
            http::Request<B>,
            Response = http::Response<Body>,
            Error = Infallible,
        >,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Ok(future) = catch_unwind(AssertUnwindSafe(|| self.0.call(request))) else {
            return Box::pin(async { Ok(handler_panicked().into_http()) });
        };
        Box::pin(async move {
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(Ok(response)) => Ok(response.map(|body| Body::new(CatchPanicBody::new(body)))),
                Err(_) => Ok(handler_panicked().into_http()),
            }
        })
    }
}

/// A response body whose panics end it with `INTERNAL` trailers.
struct CatchPanicBody {
    inner: Option<Body>,
}

impl CatchPanicBody {
    fn new(inner: Body) -> Self {
        CatchPanicBody { inner: Some(inner) }
    }
}

impl http_body::Body for CatchPanicBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, tonic::Status>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll_frame(cx))) {
            Ok(poll) => poll,
            Err(_) => {
                // The body is broken: drop it, and end the response with the
                // status as trailers.
                self.inner = None;
                let mut trailers = http::HeaderMap::new();
                let _ = handler_panicked().add_header(&mut trailers);
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.as_ref().map_or_else(
            || http_body::SizeHint::with_exact(0),
            http_body::Body::size_hint,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures::future::BoxFuture;
    use http_body::{Body as _, Frame};
    use tonic::body::Body;
    use tower_service::Service;

    use super::CatchPanic;

    /// A response body that panics when polled.
    struct PanickingBody;

    impl http_body::Body for PanickingBody {
        type Data = bytes::Bytes;
        type Error = tonic::Status;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<bytes::Bytes>, tonic::Status>>> {
            panic!("a streaming bug")
        }
    }

    /// A service that panics in its handler (or, with `in_body`, while its
    /// response streams).
    #[derive(Clone)]
    struct Panics {
        in_body: bool,
    }

    impl Service<http::Request<Body>> for Panics {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            let in_body = self.in_body;
            Box::pin(async move {
                assert!(in_body, "a handler bug");
                Ok(http::Response::new(Body::new(PanickingBody)))
            })
        }
    }

    /// The trailers a body ends with.
    async fn trailers(mut body: Body) -> Option<http::HeaderMap> {
        loop {
            let frame = futures::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await?;
            if let Ok(trailers) = frame.ok()?.into_trailers() {
                return Some(trailers);
            }
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_internal() {
        let mut service = CatchPanic(Panics { in_body: false });
        let response = service
            .call(http::Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(response.headers()["grpc-status"], "13");
    }

    #[tokio::test]
    async fn a_panicking_response_stream_ends_with_internal_trailers() {
        let mut service = CatchPanic(Panics { in_body: true });
        let response = service
            .call(http::Request::new(Body::empty()))
            .await
            .unwrap();
        let trailers = trailers(response.into_body()).await.expect("trailers");
        assert_eq!(trailers["grpc-status"], "13");
    }
}
