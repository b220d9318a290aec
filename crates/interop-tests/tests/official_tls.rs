//! The official Rust client (`kurrentdb` from crates.io) over TLS: against a
//! `--dev` embedded server, trusting its development CA (`tlsCaFile`) and
//! logging in as `admin:changeit`, as against a KurrentDB node started with
//! `--dev`. Append, read, a catch-up subscription, a persistent subscription,
//! access denied for a user a stream's ACL leaves out (and a wrong password),
//! a login by X.509 user certificate (`userCertFile`, `userKeyFile`), and
//! bearer tokens (`Authentication::bearer`) against a server with OAuth.

use std::path::PathBuf;
use std::time::Duration;

use kurrentdb::{
    Acl, AppendToStreamOptions, Authentication, Client as OfficialClient, ClientSettings,
    Error as OfficialError, EventData, PersistentSubscriptionEvent, PersistentSubscriptionOptions,
    ReadStreamOptions, StreamAclBuilder, StreamMetadata, StreamPosition, SubscribeToStreamOptions,
    SubscriptionEvent,
};
use kurrentdb_embedded::security::{OAuthOptions, TokenSigner};
use kurrentdb_embedded::{EmbeddedServer, Security, ServerOptions};
use kurrentdbclient::AsyncKurrentDBClient;
use kurrentdbclient::options::CreateUserOptions;
use uuid::Uuid;

/// How long any single wait for the server may take before a test fails.
const WAIT: Duration = Duration::from_secs(10);

async fn dev_server() -> EmbeddedServer {
    EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        ..Default::default()
    })
    .await
    .expect("a dev server starts")
}

/// The official client with this connection string.
fn official(uri: &str) -> OfficialClient {
    let settings: ClientSettings = uri.parse().expect("the official client parses the uri");
    OfficialClient::new(settings).expect("the official client is created")
}

/// The dev server's address and CA file, as a connection string's
/// `host:port?tlsCaFile=...` (no user).
fn endpoint(server: &EmbeddedServer) -> String {
    format!(
        "{}?tlsCaFile={}",
        server.addr(),
        server.ca_file().expect("a dev CA file").display()
    )
}

fn stream(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

fn event(kind: &str) -> EventData {
    EventData::binary(kind, "{}".into()).id(Uuid::new_v4())
}

/// Appends events `A` and `B` to `name` with the official client.
async fn append_a_b(client: &OfficialClient, name: &str) {
    client
        .append_to_stream(name, &Default::default(), vec![event("A"), event("B")])
        .await
        .expect("append over TLS");
}

/// Every event of `name`, read forwards with the official client.
async fn read(client: &OfficialClient, name: &str) -> kurrentdb::Result<Vec<String>> {
    let options = ReadStreamOptions::default()
        .position(StreamPosition::Start)
        .max_count(usize::MAX);
    let mut read = client.read_stream(name, &options).await?;
    let mut types = Vec::new();
    while let Some(event) = read.next().await? {
        types.push(event.get_original_event().event_type.clone());
    }
    Ok(types)
}

#[tokio::test]
async fn official_appends_reads_and_subscribes_over_tls() {
    let server = dev_server().await;
    let client = official(&server.connection_string());
    let name = stream("tls");
    append_a_b(&client, &name).await;
    assert_eq!(read(&client, &name).await.unwrap(), ["A", "B"]);

    let mut sub = client
        .subscribe_to_stream(
            name.as_str(),
            &SubscribeToStreamOptions::default().start_from(StreamPosition::Start),
        )
        .await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let item = tokio::time::timeout(WAIT, sub.next_subscription_event())
            .await
            .expect("within the time limit")
            .expect("the subscription goes on");
        if let SubscriptionEvent::EventAppeared(e) = item {
            seen.push(e.get_original_event().event_type.clone());
        }
    }
    assert_eq!(seen, ["A", "B"]);

    // Our client reads what the official one wrote, over the same TLS.
    let ours = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let events = ours.get_stream(&name, &Default::default()).await.unwrap();
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn official_persistent_subscription_over_tls() {
    let server = dev_server().await;
    let client = official(&server.connection_string());
    let name = stream("tls-group");
    append_a_b(&client, &name).await;
    client
        .create_persistent_subscription(
            name.as_str(),
            "group",
            &PersistentSubscriptionOptions::default().start_from(StreamPosition::Start),
        )
        .await
        .expect("create over TLS");
    let mut sub = client
        .subscribe_to_persistent_subscription(name.as_str(), "group", &Default::default())
        .await
        .expect("subscribe over TLS");
    let mut received = Vec::new();
    while received.len() < 2 {
        let item = tokio::time::timeout(WAIT, sub.next_subscription_event())
            .await
            .expect("within the time limit")
            .expect("the subscription goes on");
        if let PersistentSubscriptionEvent::EventAppeared { event, .. } = item {
            sub.ack(&event).await.expect("ack");
            received.push(event.get_original_event().event_type.clone());
        }
    }
    assert_eq!(received, ["A", "B"]);
}

/// A user the stream's ACL leaves out is refused (the official crate shows
/// both PERMISSION_DENIED and UNAUTHENTICATED as `AccessDenied`); so is a
/// wrong password; the same user reads a stream the default ACL allows.
#[tokio::test]
async fn official_access_denied_for_a_restricted_user() {
    let server = dev_server().await;
    let admin = official(&server.connection_string());
    let ours = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let login = stream("restricted");
    ours.create_user(
        &login,
        "Restricted",
        &[],
        "pw",
        &CreateUserOptions::default(),
    )
    .await
    .unwrap();
    let name = stream("tls-acl");
    admin
        .append_to_stream(name.as_str(), &Default::default(), vec![event("A")])
        .await
        .unwrap();
    let acl = StreamAclBuilder::new()
        .add_read_roles("$admins")
        .add_write_roles("$admins")
        .build();
    admin
        .set_stream_metadata(
            name.as_str(),
            &Default::default(),
            &StreamMetadata::builder().acl(Acl::Stream(acl)).build(),
        )
        .await
        .unwrap();

    let restricted = official(&format!("kurrentdb://{login}:pw@{}", endpoint(&server)));
    let r = read(&restricted, &name).await;
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
    let r = restricted
        .append_to_stream(name.as_str(), &Default::default(), vec![event("B")])
        .await;
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
    let own = stream("tls-own");
    restricted
        .append_to_stream(own.as_str(), &Default::default(), vec![event("A")])
        .await
        .expect("the default ACL lets a user write a user stream");
    assert_eq!(read(&restricted, &own).await.unwrap(), ["A"]);

    let wrong = official(&format!("kurrentdb://{login}:wrong@{}", endpoint(&server)));
    let r = read(&wrong, &own).await;
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn with(contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("kdb-{}.pem", Uuid::new_v4().simple()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The official client presenting a user certificate (no credentials) logs
/// in as the user its common name names: it reads what that user may, and is
/// refused what only `$admins` may.
#[tokio::test]
async fn official_logs_in_with_a_user_certificate() {
    let server = dev_server().await;
    let ours = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    let login = stream("certified");
    ours.create_user(
        &login,
        "Certified",
        &[],
        "pw",
        &CreateUserOptions::default(),
    )
    .await
    .unwrap();
    let (certificate, key) = server
        .dev_certificates()
        .unwrap()
        .user_certificate(&login)
        .unwrap();
    let (certificate, key) = (TempFile::with(&certificate), TempFile::with(&key));
    let client = official(&format!(
        "kurrentdb://{}&userCertFile={}&userKeyFile={}",
        endpoint(&server),
        certificate.0.display(),
        key.0.display()
    ));
    let name = stream("tls-cert");
    client
        .append_to_stream(name.as_str(), &Default::default(), vec![event("A")])
        .await
        .expect("the certificate's user writes a user stream");
    assert_eq!(read(&client, &name).await.unwrap(), ["A"]);
    // `$all` is for `$admins`: the certificate is not admin's.
    let r = client.read_all(&Default::default()).await;
    let r = match r {
        Ok(mut read) => read.next().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
}

/// The official client's bearer authentication (`Authentication::bearer`,
/// for KurrentDB's OAuth plugin) per call, against a dev server with OAuth
/// options: an `$admins` token appends and reads; a stream's ACL decides by a
/// token's roles; a token of another key, and an expired one, are refused.
#[tokio::test]
async fn official_bearer_tokens_against_an_oauth_server() {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        oauth: Some(OAuthOptions::dev().expect("a signing key")),
        ..Default::default()
    })
    .await
    .expect("a dev server with OAuth starts");
    let hour = Duration::from_secs(3600);
    let token = |roles: &[&str]| {
        Authentication::bearer(server.mint_token("alice", roles, hour).expect("a token"))
    };
    // No user info: every call carries its token.
    let client = official(&format!("kurrentdb://{}", endpoint(&server)));
    let name = stream("bearer");
    let admin = AppendToStreamOptions::default().authenticated(token(&["$admins"]));
    tokio::time::timeout(
        WAIT,
        client.append_to_stream(name.as_str(), &admin, vec![event("A")]),
    )
    .await
    .expect("in time")
    .expect("an $admins token appends");
    let acl = StreamAclBuilder::new().add_read_roles("readers").build();
    client
        .set_stream_metadata(
            name.as_str(),
            &admin,
            &StreamMetadata::builder().acl(Acl::Stream(acl)).build(),
        )
        .await
        .expect("an $admins token sets metadata");
    let read_as = |auth: Authentication| {
        let client = &client;
        let name = &name;
        async move {
            let options = ReadStreamOptions::default()
                .position(StreamPosition::Start)
                .max_count(usize::MAX)
                .authenticated(auth);
            let mut read = client.read_stream(name.as_str(), &options).await?;
            let mut types = Vec::new();
            while let Some(event) = read.next().await? {
                types.push(event.get_original_event().event_type.clone());
            }
            Ok::<_, OfficialError>(types)
        }
    };
    assert_eq!(read_as(token(&["readers"])).await.unwrap(), ["A"]);
    let r = read_as(token(&["writers"])).await;
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
    let stranger = TokenSigner::generate().unwrap();
    let oauth = server.oauth().unwrap();
    let forged = stranger
        .sign(&oauth.claims("alice", &["$admins"], hour))
        .unwrap();
    let r = read_as(Authentication::bearer(forged)).await;
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
    let mut expired = oauth.claims("alice", &["readers"], hour);
    expired.expires_at = std::time::SystemTime::now() - Duration::from_secs(600);
    let signer = oauth.keys.signer().unwrap();
    let r = read_as(Authentication::bearer(signer.sign(&expired).unwrap())).await;
    assert!(matches!(r, Err(OfficialError::AccessDenied)), "{r:?}");
}
