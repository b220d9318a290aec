//! Malformed connection strings: each gives its specific, named error, and no
//! error or `Debug` output ever contains the password.

use super::*;

#[test]
fn malformed_strings_give_specific_errors() {
    use ConnectionStringError as E;
    use UserInfoIssue as U;
    type Check = fn(&E) -> bool;
    let cases: Vec<(&str, Check)> = vec![
        ("", |e| matches!(e, E::Empty)),
        ("   \t", |e| matches!(e, E::Empty)),
        ("localhost:2113", |e| matches!(e, E::MissingScheme)),
        ("kurrentdb:localhost", |e| matches!(e, E::MissingScheme)),
        ("kurrentdb:/localhost", |e| matches!(e, E::MissingScheme)),
        ("://localhost", |e| matches!(e, E::MissingScheme)),
        (
            "http://localhost",
            |e| matches!(e, E::UnknownScheme { scheme } if scheme == "http"),
        ),
        (
            "esdb+gossip://localhost",
            |e| matches!(e, E::UnknownScheme { scheme } if scheme == "esdb+gossip"),
        ),
        ("kurrentdb://", |e| matches!(e, E::NoEndpoint)),
        ("kurrentdb://?tls=false", |e| matches!(e, E::NoEndpoint)),
        ("kurrentdb://admin:changeit@", |e| {
            matches!(e, E::NoEndpoint)
        }),
        ("kurrentdb:// /", |e| matches!(e, E::NoEndpoint)),
        ("kurrentdb+discover://a:2113,b:2113", |e| {
            matches!(e, E::DiscoverWithManyEndpoints { count: 2 })
        }),
        ("esdb+discover://a,b,c", |e| {
            matches!(e, E::DiscoverWithManyEndpoints { count: 3 })
        }),
        (
            "kurrentdb://a,,b",
            |e| matches!(e, E::InvalidHost { host, position: 14, .. } if host.is_empty()),
        ),
        ("kurrentdb://a,", |e| matches!(e, E::InvalidHost { .. })),
        (
            "kurrentdb://:2113",
            |e| matches!(e, E::InvalidHost { host, position: 12, .. } if host.is_empty()),
        ),
        (
            "kurrentdb://bad host:2113",
            |e| matches!(e, E::InvalidHost { host, .. } if host == "bad host"),
        ),
        ("kurrentdb://ho$t", |e| matches!(e, E::InvalidHost { .. })),
        ("kurrentdb://a..b", |e| matches!(e, E::InvalidHost { .. })),
        ("kurrentdb://-a.b", |e| matches!(e, E::InvalidHost { .. })),
        ("kurrentdb://256.1.1.1", |e| {
            matches!(e, E::InvalidHost { .. })
        }),
        ("kurrentdb://::1", |e| matches!(e, E::InvalidHost { .. })),
        ("kurrentdb://fe80::1:2113", |e| {
            matches!(e, E::InvalidHost { .. })
        }),
        ("kurrentdb://h:2113:2113", |e| {
            matches!(e, E::InvalidHost { .. })
        }),
        ("kurrentdb://[::1", |e| matches!(e, E::InvalidHost { .. })),
        (
            "kurrentdb://[nope]:2113",
            |e| matches!(e, E::InvalidHost { host, .. } if host == "nope"),
        ),
        ("kurrentdb://[::1]2113", |e| {
            matches!(e, E::InvalidHost { .. })
        }),
        ("kurrentdb://h%41st", |e| matches!(e, E::InvalidHost { .. })),
        ("kurrentdb://localhost:abc", |e| {
            matches!(e, E::InvalidPort { endpoint, port, position: 12 }
                if endpoint == "localhost:abc" && port == "abc")
        }),
        (
            "kurrentdb://localhost:0",
            |e| matches!(e, E::InvalidPort { port, .. } if port == "0"),
        ),
        (
            "kurrentdb://localhost:65536",
            |e| matches!(e, E::InvalidPort { port, .. } if port == "65536"),
        ),
        ("kurrentdb://localhost:99999999999", |e| {
            matches!(e, E::InvalidPort { .. })
        }),
        (
            "kurrentdb://localhost:",
            |e| matches!(e, E::InvalidPort { port, .. } if port.is_empty()),
        ),
        ("kurrentdb://localhost:-1", |e| {
            matches!(e, E::InvalidPort { .. })
        }),
        ("kurrentdb://localhost:+2113", |e| {
            matches!(e, E::InvalidPort { .. })
        }),
        (
            "kurrentdb://a:1,b:x",
            |e| matches!(e, E::InvalidPort { endpoint, position: 16, .. } if endpoint == "b:x"),
        ),
        ("kurrentdb://[::1]:0", |e| {
            matches!(e, E::InvalidPort { .. })
        }),
        ("kurrentdb://admin@localhost", |e| {
            matches!(
                e,
                E::InvalidUserInfo {
                    reason: U::MissingPassword
                }
            )
        }),
        ("kurrentdb://admin:@localhost", |e| {
            matches!(
                e,
                E::InvalidUserInfo {
                    reason: U::EmptyPassword
                }
            )
        }),
        ("kurrentdb://:secret@localhost", |e| {
            matches!(
                e,
                E::InvalidUserInfo {
                    reason: U::EmptyUsername
                }
            )
        }),
        ("kurrentdb://@localhost", |e| {
            matches!(e, E::InvalidUserInfo { reason: U::Empty })
        }),
        ("kurrentdb://admin:pa/ss@localhost", |e| {
            matches!(
                e,
                E::InvalidUserInfo {
                    reason: U::UnencodedDelimiter
                }
            )
        }),
        ("kurrentdb://admin:pa?ss@localhost", |e| {
            matches!(
                e,
                E::InvalidUserInfo {
                    reason: U::UnencodedDelimiter
                }
            )
        }),
        ("kurrentdb://admin:pa#ss@localhost", |e| {
            matches!(
                e,
                E::InvalidUserInfo {
                    reason: U::UnencodedDelimiter
                }
            )
        }),
        ("kurrentdb://admin:p%zzss@localhost", |e| {
            matches!(
                e,
                E::InvalidPercentEncoding {
                    component: "password",
                    position: 19
                }
            )
        }),
        ("kurrentdb://ad%4min:pass@localhost", |e| {
            matches!(
                e,
                E::InvalidPercentEncoding {
                    component: "username",
                    position: 14
                }
            )
        }),
        ("kurrentdb://admin:pass%@localhost", |e| {
            matches!(
                e,
                E::InvalidPercentEncoding {
                    component: "password",
                    ..
                }
            )
        }),
        ("kurrentdb://admin:%FF%FE@localhost", |e| {
            matches!(
                e,
                E::InvalidPercentEncoding {
                    component: "password",
                    ..
                }
            )
        }),
        ("kurrentdb://h?connectionName=%G1", |e| {
            matches!(
                e,
                E::InvalidPercentEncoding {
                    component: "option value",
                    position: 29
                }
            )
        }),
        ("kurrentdb://h?t%zls=true", |e| {
            matches!(
                e,
                E::InvalidPercentEncoding {
                    component: "option name",
                    ..
                }
            )
        }),
        (
            "kurrentdb://localhost/streams",
            |e| matches!(e, E::UnexpectedPath { path, position: 21 } if path == "/streams"),
        ),
        (
            "kurrentdb://localhost#frag",
            |e| matches!(e, E::UnexpectedPath { path, .. } if path == "#frag"),
        ),
        ("kurrentdb://localhost//?tls=false", |e| {
            matches!(e, E::UnexpectedPath { .. })
        }),
        (
            "kurrentdb://h?tls",
            |e| matches!(e, E::MalformedQuery { text, position: 14, .. } if text == "tls"),
        ),
        (
            "kurrentdb://h?tls=false&",
            |e| matches!(e, E::MalformedQuery { text, position: 24, .. } if text.is_empty()),
        ),
        ("kurrentdb://h?&tls=false", |e| {
            matches!(e, E::MalformedQuery { .. })
        }),
        ("kurrentdb://h?tls=false&&gossipTimeout=1", |e| {
            matches!(e, E::MalformedQuery { .. })
        }),
        ("kurrentdb://h?=false", |e| {
            matches!(e, E::MalformedQuery { .. })
        }),
        ("kurrentdb://h?connectionName=a#b", |e| {
            matches!(e, E::MalformedQuery { .. })
        }),
        (
            "kurrentdb://h?foo=bar",
            |e| matches!(e, E::UnknownOption { name } if name == "foo"),
        ),
        (
            "kurrentdb://h?tls=false&TlsVerifyCerts=false",
            |e| matches!(e, E::UnknownOption { name } if name == "TlsVerifyCerts"),
        ),
        (
            "kurrentdb://h?tls=true&TLS=false",
            |e| matches!(e, E::DuplicateOption { name } if name == "tls"),
        ),
        (
            "kurrentdb://h?gossipTimeout=1&gossipTimeout=1",
            |e| matches!(e, E::DuplicateOption { name } if name == "gossipTimeout"),
        ),
        ("kurrentdb://h?tls=maybe", |e| {
            matches!(e, E::InvalidOptionValue { name, value, .. }
                if name == "tls" && value == "maybe")
        }),
        ("kurrentdb://h?tls=", |e| {
            matches!(e, E::InvalidOptionValue { name, value, .. }
                if name == "tls" && value.is_empty())
        }),
        ("kurrentdb://h?tls=1", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        (
            "kurrentdb://h?tlsVerifyCert=yes",
            |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "tlsVerifyCert"),
        ),
        ("kurrentdb://h?maxDiscoverAttempts=-1", |e| {
            matches!(e, E::InvalidOptionValue { name, value, .. }
                if name == "maxDiscoverAttempts" && value == "-1")
        }),
        ("kurrentdb://h?maxDiscoverAttempts=0", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        ("kurrentdb://h?maxDiscoverAttempts=4294967296", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        ("kurrentdb://h?maxDiscoverAttempts=1.5", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        (
            "kurrentdb://h?discoveryInterval=fast",
            |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "discoveryInterval"),
        ),
        (
            "kurrentdb://h?gossipTimeout=0",
            |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "gossipTimeout"),
        ),
        ("kurrentdb://h?gossipTimeout=+5", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        ("kurrentdb://h?defaultDeadline=abc", |e| {
            matches!(e, E::InvalidOptionValue { name, value, .. }
                if name == "defaultDeadline" && value == "abc")
        }),
        ("kurrentdb://h?defaultDeadline=0", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        (
            "kurrentdb://h?keepAliveInterval=-1",
            |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "keepAliveInterval"),
        ),
        (
            "kurrentdb://h?keepAliveTimeout=1s",
            |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "keepAliveTimeout"),
        ),
        ("kurrentdb://h?nodePreference=primary", |e| {
            matches!(e, E::InvalidOptionValue { name, value, .. }
                if name == "nodePreference" && value == "primary")
        }),
        ("kurrentdb://h?nodePreference=read_only_replica", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        (
            "kurrentdb://h?connectionName=",
            |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "connectionName"),
        ),
        ("kurrentdb://h?tlsCaFile=", |e| {
            matches!(e, E::InvalidOptionValue { .. })
        }),
        ("kurrentdb://h?userCertFile=/c.crt", |e| {
            matches!(e, E::UserCertWithoutKey)
        }),
        ("kurrentdb://h?userKeyFile=/c.key", |e| {
            matches!(e, E::UserKeyWithoutCert)
        }),
    ];
    assert!(cases.len() >= 30);
    for (input, check) in cases {
        let e = err(input);
        assert!(check(&e), "{input:?} gave the wrong error: {e:?} ({e})");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn errors_and_debug_never_contain_the_password() {
    const PW: &str = "s3cr3tPW";
    let bad = [
        "kurrentdb://admin:s3cr3tPW@",
        "kurrentdb://admin:s3cr3tPW@host:abc",
        "kurrentdb://admin:s3cr3tPW@ho$t",
        "kurrentdb://admin:s3cr3tPW@a,,b",
        "kurrentdb+discover://admin:s3cr3tPW@a,b",
        "kurrentdb://admin:s3cr3tPW@host/path",
        "kurrentdb://admin:s3cr3tPW@host?foo=bar",
        "kurrentdb://admin:s3cr3tPW@host?tls=maybe",
        "kurrentdb://admin:s3cr3tPW@host?tls",
        "kurrentdb://admin:s3cr3tPW@host?userCertFile=x",
        "kurrentdb://admin:s3cr3tPW%zz@host",
        "kurrentdb://admin:s3cr3tPW%FF@host",
        "kurrentdb://:s3cr3tPW@host",
        "kurrentdb://admin:s3c/r3tPW@host",
        "kurrentdb://admin:s3c?r3tPW@host?tls=false",
        "kurrentdb://admin:s3c#r3tPW@host",
        "kurrentdb://admin:1234/s3cr3tPW@host",
        "kurrentdb://admin:1234?s3cr3tPW@host",
        "kurrentdb://admin:1234#s3cr3tPW@host",
        "admin:s3cr3tPW@localhost:2113",
        "admin:s3cr3tPW@kurrentdb://localhost",
        "http://admin:s3cr3tPW@localhost",
    ];
    for input in bad {
        let e = err(input);
        for shown in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
            assert!(!shown.contains(PW), "{input:?} leaks the password: {shown}");
            assert!(
                !shown.contains("r3tPW"),
                "{input:?} leaks part of it: {shown}"
            );
        }
    }
    let s = ok("kurrentdb://admin:s3cr3tPW@host?tls=true");
    for shown in [s.to_string(), format!("{s:?}"), format!("{s:#?}")] {
        assert!(!shown.contains(PW), "leaks the password: {shown}");
    }
    assert!(format!("{s:?}").contains(r#"password: Some("***")"#));
    assert!(
        s.to_string()
            .starts_with("kurrentdb://admin:***@host:2113?")
    );
    assert!(s.to_connection_string_with_secrets().contains(PW));
}

// ---- display and round trips -------------------------------------
