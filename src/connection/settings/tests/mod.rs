use super::*;

mod errors;

fn ok(s: &str) -> ConnectionSettings {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse, got: {e}"))
}

fn err(s: &str) -> ConnectionStringError {
    match s.parse::<ConnectionSettings>() {
        Ok(settings) => panic!("{s:?} should not parse, got {settings:?}"),
        Err(e) => e,
    }
}

fn hosts(s: &ConnectionSettings) -> Vec<String> {
    s.endpoints().iter().map(ToString::to_string).collect()
}

// ---- schemes -------------------------------------------------------

#[test]
fn every_scheme() {
    for (scheme, discover) in [
        ("kurrentdb", false),
        ("kurrentdb+discover", true),
        ("esdb", false),
        ("esdb+discover", true),
        ("kdb", false),
        ("kdb+discover", true),
        ("KurrentDB", false),
        ("KURRENTDB+DISCOVER", true),
        ("ESDB+Discover", true),
        ("Kdb", false),
    ] {
        let s = ok(&format!("{scheme}://localhost:2113"));
        assert_eq!(s.discover(), discover, "{scheme}");
        assert_eq!(hosts(&s), ["localhost:2113"], "{scheme}");
    }
}

#[test]
fn legacy_schemes_equal_the_new_ones() {
    let a = ok("esdb://h:1?connectionName=x");
    let b = ok("kurrentdb://h:1?connectionName=x");
    let c = ok("kdb://h:1?connectionName=x");
    assert_eq!(a, b);
    assert_eq!(b, c);
    let a = ok("esdb+discover://h:1?connectionName=x");
    let b = ok("kurrentdb+discover://h:1?connectionName=x");
    assert_eq!(a, b);
    assert!(a.to_string().starts_with("kurrentdb+discover://h:1?"));
}

// ---- endpoints -----------------------------------------------------

#[test]
fn single_endpoint() {
    let s = ok("kurrentdb://node1.example.com:2114");
    assert_eq!(s.endpoints(), [Endpoint::new("node1.example.com", 2114)]);
}

#[test]
fn many_endpoints() {
    let s = ok("kurrentdb://a.example.com:2113,b.example.com:2114,c.example.com,10.0.0.4:1");
    assert_eq!(
        hosts(&s),
        [
            "a.example.com:2113",
            "b.example.com:2114",
            "c.example.com:2113",
            "10.0.0.4:1"
        ]
    );
    assert!(!s.discover());
}

#[test]
fn whitespace_around_endpoints_and_string_is_ignored() {
    let s = ok("  kurrentdb://a:1 , b:2 ?tls=false\n");
    assert_eq!(hosts(&s), ["a:1", "b:2"]);
    assert!(!s.tls());
}

#[test]
fn default_port() {
    let s = ok("kurrentdb://localhost");
    assert_eq!(s.endpoints()[0].port, Endpoint::DEFAULT_PORT);
    assert_eq!(s.endpoints()[0].port, 2113);
    let s = ok("kurrentdb+discover://cluster.example.com?tls=false");
    assert_eq!(hosts(&s), ["cluster.example.com:2113"]);
    let s = ok("kurrentdb://[::1]");
    assert_eq!(hosts(&s), ["[::1]:2113"]);
}

#[test]
fn ipv6_endpoints() {
    let s = ok("kurrentdb://[::1]:2113,[fe80::1:2]:2114,127.0.0.1:2115");
    assert_eq!(s.endpoints()[0], Endpoint::new("::1", 2113));
    assert_eq!(s.endpoints()[1].host, "fe80::1:2");
    assert_eq!(
        hosts(&s),
        ["[::1]:2113", "[fe80::1:2]:2114", "127.0.0.1:2115"]
    );
}

#[test]
fn trailing_slash_is_allowed() {
    let s = ok("kurrentdb://localhost:2113/?tls=false");
    assert!(!s.tls());
    let s = ok("kurrentdb://localhost:2113/");
    assert!(s.tls());
    let s = ok("kurrentdb://localhost:2113?");
    assert!(s.tls());
}

#[test]
fn port_with_leading_zeros_and_extremes() {
    assert_eq!(ok("kurrentdb://h:02113").endpoints()[0].port, 2113);
    assert_eq!(ok("kurrentdb://h:1").endpoints()[0].port, 1);
    assert_eq!(ok("kurrentdb://h:65535").endpoints()[0].port, 65535);
}

#[test]
fn host_name_forms() {
    for h in [
        "localhost",
        "a-b.c_d.example",
        "example.com.",
        "1.2.3.4",
        "x1",
    ] {
        assert_eq!(ok(&format!("kurrentdb://{h}")).endpoints()[0].host, h);
    }
}

// ---- user info -----------------------------------------------------

#[test]
fn user_info() {
    let s = ok("kurrentdb://admin:changeit@localhost:2113");
    assert_eq!(s.username(), Some("admin"));
    assert_eq!(s.password(), Some("changeit"));
    let s = ok("kurrentdb://localhost:2113");
    assert_eq!(s.username(), None);
    assert_eq!(s.password(), None);
}

#[test]
fn user_info_percent_decoded() {
    let s = ok("kurrentdb://us%40er%3Aname:p%40ss%3Aw%2Fo%3Frd%23%25+x@localhost");
    assert_eq!(s.username(), Some("us@er:name"));
    assert_eq!(
        s.password(),
        Some("p@ss:w/o?rd#% x".replace(' ', "+").as_str())
    );
    let s = ok("kurrentdb://%C3%A9mile:%E2%82%AC@localhost");
    assert_eq!(s.username(), Some("émile"));
    assert_eq!(s.password(), Some("€"));
}

#[test]
fn password_may_contain_raw_colon_and_at() {
    let s = ok("kurrentdb://admin:a:b@c@localhost");
    assert_eq!(s.username(), Some("admin"));
    assert_eq!(s.password(), Some("a:b@c"));
    assert_eq!(hosts(&s), ["localhost:2113"]);
}

#[test]
fn with_credentials() {
    let s = ok("kurrentdb://localhost?connectionName=c");
    let s2 = s.clone().with_credentials("u", "p").unwrap();
    assert_eq!(s2.username(), Some("u"));
    assert_eq!(s2.password(), Some("p"));
    assert_eq!(s2.without_credentials(), s);
    let e = s.clone().with_credentials("", "p").unwrap_err();
    assert_eq!(
        e,
        ConnectionStringError::InvalidUserInfo {
            reason: UserInfoIssue::EmptyUsername
        }
    );
    let e = s.with_credentials("u", "").unwrap_err();
    assert!(matches!(
        e,
        ConnectionStringError::InvalidUserInfo {
            reason: UserInfoIssue::EmptyPassword
        }
    ));
}

// ---- options -------------------------------------------------------

#[test]
fn option_defaults() {
    let s = ok("kurrentdb://localhost");
    assert!(s.tls());
    assert!(s.tls_verify_cert());
    assert_eq!(s.max_discover_attempts(), 10);
    assert_eq!(s.discovery_interval(), Duration::from_millis(100));
    assert_eq!(s.gossip_timeout(), Duration::from_secs(5));
    assert_eq!(s.node_preference(), NodePreference::Leader);
    assert_eq!(s.tls_ca_file(), None);
    assert_eq!(s.default_deadline(), None);
    assert_eq!(s.keep_alive_interval(), None);
    assert_eq!(s.keep_alive_timeout(), None);
    assert_eq!(s.user_cert_file(), None);
    assert_eq!(s.user_key_file(), None);
    assert!(!s.discover());
}

#[test]
fn default_connection_name_is_a_fresh_v4_uuid() {
    let a = ok("kurrentdb://localhost");
    let b = ok("kurrentdb://localhost");
    let uuid = uuid::Uuid::parse_str(a.connection_name()).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    assert_eq!(a.connection_name(), uuid.to_string());
    assert_ne!(a.connection_name(), b.connection_name());
    assert_ne!(a, b);
}

#[test]
fn every_option_set() {
    let s = ok("kurrentdb://localhost?tls=false&connectionName=my-app\
         &maxDiscoverAttempts=3&discoveryInterval=250&gossipTimeout=7\
         &nodePreference=follower&tlsVerifyCert=false&tlsCaFile=/etc/ca.pem\
         &defaultDeadline=30&keepAliveInterval=10000&keepAliveTimeout=2000\
         &userCertFile=/c/user.crt&userKeyFile=/c/user.key");
    assert!(!s.tls());
    assert_eq!(s.connection_name(), "my-app");
    assert_eq!(s.max_discover_attempts(), 3);
    assert_eq!(s.discovery_interval(), Duration::from_millis(250));
    assert_eq!(s.gossip_timeout(), Duration::from_secs(7));
    assert_eq!(s.node_preference(), NodePreference::Follower);
    assert!(!s.tls_verify_cert());
    assert_eq!(s.tls_ca_file(), Some(Path::new("/etc/ca.pem")));
    assert_eq!(s.default_deadline(), Some(Duration::from_secs(30)));
    assert_eq!(s.keep_alive_interval(), Some(Duration::from_millis(10_000)));
    assert_eq!(s.keep_alive_timeout(), Some(Duration::from_millis(2_000)));
    assert_eq!(s.user_cert_file(), Some(Path::new("/c/user.crt")));
    assert_eq!(s.user_key_file(), Some(Path::new("/c/user.key")));
}

#[test]
fn each_option_alone_with_explicit_default_values() {
    let base = ok("kurrentdb://h?connectionName=n");
    for q in [
        "tls=true",
        "maxDiscoverAttempts=10",
        "discoveryInterval=100",
        "gossipTimeout=5",
        "nodePreference=leader",
        "tlsVerifyCert=true",
    ] {
        assert_eq!(
            ok(&format!("kurrentdb://h?connectionName=n&{q}")),
            base,
            "{q}"
        );
    }
    assert!(ok("kurrentdb://h?tls=true").tls());
    assert_eq!(
        ok("kurrentdb://h?discoveryInterval=0").discovery_interval(),
        Duration::ZERO
    );
    assert_eq!(
        ok("kurrentdb://h?maxDiscoverAttempts=4294967295").max_discover_attempts(),
        u32::MAX
    );
}

#[test]
fn node_preferences() {
    for (v, p) in [
        ("leader", NodePreference::Leader),
        ("Leader", NodePreference::Leader),
        ("follower", NodePreference::Follower),
        ("FOLLOWER", NodePreference::Follower),
        ("random", NodePreference::Random),
        ("readonlyreplica", NodePreference::ReadOnlyReplica),
        ("readOnlyReplica", NodePreference::ReadOnlyReplica),
        ("ReadOnlyReplica", NodePreference::ReadOnlyReplica),
    ] {
        let s = ok(&format!("kurrentdb://h?nodePreference={v}"));
        assert_eq!(s.node_preference(), p, "{v}");
    }
    assert_eq!(NodePreference::default(), NodePreference::Leader);
    assert_eq!(
        NodePreference::ReadOnlyReplica.to_string(),
        "readOnlyReplica"
    );
    assert_eq!(
        "RANDOM".parse::<NodePreference>(),
        Ok(NodePreference::Random)
    );
}

#[test]
fn option_names_and_values_are_case_insensitive() {
    for q in [
        "tls=FALSE",
        "TLS=false",
        "Tls=False",
        "tLs=fAlSe",
        "TLSVERIFYCERT=FALSE&tls=false",
    ] {
        assert!(!ok(&format!("kurrentdb://h?{q}")).tls(), "{q}");
    }
    let s = ok(
        "kurrentdb://h?NODEPREFERENCE=ReadOnlyReplica&maxdiscoverattempts=2\
         &GOSSIPTIMEOUT=3&DiscoveryInterval=4&defaultdeadline=5&KEEPALIVEINTERVAL=6\
         &keepalivetimeout=7&CONNECTIONNAME=Name&TLSCAFILE=ca&USERCERTFILE=c&userkeyfile=k",
    );
    assert_eq!(s.node_preference(), NodePreference::ReadOnlyReplica);
    assert_eq!(s.max_discover_attempts(), 2);
    assert_eq!(s.gossip_timeout(), Duration::from_secs(3));
    assert_eq!(s.discovery_interval(), Duration::from_millis(4));
    assert_eq!(s.default_deadline(), Some(Duration::from_secs(5)));
    assert_eq!(s.keep_alive_interval(), Some(Duration::from_millis(6)));
    assert_eq!(s.keep_alive_timeout(), Some(Duration::from_millis(7)));
    // Free-form values keep their case.
    assert_eq!(s.connection_name(), "Name");
    assert_eq!(s.tls_ca_file(), Some(Path::new("ca")));
}

#[test]
fn option_values_are_percent_and_form_decoded() {
    let s = ok(
        "kurrentdb://h?connectionName=my+app%2Fv%C3%A9&tlsCaFile=C%3A%5Ccerts%5Cca.pem\
         &t%6Cs=false",
    );
    assert_eq!(s.connection_name(), "my app/vé");
    assert_eq!(s.tls_ca_file(), Some(Path::new("C:\\certs\\ca.pem")));
    assert!(!s.tls());
    // '=' in a value is kept; '@' in the query is fine.
    let s = ok("kurrentdb://h?connectionName=a=b@c");
    assert_eq!(s.connection_name(), "a=b@c");
}

// ---- errors --------------------------------------------------------

#[test]
fn canonical_display() {
    let s = ok("ESDB://[::1],b?TLS=FALSE&connectionName=my+app&nodePreference=READONLYREPLICA");
    assert_eq!(
        s.to_string(),
        "kurrentdb://[::1]:2113,b:2113?tls=false&connectionName=my%20app\
         &maxDiscoverAttempts=10&discoveryInterval=100&gossipTimeout=5\
         &nodePreference=readOnlyReplica&tlsVerifyCert=true"
    );
    let s = ok(
        "kdb+discover://u%3A:p@c?connectionName=x&tlsCaFile=/a b/ca.pem\
         &defaultDeadline=9&keepAliveInterval=8&keepAliveTimeout=7\
         &userCertFile=C:\\u.crt&userKeyFile=u.key",
    );
    assert_eq!(
        s.to_string(),
        "kurrentdb+discover://u%3A:***@c:2113?tls=true&connectionName=x\
         &maxDiscoverAttempts=10&discoveryInterval=100&gossipTimeout=5\
         &nodePreference=leader&tlsVerifyCert=true&tlsCaFile=/a%20b/ca.pem\
         &defaultDeadline=9&keepAliveInterval=8&keepAliveTimeout=7\
         &userCertFile=C:%5Cu.crt&userKeyFile=u.key"
    );
    assert_eq!(
        s.to_connection_string_with_secrets(),
        s.to_string().replace("***", "p")
    );
}

#[test]
fn round_trips() {
    let without_password = [
        "kurrentdb://localhost",
        "esdb://localhost:2113?tls=false",
        "KDB+DISCOVER://cluster.example.com?nodePreference=random&gossipTimeout=30",
        "kurrentdb://[::1]:2113,[fe80::1]:1,10.0.0.1:3,host?maxDiscoverAttempts=1",
        "kurrentdb://h?connectionName=we%20ird+%26name%3D%2B%23%25%C3%A9",
        "kurrentdb://h?tlsCaFile=C%3A%5CProgram Files%5Cca.pem&tlsVerifyCert=FALSE",
        "kurrentdb://h?defaultDeadline=1&keepAliveInterval=1&keepAliveTimeout=99999",
        "kurrentdb://h?userCertFile=/a/b c.crt&userKeyFile=/a/b+c.key&discoveryInterval=0",
    ];
    for input in without_password {
        let s = ok(input);
        let shown = s.to_string();
        assert_eq!(ok(&shown), s, "{input:?} -> {shown:?}");
        assert_eq!(s.to_connection_string_with_secrets(), shown);
    }

    let with_password = [
        "kurrentdb://admin:changeit@localhost:2113",
        "esdb+discover://u:pw9x@cluster?tls=false&nodePreference=follower",
        "kurrentdb://us%40er:p%40ss%3Aw%2Fo%3Frd%23%25%20+%E2%82%AC@a,b,[::1]?defaultDeadline=5",
        "kurrentdb://admin:a:b@c@h?connectionName=x&userCertFile=c&userKeyFile=k",
        "kurrentdb://u:***@h",
    ];
    for input in with_password {
        let s = ok(input);
        let full = s.to_connection_string_with_secrets();
        assert_eq!(ok(&full), s, "{input:?} -> {full:?}");
        let masked = s.to_string();
        let pw = s.password().unwrap();
        if pw != "***" {
            assert!(!masked.contains(pw), "{masked}");
            assert_ne!(ok(&masked), s);
        }
        assert_eq!(ok(&masked).password(), Some("***"));
    }

    // Programmatic credentials round-trip too.
    let s = ok("kurrentdb://h")
        .with_credentials("ü s:er", "p@ss/w?rd#")
        .unwrap();
    assert_eq!(ok(&s.to_connection_string_with_secrets()), s);
}

#[test]
fn endpoint_display() {
    assert_eq!(
        Endpoint::new("localhost", 2113).to_string(),
        "localhost:2113"
    );
    assert_eq!(Endpoint::new("::1", 1).to_string(), "[::1]:1");
    // A host given already bracketed is not bracketed twice.
    assert_eq!(Endpoint::new("[::1]", 1).to_string(), "[::1]:1");
    assert_eq!(Endpoint::new("10.0.0.1", 80).to_string(), "10.0.0.1:80");
}
