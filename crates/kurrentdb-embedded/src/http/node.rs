//! What a node's HTTP handlers share ([`HttpNode`]), and who may use an
//! endpoint.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tokio::sync::watch;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::membership::Membership;
use crate::metrics::Metrics;
use crate::projections::Projections;
use crate::security::auth::Authenticator;
use crate::security::authz::Operation;
use crate::security::principal::Principal;
use crate::services::persistent::PersistentService;
use crate::store::Store;
use crate::users::Users;

/// What a node's HTTP handlers read: the node, its store and subsystems.
#[derive(Debug, Clone)]
pub(crate) struct HttpNode {
    pub(crate) store: Arc<Store>,
    pub(crate) membership: Arc<Membership>,
    /// This node's index in the membership.
    pub(crate) index: usize,
    /// Where the node listens.
    pub(crate) addr: SocketAddr,
    pub(crate) persistent: PersistentService,
    pub(crate) users: Users,
    pub(crate) projections: Option<Arc<Projections>>,
    /// `None`: an insecure server (everyone is served).
    pub(crate) authenticator: Option<Arc<Authenticator>>,
    pub(crate) metrics: Arc<Metrics>,
    /// `true` once the node is shutting down.
    pub(crate) shutting_down: watch::Receiver<bool>,
    pub(crate) server_version: String,
    pub(crate) projections_enabled: bool,
    pub(crate) allow_anonymous_endpoint_access: bool,
    pub(crate) override_anonymous_endpoint_access_for_gossip: bool,
}

/// The endpoints a login may be asked for (KurrentDB's operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `Node.Statistics.Read` (`/stats`, `/metrics`): allowed anonymously
    /// with `AllowAnonymousEndpointAccess`.
    Statistics,
    /// `Node.Gossip.ClientRead` (`/gossip`): allowed anonymously with
    /// `OverrideAnonymousEndpointAccessForGossip` or the option above.
    Gossip,
}

impl HttpNode {
    /// Who makes `request` (see `security::auth`): `Err` is KurrentDB's
    /// answer to credentials it refuses, 401 with `WWW-Authenticate:
    /// X-Basic realm="ESDB"` (the `X-` keeps browsers from showing their own
    /// login box: `AddHttp1ChallengeHeaders`). An insecure server serves
    /// everyone as anonymous.
    pub(crate) async fn principal(
        &self,
        parts: &http::request::Parts,
    ) -> Result<Principal, Refused> {
        let Some(authenticator) = self.authenticator.clone() else {
            return Ok(Principal::Anonymous);
        };
        let certificates = parts
            .extensions
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs);
        let leaf = certificates.as_deref().and_then(|c| c.first());
        authenticator
            .principal(&parts.headers, leaf.map(|c| c.as_ref()))
            .await
            .map_err(|_refusal| Refused { challenge: true })
    }

    /// Whether `principal` may do `operation` (the ACL, as for gRPC calls;
    /// always, on an insecure server).
    pub(crate) fn allows(&self, principal: &Principal, operation: Operation<'_>) -> bool {
        match &self.authenticator {
            None => true,
            Some(authenticator) => authenticator.authorizer().allows(principal, operation),
        }
    }

    /// Whether `principal` may use `endpoint` (KurrentDB's legacy policy,
    /// `LegacyPolicyVerification`): any authenticated user may; an
    /// anonymous caller as the options say; on an insecure server, anyone.
    /// Refused, KurrentDB's `AuthorizationMiddleware` answers 401.
    pub(crate) fn authorize(
        &self,
        principal: &Principal,
        endpoint: Endpoint,
    ) -> Result<(), Refused> {
        let allowed = self.authenticator.is_none()
            || matches!(principal, Principal::User(_))
            || self.allow_anonymous_endpoint_access
            || (endpoint == Endpoint::Gossip && self.override_anonymous_endpoint_access_for_gossip);
        if allowed {
            Ok(())
        } else {
            Err(Refused { challenge: false })
        }
    }
}

/// A request refused for its caller: 401, with KurrentDB's challenge when
/// its credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    challenge: bool,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("X-Basic realm=\"ESDB\""),
            );
        }
        response
    }
}
