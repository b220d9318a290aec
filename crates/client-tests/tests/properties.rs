//! Property tests of the connection-string parser: it never panics, on any
//! string or on near-valid ones built from real parts; every string made of
//! valid parts parses; and what it accepts round-trips
//! (`to_connection_string_with_secrets` parses back to equal settings).

use std::sync::atomic::{AtomicU32, Ordering};

use kurrentdbclient::connection::settings::ConnectionSettings;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed, TestRunner};

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

/// Connection strings made of valid parts only: a scheme, maybe a login, one
/// to three hosts with or without a port, and distinct options with values
/// of their kind.
fn valid() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "kurrentdb://",
        "kurrentdb+discover://",
        "esdb://",
        "esdb+discover://",
        "kdb://",
        "kdb+discover://",
    ]);
    let user = prop::option::of(("[a-z][a-z0-9]{0,7}", "[A-Za-z0-9]{1,8}"));
    let host = (
        prop::sample::select(vec!["localhost", "127.0.0.1", "[::1]", "node-1.example"]),
        prop::option::of(1u16..),
    )
        .prop_map(|(h, p)| p.map_or(h.to_owned(), |p| format!("{h}:{p}")));
    let hosts = prop::collection::vec(host, 1..4);
    let boolean = || prop::sample::select(vec!["true", "false"]).prop_map(str::to_owned);
    let millis = || (1u32..100_000).prop_map(|n| n.to_string());
    let option = prop_oneof![
        boolean().prop_map(|v| ("tls", v)),
        boolean().prop_map(|v| ("tlsVerifyCert", v)),
        "[a-z]{1,8}".prop_map(|v| ("connectionName", v)),
        (1u32..100).prop_map(|v| ("maxDiscoverAttempts", v.to_string())),
        millis().prop_map(|v| ("discoveryInterval", v)),
        millis().prop_map(|v| ("gossipTimeout", v)),
        prop::sample::select(vec!["leader", "follower", "random", "readonlyreplica"])
            .prop_map(|v| ("nodePreference", v.to_owned())),
        millis().prop_map(|v| ("defaultDeadline", v)),
        millis().prop_map(|v| ("keepAliveInterval", v)),
        millis().prop_map(|v| ("keepAliveTimeout", v)),
    ];
    let options = prop::collection::vec(option, 0..5).prop_map(|mut options| {
        let mut seen = std::collections::HashSet::new();
        options.retain(|(key, _)| seen.insert(*key));
        options
    });
    (scheme, user, hosts, options).prop_map(|(scheme, user, hosts, options)| {
        let mut s = scheme.to_owned();
        if let Some((name, password)) = user {
            s.push_str(&format!("{name}:{password}@"));
        }
        // A `+discover` string names one cluster endpoint (a DNS name or a
        // seed); the others list the nodes.
        let hosts = if scheme.contains("+discover") {
            &hosts[..1]
        } else {
            &hosts[..]
        };
        s.push_str(&hosts.join(","));
        if !options.is_empty() {
            let pairs: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push('?');
            s.push_str(&pairs.join("&"));
        }
        s
    })
}

/// Whether `input` parsed; when it did, that its canonical form parses back
/// to equal settings and that `Display` hides the password.
fn round_trips(input: &str) -> Result<bool, TestCaseError> {
    let Ok(settings) = input.parse::<ConnectionSettings>() else {
        return Ok(false);
    };
    let canonical = settings.to_connection_string_with_secrets();
    let again: ConnectionSettings = canonical
        .parse()
        .map_err(|e| TestCaseError::fail(format!("{input:?} -> {canonical:?}: {e}")))?;
    prop_assert_eq!(&again, &settings, "{:?} -> {:?}", input, canonical);
    // Display never shows the password.
    if let Some(p) = settings.password().filter(|p| p.len() > 3) {
        prop_assert!(!settings.to_string().contains(p));
    }
    Ok(true)
}

/// Cases per property.
const CASES: u32 = 2048;

/// A fixed case count and a fixed seed, so that a failure in CI is the same
/// failure on any machine (`PROPTEST_RNG_SEED` explores other seeds); a
/// failing case is kept in `tests/proptest-regressions/` (outside the
/// sources) and tried first on the next run.
fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: CASES,
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            default.rng_seed
        } else {
            RngSeed::Fixed(0x6b75_7272_656e_7464)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/properties.txt",
        ))),
        ..default
    }
}

/// Runs the round trip over `inputs`; how many of them parsed.
fn run(inputs: impl Strategy<Value = String>) -> u32 {
    let parsed = AtomicU32::new(0);
    let mut runner = TestRunner::new(config());
    if let Err(e) = runner.run(&inputs, |input| {
        if round_trips(&input)? {
            parsed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }) {
        panic!("{e}");
    }
    parsed.into_inner()
}

#[test]
fn any_string_parses_or_fails_without_panicking() {
    // Arbitrary strings almost never form a connection string: what is
    // checked is that none panics and that none that parses breaks the
    // round trip.
    run(any::<String>());
}

#[test]
fn near_valid_strings_round_trip_when_accepted() {
    // The strategy must reach the round trip: a parser refusing everything
    // would pass the property vacuously.
    // Most near-valid strings are refused (each carries a broken part with
    // some chance); with the fixed seed 42 of 2048 parse.
    let parsed = run(near_valid());
    assert!(
        parsed >= 20,
        "only {parsed} of {CASES} near-valid strings parsed"
    );
}

#[test]
fn valid_strings_parse_and_round_trip() {
    let parsed = run(valid());
    assert_eq!(parsed, CASES, "every valid string parses");
}
