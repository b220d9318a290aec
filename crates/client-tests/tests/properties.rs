//! Property tests of the connection-string parser: it never panics, on any
//! string or on near-valid ones built from real parts, and what it accepts
//! round-trips (`to_connection_string_with_secrets` parses back to equal
//! settings).

use kurrentdbclient::connection::settings::ConnectionSettings;
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "tls",
    "tlsVerifyCert",
    "connectionName",
    "maxDiscoverAttempts",
    "discoveryInterval",
    "gossipTimeout",
    "nodePreference",
    "tlsCaFile",
    "defaultDeadline",
    "keepAliveInterval",
    "keepAliveTimeout",
    "userCertFile",
    "userKeyFile",
    "TLS",
    "unknown",
    "",
];

fn scheme() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "kurrentdb://",
        "kurrentdb+discover://",
        "esdb://",
        "esdb+discover://",
        "kdb://",
        "kdb+discover://",
        "KurrentDB://",
        "http://",
        "kurrentdb:/",
        "",
    ])
    .prop_map(str::to_owned)
}

/// Text with the characters that matter to the parser among ordinary ones.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "a", "Z", "0", "9", "-", ".", "_", "~", "%", "%2", "%25", "%41", "%zz", "@", ":",
                "/", "?", "&", "=", ",", "[", "]", " ", "é", "\u{0}", "+", "#",
            ])
            .prop_map(str::to_owned),
            any::<char>().prop_map(String::from),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn host() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("localhost".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just("[::1".to_owned()),
        Just("node-1.example".to_owned()),
        text(),
    ];
    let port = prop_oneof![
        Just(String::new()),
        Just(":2113".to_owned()),
        Just(":0".to_owned()),
        Just(":65535".to_owned()),
        Just(":65536".to_owned()),
        Just(":99999999999999999999".to_owned()),
        Just(":".to_owned()),
        text().prop_map(|t| format!(":{t}")),
    ];
    (name, port).prop_map(|(n, p)| format!("{n}{p}"))
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("-1".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("1e3".to_owned()),
        Just("leader".to_owned()),
        Just("Follower".to_owned()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        text(),
    ]
}

/// A connection string built from real parts, often valid, often not.
fn near_valid() -> impl Strategy<Value = String> {
    let user = prop::option::of((text(), prop::option::of(text())));
    let hosts = prop::collection::vec(host(), 0..4);
    let query = prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..5);
    (scheme(), user, hosts, prop::option::of(query)).prop_map(|(scheme, user, hosts, query)| {
        let mut s = scheme;
        if let Some((name, password)) = user {
            s.push_str(&name);
            if let Some(p) = password {
                s.push(':');
                s.push_str(&p);
            }
            s.push('@');
        }
        s.push_str(&hosts.join(","));
        if let Some(query) = query {
            s.push('?');
            let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&pairs.join("&"));
        }
        s
    })
}

fn round_trips(input: &str) -> Result<(), TestCaseError> {
    if let Ok(settings) = input.parse::<ConnectionSettings>() {
        let canonical = settings.to_connection_string_with_secrets();
        let again: ConnectionSettings = canonical
            .parse()
            .map_err(|e| TestCaseError::fail(format!("{input:?} -> {canonical:?}: {e}")))?;
        prop_assert_eq!(&again, &settings, "{:?} -> {:?}", input, canonical);
        // Display never shows the password.
        if let Some(p) = settings.password().filter(|p| p.len() > 3) {
            prop_assert!(!settings.to_string().contains(p));
        }
    }
    Ok(())
}

proptest! {
    // Fixed case counts, no files written on failure (CI).
    #![proptest_config(ProptestConfig {
        cases: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_string_parses_or_fails_without_panicking(input in any::<String>()) {
        round_trips(&input)?;
    }

    #[test]
    fn near_valid_strings_round_trip_when_accepted(input in near_valid()) {
        round_trips(&input)?;
    }
}
