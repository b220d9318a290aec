//! Bearer (OAuth access) tokens against a dev server of the scenario's own
//! with OAuth options and a signing key ([`OAuthOptions::dev`]): per client
//! and per call, roles deciding stream ACLs, every bad token refused before
//! anything is written, secrets kept out of `Debug`, and a subscription that
//! outlives its token (the server checks a call's token once, when it
//! starts, as KurrentDB does).

use std::time::{Duration, Instant, SystemTime};

use kurrentdb_embedded::security::{OAuthOptions, TokenSigner};
use kurrentdb_embedded::{EmbeddedServer, Security, ServerOptions};
use kurrentdbclient::options::*;
use kurrentdbclient::{
    ConnectionSettings, Credentials, Error, StreamAcl, StreamMetadata, StreamState,
};

use super::{event, next_event};
use crate::common::harness::{ClientUnderTest, TestSubscription};
use crate::common::unique;

const HOUR: Duration = Duration::from_secs(3600);

async fn oauth_server(oauth: OAuthOptions) -> EmbeddedServer {
    EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        oauth: Some(oauth),
        ..ServerOptions::default()
    })
    .await
    .expect("start a dev server with OAuth")
}

/// The server's connection string without its `admin:changeit`.
fn anonymous_settings(server: &EmbeddedServer) -> ConnectionSettings {
    let settings: ConnectionSettings = server.connection_string().parse().unwrap();
    settings.without_credentials()
}

fn bearer(token: &str) -> Credentials {
    Credentials::bearer(token)
}

/// A token given with the settings is sent with every call; one given with
/// a call overrides it (and the user info); neither shows in `Debug` or in
/// the connection string.
pub async fn bearer_tokens_per_client_and_per_call<C: ClientUnderTest>(_client: &C) {
    let server = oauth_server(OAuthOptions::dev().unwrap()).await;
    let admin_token = server.mint_token("alice", &["$admins"], HOUR).unwrap();
    let settings = anonymous_settings(&server).with_bearer_token(&admin_token);
    assert!(!format!("{settings:?}").contains(&admin_token));
    assert!(!settings.to_string().contains(&admin_token));
    assert!(
        !settings
            .to_connection_string_with_secrets()
            .contains(&admin_token)
    );
    let creds = bearer(&admin_token);
    assert!(!format!("{creds:?}").contains(&admin_token));
    assert!(
        !format!("{:?}", AppendToStreamOptions::default().credentials(creds))
            .contains(&admin_token)
    );

    // Per client: `$all` is for `$admins`, which the token's role makes it.
    let client = C::with_settings(settings).await.unwrap();
    let stream = unique("bearer");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("an admin token writes");
    client
        .read_all(&ReadAllOptions::default().limit(1))
        .await
        .expect("an admin token reads $all");

    // Per call, on an anonymous client: anonymous callers may not read $all.
    let anonymous = C::with_settings(anonymous_settings(&server)).await.unwrap();
    let r = anonymous
        .read_all(&ReadAllOptions::default().limit(1))
        .await;
    assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
    anonymous
        .read_all(
            &ReadAllOptions::default()
                .limit(1)
                .credentials(bearer(&admin_token)),
        )
        .await
        .expect("the call's token counts");

    // Per call over the client's basic user info (admin) and over its token.
    let nobody = server.mint_token("nobody", &[], HOUR).unwrap();
    let basic = C::connect(&server.connection_string()).await.unwrap();
    for client in [&basic, &client] {
        let r = client
            .read_all(
                &ReadAllOptions::default()
                    .limit(1)
                    .credentials(bearer(&nobody)),
            )
            .await;
        assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
    }

    // A token that cannot be a header value is refused before sending.
    let r = C::with_settings(anonymous_settings(&server).with_bearer_token("a b")).await;
    assert!(matches!(r, Err(Error::InvalidBearerToken)), "{:?}", r.err());
    let r = client
        .get_server_info(&GetServerInfoOptions::default().credentials(bearer("line\nbreak")))
        .await;
    assert!(matches!(r, Err(Error::InvalidBearerToken)), "{r:?}");
}

/// A stream's `$acl` naming roles decides by the token's role claim.
pub async fn stream_acls_decide_by_the_tokens_roles<C: ClientUnderTest>(_client: &C) {
    let server = oauth_server(OAuthOptions::dev().unwrap()).await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let stream = unique("acl-roles");
    let metadata = StreamMetadata::default().with_acl(StreamAcl {
        read: vec!["readers".to_owned()],
        write: vec!["writers".to_owned()],
        ..StreamAcl::default()
    });
    admin
        .set_stream_metadata(
            &stream,
            &metadata,
            StreamState::Any,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let token = |roles: &[&str]| bearer(&server.mint_token("carol", roles, HOUR).unwrap());
    let append = |roles: &[&str]| AppendToStreamOptions::default().credentials(token(roles));
    let read = |roles: &[&str]| ReadStreamOptions::default().credentials(token(roles));

    admin
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![event("A", "{}")],
            &append(&["writers"]),
        )
        .await
        .expect("the writers role writes");
    for roles in [&["readers"][..], &[], &["carol"]] {
        let r = admin
            .append_to_stream(
                &stream,
                StreamState::Any,
                vec![event("B", "{}")],
                &append(roles),
            )
            .await;
        assert!(
            matches!(r, Err(Error::AccessDenied { .. })),
            "{roles:?}: {r:?}"
        );
    }
    let events = admin
        .get_stream(&stream, &read(&["readers", "other"]))
        .await
        .expect("readers read");
    assert_eq!(events.len(), 1);
    let r = admin.get_stream(&stream, &read(&["writers"])).await;
    assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
}

/// Expired, not-yet-valid, wrong-issuer, wrong-audience and wrongly signed
/// tokens get `Unauthenticated`; a token that is no JWT gets KurrentDB's
/// answer to an authentication error (`UNKNOWN` "Internal server error");
/// nothing is written.
pub async fn bad_tokens_are_refused_and_write_nothing<C: ClientUnderTest>(_client: &C) {
    let oauth = OAuthOptions::dev().unwrap();
    let server = oauth_server(oauth.clone()).await;
    let signer = oauth.keys.signer().unwrap();
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let stream = unique("bad-tokens");
    let good = || oauth.claims("mallory", &["$admins"], HOUR);
    let now = SystemTime::now();
    let mut expired = good();
    expired.expires_at = now - Duration::from_secs(600);
    let mut early = good();
    early.not_before = Some(now + Duration::from_secs(600));
    let mut issuer = good();
    issuer.issuer = "https://elsewhere".to_owned();
    let mut audience = good();
    audience.audience = "another-service".to_owned();
    let other_key = TokenSigner::generate().unwrap();
    let cases = [
        ("expired", signer.sign(&expired).unwrap()),
        ("not yet valid", signer.sign(&early).unwrap()),
        ("wrong issuer", signer.sign(&issuer).unwrap()),
        ("wrong audience", signer.sign(&audience).unwrap()),
        ("wrong signature", other_key.sign(&good()).unwrap()),
    ];
    for (case, token) in &cases {
        let options = AppendToStreamOptions::default().credentials(bearer(token));
        let r = admin
            .append_to_stream(&stream, StreamState::Any, vec![event("A", "{}")], &options)
            .await;
        match &r {
            Err(Error::Unauthenticated {
                operation, message, ..
            }) => {
                assert_eq!(operation, "append_to_stream", "{case}");
                assert_eq!(message, "Unauthenticated", "{case}");
            }
            _ => panic!("{case}: expected Unauthenticated, got {r:?}"),
        }
        let r = admin
            .get_stream(
                &stream,
                &ReadStreamOptions::default().credentials(bearer(token)),
            )
            .await;
        assert!(
            matches!(r, Err(Error::Unauthenticated { .. })),
            "{case}: {r:?}"
        );
    }
    for malformed in ["not-a-jwt", "a.b.c"] {
        let options = AppendToStreamOptions::default().credentials(bearer(malformed));
        let r = admin
            .append_to_stream(&stream, StreamState::Any, vec![event("A", "{}")], &options)
            .await;
        assert!(
            matches!(&r, Err(Error::Unknown(m)) if m == "Internal server error"),
            "{malformed}: {r:?}"
        );
    }
    let r = admin
        .get_stream(&stream, &ReadStreamOptions::default())
        .await;
    assert!(
        matches!(r, Err(Error::NotFound { .. })),
        "nothing was written: {r:?}"
    );
    // The good token itself works.
    let token = signer.sign(&good()).unwrap();
    admin
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default().credentials(bearer(&token)),
        )
        .await
        .expect("a good token writes");
}

/// A subscription started with a token keeps receiving events after the
/// token expires (the token is checked when a call starts); calls started
/// after the expiry, a new subscription included, are `Unauthenticated`.
pub async fn a_subscription_outlives_its_token<C: ClientUnderTest>(_client: &C) {
    let mut oauth = OAuthOptions::dev().unwrap();
    oauth.clock_skew = Duration::ZERO;
    let server = oauth_server(oauth).await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let stream = unique("expiring");
    let token = server
        .mint_token("dave", &["$admins"], Duration::from_secs(6))
        .unwrap();
    let options = SubscribeToStreamOptions::default().credentials(bearer(&token));
    let mut sub = admin
        .subscribe_to_stream(&stream, &options)
        .await
        .expect("subscribed while valid");
    admin
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("Before", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(next_event(&mut sub).await.r#type, "Before");

    // Wait until the token is refused (it expires within seconds).
    let info = GetServerInfoOptions::default().credentials(bearer(&token));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match admin.get_server_info(&info).await {
            Err(Error::Unauthenticated { .. }) => break,
            Ok(_) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert!(Instant::now() < deadline, "the token never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    admin
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![event("After", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut sub).await.r#type,
        "After",
        "the running subscription goes on"
    );
    let r = admin.subscribe_to_stream(&stream, &options).await;
    let r = match r {
        Ok(mut again) => again.next_item().await.map(|r| r.map(drop)),
        Err(e) => Some(Err(e)),
    };
    assert!(
        matches!(r, Some(Err(Error::Unauthenticated { .. }))),
        "{r:?}"
    );
}
