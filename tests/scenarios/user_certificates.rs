//! X.509 user certificates, against a dev (TLS) server of the scenario's
//! own: a client certificate signed by the server's CA logs in as the user its
//! common name names, as KurrentDB's user-certificate authentication does.

use kurrentdbclient::options::*;
use kurrentdbclient::{ConnectionSettings, Credentials, Error};

use crate::common::harness::ClientUnderTest;
use crate::common::{start_dev_server, unique};

/// A client presenting `(certificate, key)` (PEM) to the dev server at `addr`
/// whose CA is `ca`, with no credentials of its own.
async fn with_certificate<C: ClientUnderTest>(
    addr: std::net::SocketAddr,
    ca: &str,
    (certificate, key): (String, String),
) -> C {
    let settings: ConnectionSettings = format!("kurrentdb://{addr}").parse().unwrap();
    C::with_settings(
        settings
            .with_root_certificates(ca)
            .with_user_certificate(certificate, key),
    )
    .await
    .unwrap()
}

fn unauthenticated<T: std::fmt::Debug>(r: kurrentdbclient::Result<T>) {
    assert!(matches!(r, Err(Error::Unauthenticated { .. })), "{r:?}");
}

/// A certificate whose common name is a user logs in as that user (no
/// password): it may read its own details and not another's, an admin's
/// certificate may, and basic credentials sent with a certificate win (as
/// in KurrentDB, where the basic provider comes first). A certificate naming
/// no user, or a disabled one, is refused as `Unauthenticated`; a
/// certificate from another CA fails the TLS handshake (KurrentDB's client
/// certificate validation refuses the connection), and the node's own
/// certificate, presented as a client's, is no user's: the call is anonymous.
pub async fn user_certificates_log_in_as_their_common_name<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let dev = server.dev_certificates().unwrap();
    let ca = dev.ca_pem();
    let addr = server.addr();
    let login = unique("carol");
    admin
        .create_user(&login, "Carol", &[], "pw", &CreateUserOptions::default())
        .await
        .unwrap();

    let carol: C = with_certificate(addr, ca, dev.user_certificate(&login).unwrap()).await;
    let own = carol
        .get_user(&login, &GetUserOptions::default())
        .await
        .expect("a user reads its own details");
    assert_eq!(own.login_name, login);
    let r = carol.get_user("admin", &GetUserOptions::default()).await;
    assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
    // Basic credentials sent with the certificate are the ones that count.
    let as_admin = GetUserOptions::default().credentials(Credentials::new("admin", "changeit"));
    carol
        .get_user("admin", &as_admin)
        .await
        .expect("the basic credentials log in");
    let wrong = GetUserOptions::default().credentials(Credentials::new(&login, "wrong"));
    unauthenticated(carol.get_user(&login, &wrong).await);

    let admin_by_certificate: C =
        with_certificate(addr, ca, dev.user_certificate("admin").unwrap()).await;
    admin_by_certificate
        .get_user("ops", &GetUserOptions::default())
        .await
        .expect("admin by certificate");

    // A disabled user's certificate is refused until the user is enabled.
    admin
        .disable_user(&login, &DisableUserOptions::default())
        .await
        .unwrap();
    unauthenticated(carol.get_user(&login, &GetUserOptions::default()).await);
    admin
        .enable_user(&login, &EnableUserOptions::default())
        .await
        .unwrap();
    carol
        .get_user(&login, &GetUserOptions::default())
        .await
        .expect("enabled again");

    // A certificate for a login nobody has.
    let nobody: C =
        with_certificate(addr, ca, dev.user_certificate(&unique("nobody")).unwrap()).await;
    unauthenticated(nobody.get_user("ops", &GetUserOptions::default()).await);
    unauthenticated(
        nobody
            .get_server_info(&GetServerInfoOptions::default())
            .await,
    );

    // A certificate for an existing user, signed by another CA.
    let other_ca = kurrentdb_embedded::security::DevCertificates::generate().unwrap();
    let stranger: C = with_certificate(addr, ca, other_ca.user_certificate(&login).unwrap()).await;
    let r = stranger.get_user(&login, &GetUserOptions::default()).await;
    assert!(matches!(r, Err(Error::ServiceUnavailable { .. })), "{r:?}");

    // The node's certificate presented by a client: anonymous, so server
    // features answer and user details are refused.
    let node = dev.server();
    let as_node: C = with_certificate(
        addr,
        ca,
        (
            node.certificate_chain_pem().to_owned(),
            dev.server_private_key_pem().to_owned(),
        ),
    )
    .await;
    as_node
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("anonymous server info");
    let r = as_node.get_user(&login, &GetUserOptions::default()).await;
    assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
}
