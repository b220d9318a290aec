//! The embedded server must accept the filter regexes real clients send. Their
//! exclude filters are negative lookaheads (`^(?!(a$|b$))`), which .NET (the
//! real server) supports and the `regex` crate does not; the server turns that
//! form into a negated match. Before that, a plain `read_all()` from our client
//! or the Python client failed with "Exception was thrown by handler."

use kurrentdb_embedded::store::Matcher;

fn is_match(matcher: &Matcher, subject: &str) -> bool {
    match matcher {
        Matcher::Regex(re) => re.is_match(subject),
        Matcher::NotRegex(re) => !re.is_match(subject),
        Matcher::Prefixes(prefixes) => prefixes.matches(subject),
    }
}

#[test]
fn the_clients_default_exclude_filter_compiles_and_excludes() {
    // What our client and the Python client send by default.
    let pattern = kurrentdbclient::streams::construct_filter_exclude_regex(
        &kurrentdbclient::DEFAULT_EXCLUDE_FILTER
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>(),
    );
    assert_eq!(pattern, r"^(?!(\$.+$|PersistentConfig\d+$|Result$))");
    let matcher = Matcher::regex(&pattern).expect("compiles");
    assert!(!is_match(&matcher, "$metadata"));
    assert!(!is_match(&matcher, "PersistentConfig1"));
    assert!(!is_match(&matcher, "Result"));
    assert!(is_match(&matcher, "OrderPlaced"));
    assert!(is_match(&matcher, "Results"));
    assert!(is_match(&matcher, "PersistentConfigX"));
}

#[test]
fn other_patterns_are_plain_regexes() {
    let matcher = Matcher::regex("^order-").expect("compiles");
    assert!(matches!(matcher, Matcher::Regex(_)));
    assert!(is_match(&matcher, "order-1"));
    assert!(!is_match(&matcher, "customer-1"));
    // A lookahead that does not span the whole pattern is not rewritten.
    assert!(Matcher::regex("^(?!a)(b)").is_err());
}
