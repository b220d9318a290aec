//! Checkpoint tags: where in its source a projection read an event, as
//! KurrentDB writes it in the metadata of what the projection emits and of
//! its checkpoints (`CheckpointTag.WriteTo`), with the projection's version.

use crate::log::link::{COMMIT_KEY, PREPARE_KEY, Text, push_json_string};

/// The projection subsystem version KurrentDB writes in `$v`.
const SUBSYSTEM_VERSION: u32 = 4;

/// Which version of which projection writes: the `$v` of every tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProjectionVersion {
    pub(crate) id: i64,
    pub(crate) epoch: i64,
    pub(crate) version: i64,
}

impl ProjectionVersion {
    /// `"$v":"<id>:<epoch>:<version>:<subsystem version>",`, as a tag
    /// starts (worked out once per batch, not per event).
    pub(super) fn json(self) -> String {
        let mut s = String::with_capacity(32);
        s.push_str("\"$v\":\"");
        push_int(&mut s, self.id);
        s.push(':');
        push_int(&mut s, self.epoch);
        s.push(':');
        push_int(&mut s, self.version);
        s.push(':');
        push_int(&mut s, SUBSYSTEM_VERSION);
        s.push_str("\",");
        s
    }
}

/// Appends `n` in decimal, without the formatting machinery (this runs for
/// every event a projection emits).
fn push_int(s: &mut String, n: impl itoa::Integer) {
    s.push_str(itoa::Buffer::new().format(n));
}

/// A position in a projection's source: where an event was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tag {
    /// A `$all` position (commit = prepare here).
    Position(u64),
    /// Revisions of the source streams.
    Streams(Vec<(String, u64)>),
}

impl Tag {
    /// The tag as JSON, with `$v` when a version is given, and `extra`.
    pub(crate) fn to_json(&self, version: Option<ProjectionVersion>, extra: &str) -> String {
        let mut s = String::with_capacity(96 + extra.len());
        let version = version.map(ProjectionVersion::json);
        self.write_open(&mut s, version.as_deref());
        s.push_str(extra);
        s.push('}');
        s
    }

    /// Writes the tag's JSON to `s` without its closing brace (so that more
    /// properties can follow), starting with `version` (see
    /// [`ProjectionVersion::json`]) when given.
    pub(super) fn write_open(&self, s: &mut impl Text, version: Option<&str>) {
        s.put("{");
        if let Some(v) = version {
            s.put(v);
        }
        match self {
            Tag::Position(p) => {
                // Commit and prepare positions are one number here: it is
                // formatted once.
                let mut digits = itoa::Buffer::new();
                let p = digits.format(*p);
                s.put(COMMIT_KEY);
                s.put(p);
                s.put(PREPARE_KEY);
                s.put(p);
            }
            Tag::Streams(streams) => {
                s.put("\"$s\":{");
                for (i, (stream, revision)) in streams.iter().enumerate() {
                    if i > 0 {
                        s.put(",");
                    }
                    push_json_string(s, stream);
                    s.put(":");
                    s.put(itoa::Buffer::new().format(*revision));
                }
                s.put("}");
            }
        }
    }

    /// The tag as the statistics show a position: `C:<commit>/P:<prepare>`,
    /// or `<stream>: <revision>` (`CheckpointTag.ToString`).
    pub(crate) fn display(&self) -> String {
        match self {
            Tag::Position(p) => format!("C:{p}/P:{p}"),
            Tag::Streams(streams) => streams
                .iter()
                .map(|(s, r)| format!("{s}: {r}"))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_written_as_kurrentdb_writes_them() {
        let v = ProjectionVersion {
            id: 3,
            epoch: -1,
            version: 1,
        };
        assert_eq!(
            Tag::Position(42).to_json(Some(v), ",\"$o\":\"a-1\""),
            r#"{"$v":"3:-1:1:4","$c":42,"$p":42,"$o":"a-1"}"#
        );
        assert_eq!(
            Tag::Streams(vec![("a-1".into(), 5)]).to_json(None, ""),
            r#"{"$s":{"a-1":5}}"#
        );
        assert_eq!(Tag::Position(7).display(), "C:7/P:7");
        assert_eq!(Tag::Streams(vec![("a".into(), 2)]).display(), "a: 2");
    }
}
