//! What the server logs: connections, each call with its gRPC status,
//! persistent-subscription groups. The subscriber is set for this test's
//! thread only, and the server runs on a current-thread runtime on it.

use std::sync::{Arc, Mutex};

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::{
    AppendToStreamOptions, CreateSubscriptionToStreamOptions, GetSubscriptionInfoOptions,
};
use kurrentdbclient::{AsyncKurrentDBClient, Error, NewEvent, StreamState};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A logged line: its level, its message, its fields and those of its spans.
#[derive(Debug, Clone)]
struct Line {
    level: Level,
    text: String,
}

#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<Line>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Lines {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut text = Text::default();
        attrs.record(&mut text);
        ctx.span(id).unwrap().extensions_mut().insert(text.0);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        for span in ctx.event_scope(event).into_iter().flatten() {
            if let Some(fields) = span.extensions().get::<String>() {
                text.0.push_str(fields);
            }
        }
        self.0.lock().unwrap().push(Line {
            level: *event.metadata().level(),
            text: text.0,
        });
    }
}

#[test]
fn connections_calls_with_their_status_and_groups_are_logged() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry().with(lines.clone());
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let server = EmbeddedServer::start().await.unwrap();
            let client = AsyncKurrentDBClient::connect(&server.connection_string())
                .await
                .unwrap();
            client
                .append_to_stream(
                    "logged",
                    StreamState::NoStream,
                    [NewEvent::new("E", "{}")],
                    &AppendToStreamOptions::default(),
                )
                .await
                .unwrap();
            let missing = client
                .get_subscription_info("nope", None, &GetSubscriptionInfoOptions::default())
                .await;
            assert!(
                matches!(missing, Err(Error::NotFound { .. })),
                "{missing:?}"
            );
            client
                .create_subscription_to_stream(
                    "group",
                    "logged",
                    &CreateSubscriptionToStreamOptions::default(),
                )
                .await
                .unwrap();
            client.close();
            server.shutdown().await;
        });
    });
    let lines = lines.0.lock().unwrap().clone();
    let find = |level: Level, parts: &[&str]| {
        lines
            .iter()
            .any(|l| l.level == level && parts.iter().all(|p| l.text.contains(p)))
    };
    assert!(find(Level::DEBUG, &["connection accepted"]), "{lines:#?}");
    assert!(
        find(
            Level::DEBUG,
            &[
                "call ended",
                "status=Ok",
                "method=/event_store.client.streams.Streams/Append",
                "peer=127.0.0.1:"
            ]
        ),
        "{lines:#?}"
    );
    assert!(
        find(
            Level::DEBUG,
            &[
                "call ended",
                "status=NotFound",
                "PersistentSubscriptions/GetInfo"
            ]
        ),
        "{lines:#?}"
    );
    assert!(
        find(
            Level::INFO,
            &[
                "persistent subscription group created",
                "group=logged::group"
            ]
        ),
        "{lines:#?}"
    );
}
