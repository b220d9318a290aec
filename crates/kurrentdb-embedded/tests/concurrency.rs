//! 16 writers × 2,000 appends with exact expected revisions on overlapping
//! streams, retrying on wrong expected version; then every stream's revisions
//! are gapless, `$all` positions strictly increase, nothing is lost or
//! duplicated.
mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use kurrentdbclient::proto::streams::{append_resp, read_req};

const WRITERS: usize = 16;
const APPENDS: usize = 2_000;
const STREAMS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_never_lose_or_duplicate() {
    let (_server, channel) = server().await;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        // One connection per writer, as independent clients would have.
        let channel = tonic::transport::Channel::from_shared(_server.uri())
            .unwrap()
            .connect()
            .await
            .unwrap();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(channel);
            let mut known: HashMap<String, Option<u64>> = HashMap::new();
            let mut written = Vec::new();
            for i in 0..APPENDS {
                let stream = format!("c-{}", (w + i) % STREAMS);
                let id = uuid::Uuid::new_v4();
                loop {
                    let expected = match known.get(&stream).copied().flatten() {
                        Some(r) => exact(r),
                        None => no_stream(),
                    };
                    let resp = append(
                        &mut c,
                        &stream,
                        expected,
                        vec![event_with_id(id, "T", b"{}")],
                    )
                    .await
                    .unwrap();
                    match resp.result.unwrap() {
                        append_resp::Result::Success(s) => {
                            let Some(append_resp::success::CurrentRevisionOption::CurrentRevision(
                                r,
                            )) = s.current_revision_option
                            else {
                                panic!()
                            };
                            known.insert(stream.clone(), Some(r));
                            break;
                        }
                        append_resp::Result::WrongExpectedVersion(wev) => {
                            use append_resp::wrong_expected_version::CurrentRevisionOption as C;
                            let current = match wev.current_revision_option.unwrap() {
                                C::CurrentRevision(r) => Some(r),
                                C::CurrentNoStream(_) => None,
                            };
                            known.insert(stream.clone(), current);
                        }
                    }
                }
                written.push(id);
            }
            written
        }));
    }
    let mut all_ids = HashSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(all_ids.insert(id));
        }
    }
    assert_eq!(all_ids.len(), WRITERS * APPENDS);

    let mut c = Client::new(channel);
    let mut per_stream: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    o.read_direction = read_req::options::ReadDirection::Forwards as i32;
    let evs = user_events(&read(&mut c, o).await.unwrap());
    assert_eq!(evs.len(), WRITERS * APPENDS);
    let mut last = 0;
    let mut seen = HashSet::new();
    for e in &evs {
        let e = e.event.as_ref().unwrap();
        assert!(e.commit_position > last, "positions strictly increase");
        last = e.commit_position;
        let id = match e.id.as_ref().unwrap().value.as_ref().unwrap() {
            kurrentdbclient::proto::shared::uuid::Value::String(s) => {
                uuid::Uuid::parse_str(s).unwrap()
            }
            _ => panic!(),
        };
        assert!(seen.insert(id), "no duplicate");
        per_stream
            .entry(e.stream_identifier.as_ref().unwrap().stream_name.to_vec())
            .or_default()
            .push(e.stream_revision);
    }
    assert_eq!(seen, all_ids);
    assert_eq!(per_stream.len(), STREAMS);
    for (name, revs) in per_stream {
        assert!(
            revs.iter().enumerate().all(|(i, r)| *r == i as u64),
            "stream {name:?} is gapless from 0"
        );
        let via_stream = events(
            &read_stream(&mut c, std::str::from_utf8(&name).unwrap())
                .await
                .unwrap(),
        );
        assert_eq!(via_stream.len(), revs.len());
    }
}
