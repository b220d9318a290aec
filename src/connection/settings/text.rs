//! The text of a connection string, both ways: percent-decoding (user info
//! and options), percent-encoding (the canonical string `Display` writes), and
//! plain digits. Below `parse`, `query` and the settings that all use it.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use crate::error::connection_string::ConnectionStringError as E;

/// Parses a non-empty string of ASCII digits (no sign, no whitespace).
pub(super) fn parse_digits<T: FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(super) fn percent_decode(
    s: &str,
    plus_is_space: bool,
    pos: usize,
    component: &'static str,
) -> Result<String, E> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let decoded = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| Some(hex(h[0])? << 4 | hex(h[1])?));
                let Some(b) = decoded else {
                    return Err(E::InvalidPercentEncoding {
                        component,
                        position: pos + i,
                    });
                };
                out.push(b);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| E::InvalidPercentEncoding {
        component,
        position: pos,
    })
}

/// Percent-encodes everything but unreserved characters (and, in query
/// values, `/` and `:` for readable paths).
pub(super) struct Encoded<'a>(pub(super) &'a str, pub(super) bool);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.bytes() {
            let keep = b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'.' | b'_' | b'~')
                || (self.1 && matches!(b, b'/' | b':'));
            if keep {
                f.write_char(b as char)?;
            } else {
                write!(f, "%{b:02X}")?;
            }
        }
        Ok(())
    }
}
