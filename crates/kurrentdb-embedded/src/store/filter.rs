//! The server-side `$all` filter: a stream-name or event-type [`Matcher`], as
//! the `Read` options and persistent-subscription settings describe it.

/// What a `$all` filter looks at: the stream name or the event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterTarget {
    StreamName,
    EventType,
}

/// A server-side `$all` filter: records whose `target` the `matcher` accepts
/// pass.
#[derive(Debug, Clone)]
pub struct Filter {
    pub target: FilterTarget,
    pub matcher: Matcher,
}

impl Filter {
    /// Whether a record passes the filter. A stream name that is not UTF-8
    /// never does.
    pub fn matches(&self, stream: &[u8], event_type: &str) -> bool {
        let subject = match self.target {
            FilterTarget::StreamName => match std::str::from_utf8(stream) {
                Ok(s) => s,
                Err(_) => return false,
            },
            FilterTarget::EventType => event_type,
        };
        self.matcher.is_match(subject)
    }
}

/// A filter's expression.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A regular expression, searched anywhere in the name (like .NET
    /// `Regex.IsMatch`).
    Regex(regex::Regex),
    /// Any of these prefixes.
    Prefixes(Vec<String>),
    /// A whole-pattern negative lookahead, `^(?!(...))`, searched like
    /// [`Matcher::Regex`]: matches when the inner pattern does not match at the
    /// start. Clients send their exclude filters in this form (.NET regexes
    /// have lookaheads, the `regex` crate has none); see [`Matcher::regex`].
    NotRegex(regex::Regex),
}

impl Matcher {
    /// Compiles a filter's regular expression. The `^(?!(...))` form the
    /// clients build for exclude filters (for instance the default
    /// `^(?!(\$.+$|PersistentConfig\d+$|Result$))`) becomes
    /// [`Matcher::NotRegex`] of `^(?:...)`; any other pattern is compiled as is.
    pub fn regex(pattern: &str) -> Result<Matcher, regex::Error> {
        if let Some(inner) = pattern
            .strip_prefix("^(?!")
            .and_then(|rest| rest.strip_suffix(')'))
            && closes_nothing(inner)
            && let Ok(re) = regex::Regex::new(&format!("^(?:{inner})"))
        {
            return Ok(Matcher::NotRegex(re));
        }
        regex::Regex::new(pattern).map(Matcher::Regex)
    }

    fn is_match(&self, subject: &str) -> bool {
        match self {
            Matcher::Regex(re) => re.is_match(subject),
            Matcher::Prefixes(prefixes) => prefixes.iter().any(|p| subject.starts_with(p.as_str())),
            Matcher::NotRegex(re) => !re.is_match(subject),
        }
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
