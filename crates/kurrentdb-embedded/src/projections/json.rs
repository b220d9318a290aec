//! Whether an event's data is JSON a projection accepts.
//!
//! KurrentDB passes a projection only the JSON events whose data is valid
//! JSON (`EventFilter.PassesValidation`), as `Json.IsValidUtf8Json` decides:
//! a `Utf8JsonReader` with trailing commas allowed, comments skipped and a
//! maximum depth of 64, reading one value; empty data is not valid. This is
//! that check, written out: it runs once for every event the projections
//! read, where a full parse (serde_json's, into nothing) took about a tenth
//! of the standard projections' time; and it accepts what KurrentDB accepts
//! (a trailing comma, a comment), which serde_json does not.
//!
//! The bytes of strings and comments are not checked to be UTF-8: serde_json's
//! reader, which this replaces, let them through, and KurrentDB's reader
//! (`Utf8JsonReader`) checks a string's UTF-8 only when its text is taken,
//! which `IsValidUtf8Json` never does. Any other byte above ASCII is no token,
//! so it is refused.

/// The deepest nesting KurrentDB's reader accepts (`JsonReaderOptions.MaxDepth`).
const MAX_DEPTH: u32 = 64;

/// Whether `data` is one JSON value (see the module's documentation).
pub(crate) fn valid_json(data: &[u8]) -> bool {
    Reader { s: data, i: 0 }.document()
}

/// The bytes a string holds as they are: all but control characters, the
/// quote and the backslash.
static PLAIN: [bool; 256] = {
    let mut plain = [true; 256];
    let mut b = 0;
    while b < 0x20 {
        plain[b] = false;
        b += 1;
    }
    plain[b'"' as usize] = false;
    plain[b'\\' as usize] = false;
    plain
};

/// A cursor over the data; every method returns whether what it read was
/// valid.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// One value, then nothing but blanks. The containers open are kept as
    /// bits (set: an object), their depth bounded by [`MAX_DEPTH`].
    fn document(&mut self) -> bool {
        let mut objects: u64 = 0;
        let mut depth: u32 = 0;
        'value: loop {
            // A value is expected.
            if !self.blank() {
                return false;
            }
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    self.i += 1;
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return false;
                    }
                    let bit = 1u64 << (depth - 1);
                    let close = if open == b'{' {
                        objects |= bit;
                        b'}'
                    } else {
                        objects &= !bit;
                        b']'
                    };
                    if !self.blank() {
                        return false;
                    }
                    if self.peek() == Some(close) {
                        self.i += 1;
                        depth -= 1;
                    } else if open == b'{' {
                        if !self.key() {
                            return false;
                        }
                        continue 'value;
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    if !self.string() {
                        return false;
                    }
                }
                Some(b't') => {
                    if !self.literal(b"true") {
                        return false;
                    }
                }
                Some(b'f') => {
                    if !self.literal(b"false") {
                        return false;
                    }
                }
                Some(b'n') => {
                    if !self.literal(b"null") {
                        return false;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    if !self.number() {
                        return false;
                    }
                }
                _ => return false,
            }
            // After a value: the end, a comma, or the container's close.
            loop {
                if !self.blank() {
                    return false;
                }
                if depth == 0 {
                    return self.i == self.s.len();
                }
                let in_object = objects & (1u64 << (depth - 1)) != 0;
                let close = if in_object { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if !self.blank() {
                            return false;
                        }
                        if self.peek() == Some(close) {
                            // A trailing comma.
                            self.i += 1;
                            depth -= 1;
                            continue;
                        }
                        if in_object && !self.key() {
                            return false;
                        }
                        continue 'value;
                    }
                    Some(c) if c == close => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return false,
                }
            }
        }
    }

    /// Whitespace and comments (`// ...` to the end of the line, `/* ... */`).
    #[inline]
    fn blank(&mut self) -> bool {
        while let Some(&b) = self.s.get(self.i) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                b'/' => {
                    if !self.comment() {
                        return false;
                    }
                }
                _ => return true,
            }
        }
        true
    }

    /// A comment, from its `/`.
    #[cold]
    fn comment(&mut self) -> bool {
        let rest = &self.s[self.i..];
        let len = match rest.get(1) {
            Some(b'/') => rest[2..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |e| 2 + e),
            Some(b'*') => match rest[2..].windows(2).position(|w| w == b"*/") {
                Some(e) => 2 + e + 2,
                None => return false,
            },
            _ => return false,
        };
        self.i += len;
        true
    }

    /// An object's key and its colon.
    fn key(&mut self) -> bool {
        if self.peek() != Some(b'"') || !self.string() || !self.blank() {
            return false;
        }
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        true
    }

    /// A string, from its opening quote: no control characters, only the
    /// escapes JSON has (its bytes are not checked to be UTF-8: see the
    /// module's documentation).
    fn string(&mut self) -> bool {
        let s = self.s;
        let mut i = self.i + 1;
        loop {
            while i < s.len() && PLAIN[usize::from(s[i])] {
                i += 1;
            }
            match s.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return true;
                }
                Some(b'\\') => match s.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = s.get(i + 2..i + 6);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        i += 6;
                    }
                    _ => return false,
                },
                // A control character, or the end.
                _ => return false,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return false;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return false;
            }
            self.digits();
        }
        true
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_kurrentdb_accepts_is_valid() {
        for ok in [
            r#"{"order":"order-123","amount":42}"#,
            " [1, -2.5e+3, 0.0, true, false, null, \"\\u00e9\\n\", {}] ",
            "[]",
            "{}",
            "0",
            "\"x\"",
            "[1,2,]",
            r#"{"a":1,}"#,
            r#"{"a":[{"b":{},},],}"#,
            "// a comment\n{\"a\":1}",
            "{/* here */\"a\" /* and */ : 1} // at the end",
        ] {
            assert!(valid_json(ok.as_bytes()), "{ok:?} is valid");
        }
        let deep = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(valid_json(deep.as_bytes()), "64 levels are allowed");
    }

    #[test]
    fn what_kurrentdb_refuses_is_not() {
        for bad in [
            "",
            "   ",
            "{",
            "[1,,2]",
            "[,]",
            "{,}",
            r#"{"a" 1}"#,
            r#"{"a":}"#,
            r#"{1:2}"#,
            "[1] [2]",
            "1,",
            "01",
            "1.",
            "-",
            "1e",
            ".5",
            "tru",
            "nul",
            "truex",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"a\tb\"",
            "\"open",
            "/* open",
            "/ 1",
            "{\"a\":1}}",
        ] {
            assert!(!valid_json(bad.as_bytes()), "{bad:?} is not valid");
        }
        assert!(!valid_json(b"\xc3\xa9"), "a character outside a string");
        assert!(!valid_json(b"[\xff]"), "a byte outside a string");
        assert!(valid_json("[\"é\\n€\", 1 /* ü */] // ß".as_bytes()));
        assert!(
            valid_json(b"[\"\xff\", 1 // \xfe\n]"),
            "bytes in strings and comments are not checked as UTF-8"
        );
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(!valid_json(deep.as_bytes()), "65 levels are too deep");
    }

    /// Any JSON value, nested a few levels.
    fn any_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A fixed seed, so that a failure in CI is the same failure on any
    /// machine; `PROPTEST_RNG_SEED` explores others.
    fn seed() -> proptest::test_runner::RngSeed {
        match std::env::var_os("PROPTEST_RNG_SEED") {
            Some(_) => ProptestConfig::default().rng_seed,
            None => proptest::test_runner::RngSeed::Fixed(0x0001_50e0),
        }
    }

    proptest! {
        // A fixed number of cases and seed; a failing case is kept in
        // `proptest-regressions/` at the crate's root (not beside this
        // file, proptest's default) and tried first on the next run.
        #![proptest_config(ProptestConfig {
            cases: 2000,
            rng_seed: seed(),
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::Direct(
                    "proptest-regressions/projection-json.txt",
                ),
            )),
            ..ProptestConfig::default()
        })]

        /// What serde_json writes, compact or pretty, is valid; cut short,
        /// it is not.
        #[test]
        fn written_json_is_valid(value in any_value()) {
            let compact = serde_json::to_vec(&value).unwrap();
            prop_assert!(valid_json(&compact), "{}", String::from_utf8_lossy(&compact));
            let pretty = serde_json::to_vec_pretty(&value).unwrap();
            prop_assert!(valid_json(&pretty), "{}", String::from_utf8_lossy(&pretty));
            if matches!(value, serde_json::Value::Array(_) | serde_json::Value::Object(_)) {
                prop_assert!(!valid_json(&compact[..compact.len() - 1]));
            }
        }

        /// A string of any bytes is valid exactly when serde_json reads it
        /// (no control characters, JSON's escapes; bytes not UTF-8 are let
        /// through by both).
        #[test]
        fn strings_agree_with_serde_json(bytes in prop::collection::vec(any::<u8>(), 0..24)) {
            prop_assume!(!bytes.contains(&b'/'));
            let mut text = vec![b'"'];
            text.extend_from_slice(&bytes);
            text.push(b'"');
            let serde = serde_json::from_slice::<serde::de::IgnoredAny>(&text).is_ok();
            prop_assert_eq!(valid_json(&text), serde, "{:?}", text);
        }

        /// On text made of JSON's characters, the check agrees with
        /// serde_json's parse, except where KurrentDB accepts more (a
        /// trailing comma): never does it refuse what serde_json accepts.
        #[test]
        fn agrees_with_serde_json(text in r#"[\[\]{}",:0-9 .eE+\-tfrunlsa\\]{0,24}"#) {
            let ours = valid_json(text.as_bytes());
            let serde = serde_json::from_slice::<serde::de::IgnoredAny>(text.as_bytes()).is_ok();
            if ours != serde {
                let squeezed: String = text.chars().filter(|c| *c != ' ').collect();
                prop_assert!(
                    ours && (squeezed.contains(",]") || squeezed.contains(",}")),
                    "{:?}: ours {}, serde_json {}", text, ours, serde
                );
            }
        }
    }
}
