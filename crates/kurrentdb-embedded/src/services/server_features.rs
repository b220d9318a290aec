//! `event_store.client.server_features.ServerFeatures`: the methods this server
//! serves, named as the real server names them (lower-case method name, full
//! lower-case service name), and its version.

use kurrentdbclient::proto::server_features::server_features_server::ServerFeatures;
use kurrentdbclient::proto::server_features::{SupportedMethod, SupportedMethods};
use kurrentdbclient::proto::shared::Empty;
use tonic::{Request, Response, Status};

/// The server features service.
#[derive(Debug, Clone)]
pub(crate) struct ServerFeaturesService {
    version: String,
}

impl ServerFeaturesService {
    /// A service reporting `version` (for example "25.1.0").
    pub(crate) fn new(version: String) -> Self {
        ServerFeaturesService { version }
    }
}

fn method(service: &str, name: &str, features: &[&str]) -> SupportedMethod {
    SupportedMethod {
        method_name: name.to_owned(),
        service_name: service.to_owned(),
        features: features.iter().map(|f| (*f).to_owned()).collect(),
    }
}

/// The methods the embedded server serves.
pub(crate) fn supported_methods() -> Vec<SupportedMethod> {
    const STREAMS: &str = "event_store.client.streams.streams";
    const V2: &str = "kurrentdb.protocol.v2.streams.streamsservice";
    // Clients gate persistent-subscription calls on these entries: without
    // `create` + "all" the official Rust client refuses subscriptions to $all,
    // and without `getinfo`, `list`, `replayparked`, `restartsubsystem` it
    // falls back to the HTTP API (which this server does not serve).
    const PERSISTENT: &str = "event_store.client.persistent_subscriptions.persistentsubscriptions";
    const BOTH: &[&str] = &["stream", "all"];
    vec![
        method(STREAMS, "read", &["position", "events"]),
        method(STREAMS, "append", &[]),
        method(STREAMS, "batchappend", &[]),
        method(STREAMS, "delete", &[]),
        method(STREAMS, "tombstone", &[]),
        method(PERSISTENT, "create", BOTH),
        method(PERSISTENT, "update", BOTH),
        method(PERSISTENT, "delete", BOTH),
        method(PERSISTENT, "read", BOTH),
        method(PERSISTENT, "getinfo", BOTH),
        method(PERSISTENT, "replayparked", BOTH),
        method(PERSISTENT, "list", BOTH),
        method(PERSISTENT, "restartsubsystem", &[]),
        method(V2, "appendsession", &[]),
        method(V2, "appendrecords", &[]),
        method("event_store.client.gossip.gossip", "read", &[]),
        method(
            "event_store.client.server_features.serverfeatures",
            "getsupportedmethods",
            &[],
        ),
    ]
}

#[tonic::async_trait]
impl ServerFeatures for ServerFeaturesService {
    async fn get_supported_methods(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<SupportedMethods>, Status> {
        Ok(Response::new(SupportedMethods {
            methods: supported_methods(),
            event_store_server_version: self.version.clone(),
        }))
    }
}
