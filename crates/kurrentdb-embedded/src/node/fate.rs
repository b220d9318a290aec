//! What happens to a node's open connections when it is stopped or
//! partitioned: they are cut (a stopped or crashed node's sockets fail), or
//! they hang (a partition that drops packets: nothing arrives, nothing fails).
//!
//! Each node has a `watch` of its [`Fate`]. A connection remembers the fate's
//! generation when it was accepted; when the generation moves on (the node
//! stopped, or a hang ended) its reads and writes fail with
//! `ConnectionReset`, and while the node hangs they wait. The watch wakes the
//! connection's task on every change, so nothing polls.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::call_log::LoggedConnection;

/// A node's fate, as its connections see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Fate {
    /// Bumped to cut every connection accepted before.
    pub(crate) generation: u64,
    /// The node hangs: its connections neither answer nor fail.
    pub(crate) hung: bool,
}

/// A connection that obeys its node's [`Fate`] (or, without one, is a plain
/// connection: a single [`EmbeddedServer`](crate::EmbeddedServer)).
pub(crate) struct FatedConnection {
    inner: LoggedConnection,
    fate: Option<Watched>,
}

struct Watched {
    born: u64,
    current: Option<Fate>,
    changes: WatchStream<Fate>,
}

impl FatedConnection {
    /// `inner`, cut or hung as `fate` says from now on.
    pub(crate) fn new(inner: LoggedConnection, fate: Option<&watch::Receiver<Fate>>) -> Self {
        let fate = fate.map(|rx| {
            let now = *rx.borrow();
            Watched {
                born: now.generation,
                current: Some(now),
                changes: WatchStream::new(rx.clone()),
            }
        });
        FatedConnection { inner, fate }
    }

    /// Ready to use the socket, an error if the connection was cut, or
    /// pending while the node hangs.
    fn check(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let Some(watched) = self.fate.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        loop {
            match Pin::new(&mut watched.changes).poll_next(cx) {
                Poll::Ready(Some(fate)) => watched.current = Some(fate),
                // The node is gone for good.
                Poll::Ready(None) => {
                    watched.current = None;
                    break;
                }
                Poll::Pending => break,
            }
        }
        match watched.current {
            Some(fate) if fate.generation == watched.born && !fate.hung => Poll::Ready(Ok(())),
            Some(fate) if fate.generation == watched.born => Poll::Pending,
            _ => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the node stopped",
            ))),
        }
    }
}

impl Connected for FatedConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for FatedConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.check(cx))?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FatedConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.check(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.check(cx))?;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.check(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
