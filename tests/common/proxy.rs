//! A tiny TCP proxy for fault injection: it forwards bytes between the client and
//! the server, and on the first connection it drops everything as soon as the
//! server starts answering a call (its first HTTP/2 HEADERS frame on a stream),
//! so the call has reached the server but the client never hears the outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
pub struct DroppingProxy {
    /// The address clients connect to.
    pub addr: String,
    /// How many connections the proxy accepted.
    pub connections: Arc<AtomicUsize>,
    /// How many connections it cut.
    pub dropped: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DroppingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DroppingProxy {
    /// Starts a proxy to `upstream` that cuts the first `cut` connections when
    /// the server first answers a call.
    pub async fn start(upstream: String, cut: usize) -> DroppingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr").to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (c, d) = (connections.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let n = c.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                let d = d.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut cr, &mut sw).await;
                    });
                    let cut_this = n < cut;
                    // Server -> client, frame by frame.
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 16 * 1024];
                    'outer: while let Ok(read @ 1..) = sr.read(&mut chunk).await {
                        buf.extend_from_slice(&chunk[..read]);
                        // Forward whole frames; inspect each frame header.
                        let mut sent = 0;
                        while buf.len() - sent >= 9 {
                            let h = &buf[sent..sent + 9];
                            let len =
                                ((h[0] as usize) << 16) | ((h[1] as usize) << 8) | h[2] as usize;
                            let kind = h[3];
                            let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
                            if buf.len() - sent < 9 + len {
                                break;
                            }
                            if cut_this && kind == 0x1 && stream != 0 {
                                d.fetch_add(1, Ordering::SeqCst);
                                // Forward what came before, then cut both ways.
                                let _ = cw.write_all(&buf[..sent]).await;
                                break 'outer;
                            }
                            sent += 9 + len;
                        }
                        if sent > 0 {
                            if cw.write_all(&buf[..sent]).await.is_err() {
                                break;
                            }
                            buf.drain(..sent);
                        }
                    }
                    up.abort();
                    drop(cw);
                });
            }
        });
        DroppingProxy {
            addr,
            connections,
            dropped,
            task,
        }
    }
}
