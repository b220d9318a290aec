//! The tests of [`super`]: what emitted events are written as.

use super::*;
use crate::log::LINK_EVENT_TYPE as LINK;
use crate::log::link::{LinkCause, write_link_body};

/// The emits of the projection with id `id` at `version` (epoch -1).
fn emits_of(id: i64, version: i64) -> Emits {
    Emits::new(ProjectionVersion {
        id,
        epoch: -1,
        version,
    })
}

#[test]
fn emitted_ids_are_random_version_4_ids_none_repeated() {
    let (mut one, mut other) = (Ids::default(), Ids::default());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..50_000 {
        for id in [one.next(), other.next()] {
            assert_eq!(id.get_version(), Some(uuid::Version::Random));
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert!(seen.insert(id), "{id} repeated");
        }
    }
}

#[test]
fn a_batch_larger_than_a_segment_is_written_whole_and_in_order() {
    let store = Store::new(crate::store::StoreOptions::default());
    let mut emits = emits_of(1, 0);
    let data: Vec<String> = (0..1000).map(|i| format!("{i:0>300}")).collect();
    for (i, d) in data.iter().enumerate() {
        let cause = Cause {
            caused_at: i as u64 + 1,
            tag: Tag::Position(i as u64 + 1),
            caused_by: None,
            correlation_id: None,
        };
        emits.begin(cause);
        emits.push("E", false, ["out-", "a"], Data::Text(d), |_| {});
    }
    assert!(emits.sealed.len() >= 4, "{} segments", emits.sealed.len());
    let (writes, _) = Writer::default().prepare(&store, &mut emits);
    let events = &writes.last().unwrap().events;
    assert_eq!(events.len(), 1000);
    for (i, (e, d)) in events.iter().zip(&data).enumerate() {
        let (got, metadata) = e.body.stored().split_at(e.data_len as usize);
        assert_eq!(got, d.as_bytes(), "event {i}");
        let at = i + 1;
        assert_eq!(
            metadata,
            format!(r#"{{"$v":"1:-1:0:4","$c":{at},"$p":{at}}}"#).as_bytes()
        );
    }
    assert!(emits.sealed.is_empty() && emits.bodies.is_empty());
}

#[test]
fn emitted_events_are_written_with_tag_extra_caused_by_and_correlation() {
    let store = Store::new(crate::store::StoreOptions::default());
    let mut emits = emits_of(3, 1);
    let id = Uuid::nil();
    let cause = |at: u64| Cause {
        caused_at: at,
        tag: Tag::Position(at),
        caused_by: Some(id),
        correlation_id: Some(Arc::from("c-1")),
    };
    emits.begin(cause(10));
    emits.push(
        "$>",
        false,
        ["$ce-", "order"],
        Data::Link(3, "order-1"),
        |x| x.known_string(",\"$o\":", "order-1"),
    );
    emits.push("E", true, ["out", ""], Data::Text("{}"), |x| {
        x.raw("$correlationId", "\"mine\"");
        x.raw("$causedBy", "\"ignored\"");
    });
    assert_eq!(emits.len(), 2);
    // At or before the last cause written to a stream: skipped.
    emits.begin(cause(10));
    emits.push(
        "$>",
        false,
        ["$ce-", "order"],
        Data::Link(4, "order-1"),
        |_| {},
    );
    // A later cause: its own tag, no correlation.
    emits.begin(Cause {
        correlation_id: None,
        ..cause(12)
    });
    emits.push("F", false, ["out", ""], Data::Text("x"), |_| {});
    let (writes, order) = Writer::default().prepare(&store, &mut emits);
    assert!(emits.is_empty(), "prepare empties the buffer");
    assert_eq!(order, ["$ce-order", "out"]);
    let streams: Vec<&[u8]> = writes.iter().map(|w| w.stream.as_ref()).collect();
    assert_eq!(
        streams,
        [b"$$$ce-order".as_slice(), b"$ce-order", b"$$out", b"out"],
        "a new stream's metadata goes first"
    );
    let body = |e: &PreparedEvent| {
        let (data, metadata) = e.body.stored().split_at(e.data_len as usize);
        (
            String::from_utf8(data.to_vec()).unwrap(),
            String::from_utf8(metadata.to_vec()).unwrap(),
        )
    };
    assert_eq!(writes[1].events.len(), 1);
    assert_eq!(
        body(&writes[1].events[0]),
        (
            "3@order-1".to_owned(),
            format!(
                r#"{{"$v":"3:-1:1:4","$c":10,"$p":10,"$o":"order-1","$causedBy":"{id}","$correlationId":"c-1"}}"#
            )
        )
    );
    assert_eq!(writes[1].events[0].event_type, "$>");
    assert_eq!(
        body(&writes[3].events[0]),
        (
            "{}".to_owned(),
            format!(
                r#"{{"$v":"3:-1:1:4","$c":10,"$p":10,"$correlationId":"mine","$causedBy":"{id}"}}"#
            )
        ),
        "the handler's $correlationId is kept, its $causedBy is not"
    );
    assert!(writes[3].events[0].is_json);
    assert_eq!(writes[3].events.len(), 2);
    assert_eq!(
        body(&writes[3].events[1]),
        (
            "x".to_owned(),
            format!(r#"{{"$v":"3:-1:1:4","$c":12,"$p":12,"$causedBy":"{id}"}}"#)
        ),
    );
}

/// A `$by_category` (`origin`) or `$by_event_type` link to the event at
/// `revision` of `stream`, at `position` with id `id`, as the generic
/// [`Emits::push`] writes it: (data length, body).
fn pushed_link(
    emits: &mut Emits,
    (revision, stream, position, id): (u64, &str, u64, Uuid),
    origin: bool,
) -> (usize, Vec<u8>) {
    emits.begin(Cause {
        caused_at: position,
        tag: Tag::Position(position),
        caused_by: Some(id),
        correlation_id: None,
    });
    emits.push(
        LINK,
        false,
        ["$x-", "y"],
        Data::Link(revision, stream),
        |x| {
            if origin {
                x.known_string(ORIGIN_KEY, stream);
            }
        },
    );
    let item = emits.items.last().unwrap();
    let body = emits.bodies[item.body.clone()].to_vec();
    let data_len = item.data_len;
    emits.clear();
    (data_len, body)
}

#[test]
fn a_compact_link_is_written_out_as_push_writes_the_link() {
    let mut emits = emits_of(3, 2);
    let id = Uuid::new_v4();
    for stream in [
        "order-1",
        "or\"d\\er-1",
        "tab\t-é€",
        "x-",
        &"long-".repeat(300),
    ] {
        let cases = [
            (0, 0),
            (9, 10),
            (10, 4096),
            (7, 123_456),
            (u64::MAX >> 1, u64::MAX),
        ];
        for (revision, position) in cases {
            for origin in [false, true] {
                let cause = (revision, stream, position, id);
                let (data_len, pushed) = pushed_link(&mut emits, cause, origin);
                let template = &emits.templates.as_ref().unwrap()[usize::from(origin)];
                let mut written = Vec::new();
                let link = LinkCause {
                    revision,
                    stream,
                    position,
                    id,
                };
                let written_data = write_link_body(&mut written, template, &link);
                let case = format!("{stream:?} {revision} {position} {origin}");
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(pushed.clone()).unwrap(),
                    "{case}"
                );
                assert_eq!(written_data, data_len, "{case}");
                assert_eq!(
                    link_body_len(template, revision, stream, position),
                    (data_len, pushed.len()),
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn only_a_plain_event_read_at_its_log_index_is_linked_compactly() {
    let id = Uuid::new_v4();
    let record = crate::store::NamedRecord {
        record: crate::log::Record {
            position: 5000,
            revision: 2,
            created: 0,
            id,
            stream: 0,
            is_json: true,
            data_len: 2,
            event_type: "E".into(),
            body: Bytes::from_static(b"{}").into(),
        },
        stream: Bytes::from_static(b"order-1"),
    };
    let ev = SourceEvent {
        stream: "order-1",
        revision: 2,
        event_type: "E",
        record: &record,
        link: None,
        position_stream: "order-1",
        position_revision: 2,
        created: 0,
    };
    let cause = |position_tag: bool, correlation_id: Option<&str>| Cause {
        caused_at: 5000,
        tag: if position_tag {
            Tag::Position(5000)
        } else {
            Tag::Streams(vec![("order-1".to_owned(), 2)])
        },
        caused_by: Some(id),
        correlation_id: correlation_id.map(Arc::from),
    };
    // (read at a known log index, a `$all` tag, correlation id): compact?
    let cases = [
        (true, true, None, true),
        (false, true, None, false),
        (true, false, None, false),
        (true, true, Some("c-1"), false),
    ];
    for (indexed, position_tag, correlation, compact) in cases {
        let mut emits = emits_of(3, 0);
        emits.begin(cause(position_tag, correlation));
        if indexed {
            emits.source_at(17);
        }
        emits.push_link(["$ce-", "order"], &ev, true);
        let item = &emits.items[0];
        let case = format!("{indexed} {position_tag} {correlation:?}");
        assert_eq!(item.link.is_some(), compact, "{case}");
        if let Some(link) = &item.link {
            assert_eq!(link.source, 17);
            assert!(link.template.origin);
            assert!(item.body.is_empty());
        }
        assert_eq!(&emits.names[item.name.clone()], "$ce-order", "{case}");
        // Either way the writer makes one `$>` event of the same length.
        let store = Store::new(crate::store::StoreOptions::default());
        let (writes, _) = Writer::default().prepare(&store, &mut emits);
        let event = &writes.last().unwrap().events[0];
        assert_eq!(event.event_type, LINK);
        assert_eq!(event.data_len as usize, "2@order-1".len(), "{case}");
        assert_eq!(matches!(event.body, Body::Link(_)), compact, "{case}");
    }
}
