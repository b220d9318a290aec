//! The server-side `$all` filter: a stream-name or event-type [`Matcher`], as
//! the `Read` options and persistent-subscription settings describe it.
//!
//! # What a filter may cost
//!
//! A filter is the client's to write, and every record of `$all` is matched
//! against it, so its cost is bounded where it is built:
//! - a regular expression compiles to at most [`REGEX_SIZE_LIMIT`] bytes of
//!   program and [`REGEX_DFA_SIZE_LIMIT`] bytes of lazy-DFA cache; the `regex`
//!   crate matches in time linear in the subject, times the size of the
//!   program at worst, so together with the limit on stream names a single
//!   match has a bound;
//! - a filter has at most [`MAX_FILTER_ITEMS`] prefixes, kept sorted and
//!   prefix-free so that a match is one binary search, whatever their number.
//!
//! KurrentDB has neither limit (its filters are .NET regexes, with no timeout,
//! and prefix lists of any length): these are this server's bounds, and a
//! filter over them is refused with `INVALID_ARGUMENT`, the status KurrentDB
//! gives a filter it cannot use. How the scans themselves are kept from
//! starving other clients (in chunks, outside the lock, off the async
//! workers) is in `store/read.rs` and `subscriptions`.

use std::sync::Arc;

use super::secondary::SecondaryIndex;

/// The most bytes a filter regex may compile to (the `regex` crate's default
/// is 10 MiB). Generous for any real filter: the exclude-system-events
/// pattern the clients send compiles to a few KiB.
pub(super) const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// The most bytes of lazy-DFA cache a filter regex may use (per matching
/// thread).
pub(super) const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;
/// The most prefixes a filter may list. (The public docs of [`Matcher`] and
/// [`FilterError`] give these three limits' figures: change them together.)
pub(super) const MAX_FILTER_ITEMS: usize = 10_000;

/// What a `$all` filter looks at: the stream name or the event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterTarget {
    StreamName,
    EventType,
}

/// A server-side `$all` filter.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    /// Records whose `target` the `matcher` accepts pass.
    Match {
        target: FilterTarget,
        matcher: Matcher,
    },
    /// The events of a default secondary index (`store/secondary.rs`),
    /// which a read walks through the index rather than matching `$all`.
    Index(SecondaryIndex),
}

impl Filter {
    /// Whether a record passes the filter. A stream name that is not UTF-8
    /// never passes a matcher.
    pub(crate) fn matches(&self, stream: &[u8], event_type: &str) -> bool {
        let (target, matcher) = match self {
            Filter::Match { target, matcher } => (target, matcher),
            Filter::Index(index) => return index.contains(stream, event_type),
        };
        let subject = match target {
            FilterTarget::StreamName => match std::str::from_utf8(stream) {
                Ok(s) => s,
                Err(_) => return false,
            },
            FilterTarget::EventType => event_type,
        };
        matcher.is_match(subject)
    }
}

/// Why a filter cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// The regex does not parse.
    InvalidRegex(String),
    /// The regex compiles to more than 256 KiB.
    RegexTooBig,
    /// More than 10,000 prefixes.
    TooManyItems {
        /// How many the filter has.
        count: usize,
    },
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterError::InvalidRegex(e) => write!(f, "invalid filter regex: {e}"),
            FilterError::RegexTooBig => write!(
                f,
                "the filter regex compiles to more than {REGEX_SIZE_LIMIT} bytes"
            ),
            FilterError::TooManyItems { count } => write!(
                f,
                "the filter has {count} prefixes; the maximum is {MAX_FILTER_ITEMS}"
            ),
        }
    }
}

impl std::error::Error for FilterError {}

/// A filter's expression.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A regular expression, searched anywhere in the name (like .NET
    /// `Regex.IsMatch`).
    Regex(regex::Regex),
    /// Any of these prefixes.
    Prefixes(PrefixSet),
    /// A whole-pattern negative lookahead, `^(?!(...))`, searched like
    /// [`Matcher::Regex`]: matches when the inner pattern does not match at the
    /// start. Clients send their exclude filters in this form (.NET regexes
    /// have lookaheads, the `regex` crate has none); see [`Matcher::regex`].
    NotRegex(regex::Regex),
}

impl Matcher {
    /// Compiles a filter's regular expression, within 256 KiB of program and
    /// 1 MiB of lazy-DFA cache per matching thread. The `^(?!(...))` form the
    /// clients build for exclude filters (for instance the default
    /// `^(?!(\$.+$|PersistentConfig\d+$|Result$))`) becomes
    /// [`Matcher::NotRegex`] of `^(?:...)`; any other pattern is compiled as is.
    pub fn regex(pattern: &str) -> Result<Matcher, FilterError> {
        if let Some(inner) = pattern
            .strip_prefix("^(?!")
            .and_then(|rest| rest.strip_suffix(')'))
            && closes_nothing(inner)
            && let Ok(re) = compile(&format!("^(?:{inner})"))
        {
            return Ok(Matcher::NotRegex(re));
        }
        compile(pattern).map(Matcher::Regex).map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => FilterError::RegexTooBig,
            other => FilterError::InvalidRegex(other.to_string()),
        })
    }

    /// A prefix filter, refused over 10,000 prefixes.
    pub fn prefixes(prefixes: Vec<String>) -> Result<Matcher, FilterError> {
        if prefixes.len() > MAX_FILTER_ITEMS {
            return Err(FilterError::TooManyItems {
                count: prefixes.len(),
            });
        }
        Ok(Matcher::Prefixes(PrefixSet::new(prefixes)))
    }

    fn is_match(&self, subject: &str) -> bool {
        match self {
            Matcher::Regex(re) => re.is_match(subject),
            Matcher::Prefixes(prefixes) => prefixes.matches(subject),
            Matcher::NotRegex(re) => !re.is_match(subject),
        }
    }
}

fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .build()
}

/// A set of prefixes, matched with one binary search.
///
/// The prefixes are sorted, and any prefix that starts with another one is
/// dropped (the shorter one already matches everything it would). In a sorted
/// prefix-free set, if some prefix `p` starts `s`, then `p` is the greatest
/// prefix `<= s`: a greater `q <= s` would differ from `p` at some position
/// inside `p`, where `s` agrees with `p`, so `q > s`.
#[derive(Debug, Clone)]
pub struct PrefixSet {
    sorted: Arc<[String]>,
}

impl PrefixSet {
    /// The set of `prefixes` (in any order, duplicates allowed).
    pub fn new(mut prefixes: Vec<String>) -> PrefixSet {
        prefixes.sort_unstable();
        let mut kept: Vec<String> = Vec::with_capacity(prefixes.len());
        for p in prefixes {
            // Sorted: a shorter prefix of `p` that is kept is the last kept.
            if kept.last().is_none_or(|k| !p.starts_with(k.as_str())) {
                kept.push(p);
            }
        }
        PrefixSet {
            sorted: kept.into(),
        }
    }

    /// Whether one of the prefixes starts `subject`.
    pub fn matches(&self, subject: &str) -> bool {
        let after = self.sorted.partition_point(|p| p.as_str() <= subject);
        after
            .checked_sub(1)
            .is_some_and(|i| subject.starts_with(self.sorted[i].as_str()))
    }
}

/// Whether a pattern never closes a group it did not open (so that, in
/// `^(?!X)`, the final `)` is the one closing the lookahead). Escapes and
/// character classes are skipped.
fn closes_nothing(pattern: &str) -> bool {
    let mut depth = 0usize;
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_set_matches_like_a_linear_scan() {
        let prefixes: Vec<String> = ["a", "ab", "abc", "b-", "", "zz", "é", "order-1"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let subjects = [
            "", "a", "ab", "ac", "b", "b-1", "c", "zz", "zzz", "z", "é-x", "order-1", "order-2",
        ];
        for n in 0..=prefixes.len() {
            let some = prefixes[..n].to_vec();
            let set = PrefixSet::new(some.clone());
            for s in subjects {
                let expected = some.iter().any(|p| s.starts_with(p.as_str()));
                assert_eq!(set.matches(s), expected, "{some:?} on {s:?}");
            }
        }
    }

    #[test]
    fn filters_over_the_limits_are_refused() {
        let many = vec!["p".to_owned(); MAX_FILTER_ITEMS + 1];
        assert_eq!(
            Matcher::prefixes(many).unwrap_err(),
            FilterError::TooManyItems {
                count: MAX_FILTER_ITEMS + 1
            }
        );
        assert!(Matcher::prefixes(vec!["p".to_owned(); MAX_FILTER_ITEMS]).is_ok());
        // The pathological regex of the issue: too big to compile.
        assert_eq!(
            Matcher::regex(r"[a-zé]{0,8000}\b\d").unwrap_err(),
            FilterError::RegexTooBig
        );
        assert!(matches!(
            Matcher::regex("(unclosed"),
            Err(FilterError::InvalidRegex(_))
        ));
        assert!(Matcher::regex(r"^(?!(\$.+$|PersistentConfig\d+$|Result$))").is_ok());
    }
}
