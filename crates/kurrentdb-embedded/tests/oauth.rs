//! Bearer tokens through the generated stubs, over TLS, against a dev server
//! with OAuth options: the status and message of each refused token
//! (KurrentDB's `AuthenticationMiddleware` answers), nothing written by a
//! refused call, basic credentials under `Bearer` still accepted, and hostile
//! tokens (huge, binary) answered without harm.

mod common;

use std::time::{Duration, SystemTime};

use kurrentdb_embedded::security::{OAuthOptions, TokenSigner};
use kurrentdb_embedded::{EmbeddedServer, Security, ServerOptions};
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::Empty;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

const HOUR: Duration = Duration::from_secs(3600);

async fn oauth_server() -> (EmbeddedServer, Channel, OAuthOptions) {
    let oauth = OAuthOptions::dev().expect("a signing key");
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        oauth: Some(oauth.clone()),
        ..ServerOptions::default()
    })
    .await
    .expect("server starts");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server.ca_pem().expect("dev CA")))
        .domain_name("localhost");
    let channel = Channel::from_shared(server.uri())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("connects over TLS");
    (server, channel, oauth)
}

/// An append of one event to `stream` with `authorization`.
async fn append_as(
    channel: &Channel,
    stream: &str,
    authorization: &str,
) -> Result<(), tonic::Status> {
    let requests = common::append_requests(stream, common::any(), vec![common::event("E", b"{}")]);
    let mut request = tonic::Request::new(futures::stream::iter(requests));
    let value = MetadataValue::try_from(authorization).expect("a header value");
    request.metadata_mut().insert("authorization", value);
    common::Client::new(channel.clone())
        .append(request)
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_are_unauthenticated_and_write_nothing() {
    let (server, channel, oauth) = oauth_server().await;
    let signer = oauth.keys.signer().unwrap();
    let stream = "oauth-refused";
    let good = || oauth.claims("eve", &["$admins"], HOUR);
    let now = SystemTime::now();
    let mut expired = good();
    expired.expires_at = now - Duration::from_secs(3600);
    let mut early = good();
    early.not_before = Some(now + Duration::from_secs(3600));
    let mut issuer = good();
    issuer.issuer = "https://elsewhere".to_owned();
    let mut audience = good();
    audience.audience = "other".to_owned();
    let stranger = TokenSigner::generate().unwrap();
    let cases = [
        ("expired", signer.sign(&expired).unwrap()),
        ("not yet valid", signer.sign(&early).unwrap()),
        ("wrong issuer", signer.sign(&issuer).unwrap()),
        ("wrong audience", signer.sign(&audience).unwrap()),
        ("wrong signature", stranger.sign(&good()).unwrap()),
    ];
    let log_before = server.store().log_len();
    for (case, token) in &cases {
        let status = append_as(&channel, stream, &format!("Bearer {token}"))
            .await
            .expect_err(case);
        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
        assert_eq!(status.message(), "Unauthenticated", "{case}");
    }
    // Not a JWT: KurrentDB's answer to an authentication error.
    for malformed in ["x", "a.b.c", "e30.e30", &"A".repeat(8 * 1024)] {
        let status = append_as(&channel, stream, &format!("Bearer {malformed}"))
            .await
            .expect_err("malformed");
        assert_eq!(status.code(), Code::Unknown, "{status:?}");
        assert_eq!(status.message(), "Internal server error");
    }
    assert_eq!(server.store().log_len(), log_before, "nothing was written");

    // The good token writes; so do basic credentials sent under `Bearer`
    // (KurrentDB's compatibility with its Flight SQL handshake).
    let token = signer.sign(&good()).unwrap();
    append_as(&channel, stream, &format!("Bearer {token}"))
        .await
        .expect("a good token");
    append_as(&channel, stream, "Bearer YWRtaW46Y2hhbmdlaXQ=")
        .await
        .expect("admin:changeit under Bearer");
    assert_eq!(server.store().log_len(), log_before + 2);

    // The server is sound after it all.
    ServerFeaturesClient::new(channel.clone())
        .get_supported_methods(Empty {})
        .await
        .expect("the server still answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_oauth_options_a_token_leaves_the_call_anonymous() {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server.ca_pem().unwrap()))
        .domain_name("localhost");
    let channel = Channel::from_shared(server.uri())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token = OAuthOptions::dev()
        .unwrap()
        .mint_token("eve", &["$admins"], HOUR)
        .unwrap();
    // Not refused (no OAuth to refuse it) but not an admin either: the call
    // is anonymous, and anonymous callers may not write (KurrentDB's default
    // policy).
    let status = append_as(&channel, "user-stream", &format!("Bearer {token}"))
        .await
        .expect_err("anonymous may not write");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
}
