//! Connection strings, through both APIs (each scenario is a test in
//! `async_client` and in `blocking_client`): malformed ones give their named
//! errors at `connect`, the getting-started page's examples are accepted, and
//! parsed settings connect as the string does. (How each option is parsed is
//! tested next to the parser, in `src/connection/settings.rs`.)

mod common;

use kurrentdbclient::Error;

use common::harness::ClientUnderTest;
use common::server_uri;

/// One test per scenario named, in a module per server mode and API.
macro_rules! through_both_apis {
    ($($scenario:ident),* $(,)?) => {
        through_both_apis!(@mode insecure_server, Insecure; $($scenario),*);
        through_both_apis!(@mode dev_server, Secure; $($scenario),*);
    };
    (@mode $name:ident, $mode:ident; $($scenario:ident),*) => {
        mod $name {
            mod async_client {
                crate::scenario_tests!(
                    kurrentdbclient::AsyncKurrentDBClient, $mode, crate, shared_server;
                    $($scenario),*
                );
            }
            mod blocking_client {
                crate::scenario_tests!(
                    crate::common::blocking_api::Blocking, $mode, crate, shared_server;
                    $($scenario),*
                );
            }
        }
    };
}

through_both_apis!(
    bad_connection_strings_give_named_errors,
    connection_string_examples_of_the_getting_started_page,
    connect_errors_and_with_settings,
);

/// A malformed connection string gives its named error.
pub async fn bad_connection_strings_give_named_errors<C: ClientUnderTest>(_client: &C) {
    use kurrentdbclient::connection::settings::ConnectionStringError as E;
    for (uri, check) in [
        (
            "http://localhost:2113",
            (|e: &E| matches!(e, E::UnknownScheme { .. })) as fn(&E) -> bool,
        ),
        ("kurrentdb://", |e: &E| matches!(e, E::NoEndpoint)),
        ("kurrentdb://localhost:notaport", |e: &E| {
            matches!(e, E::InvalidPort { .. })
        }),
        ("", |e: &E| matches!(e, E::Empty)),
    ] {
        match C::connect(uri).await {
            Err(Error::InvalidConnectionString(e)) => assert!(check(&e), "{uri}: {e:?}"),
            Err(other) => panic!("{uri}: {other:?}"),
            Ok(_) => panic!("{uri}: connected"),
        }
    }
    match C::connect("kurrentdb://localhost:2113?tls=false&nosuchoption=1").await {
        Err(Error::InvalidConnectionString(e)) => {
            assert!(e.to_string().to_lowercase().contains("nosuchoption"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
}

/// The connection strings of the getting-started page (003) are accepted: one
/// node connects lazily; cluster forms try discovery and, with nobody there,
/// fail with DiscoveryFailed.
pub async fn connection_string_examples_of_the_getting_started_page<C: ClientUnderTest>(
    _client: &C,
) {
    C::connect("kurrentdb://user:pass@node1.example.invalid:2113")
        .await
        .expect("a single node connects lazily");
    C::connect("kurrentdb://127.0.0.1:2113?tls=false")
        .await
        .expect("insecure local node");
    for uri in [
        "kurrentdb://user:pass@node1.example.invalid:2113,node2.example.invalid:2113,\
         node3.example.invalid:2113?maxDiscoverAttempts=1&gossipTimeout=1",
        "kurrentdb+discover://user:pass@cluster1.example.invalid:2113?maxDiscoverAttempts=1&gossipTimeout=1",
    ] {
        let r = C::connect(uri).await;
        assert!(
            matches!(r, Err(Error::DiscoveryFailed(_))),
            "{uri}: {:?}",
            r.err()
        );
    }
}

/// A string that is no connection string is the same named error through both
/// APIs; `with_settings` connects with parsed settings.
pub async fn connect_errors_and_with_settings<C: ClientUnderTest>(_client: &C) {
    let r = C::connect("not a connection string").await;
    assert!(
        matches!(r, Err(Error::InvalidConnectionString(_))),
        "{:?}",
        r.err()
    );
    let settings = server_uri().parse().unwrap();
    let client = C::with_settings(settings).await.unwrap();
    client.get_server_info(&Default::default()).await.unwrap();
}
