//! Appending events: the examples of the "Appending events" reference page.
//!
//! ```text
//! cargo run --example appending
//! ```
//!
//! Runs against the embedded server, or `KURRENTDB_URI` when set.

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::{
    AsyncKurrentDBClient, Error, NewEvent, NewEvents, NewRecord, StreamState, StreamStateCheck,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server().await?;
    let client = AsyncKurrentDBClient::connect(&uri).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let student1 = format!("student-1-{id}");
    let student2 = format!("student-2-{id}");
    let course1 = format!("course-1-{id}");
    let course2 = format!("course-2-{id}");
    let append = AppendToStreamOptions::default();

    // Append to a new stream: NoStream checks that nothing was appended before.
    let written = client
        .append_to_stream(
            &student1,
            StreamState::NoStream,
            [NewEvent::new("StudentRegistered", r#"{"name": "Greg"}"#)],
            &append,
        )
        .await?;
    // The result gives the version to expect next, and the commit position.
    assert_eq!(written.next_expected_version, StreamState::Version(0));
    println!("registered at commit position {}", written.commit_position);

    // Append to an existing stream: 0 checks that exactly one event is there.
    client
        .append_to_stream(
            &student1,
            0u64,
            [NewEvent::new(
                "StudentNameChanged",
                r#"{"name": "Gregory"}"#,
            )],
            &append,
        )
        .await?;

    // A failed consistency check.
    match client
        .append_to_stream(
            &student1,
            StreamState::NoStream,
            [NewEvent::new("StudentRegistered", r#"{"name": "Greg"}"#)],
            &append,
        )
        .await
    {
        Err(Error::WrongCurrentVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, student1);
            assert_eq!(expected, StreamState::NoStream);
            assert_eq!(actual, StreamState::Version(1));
            println!("wrong current version: expected {expected}, actual {actual}");
        }
        other => panic!("Shouldn't get here: {other:?}"),
    }

    // Multi-append to new streams, then to existing ones.
    client
        .multi_append_to_stream(
            [
                NewEvents::new(
                    &course1,
                    [NewEvent::new("CourseCreated", r#"{"name": "French"}"#)],
                    StreamState::NoStream,
                ),
                NewEvents::new(
                    &course2,
                    [NewEvent::new("CourseCreated", r#"{"name": "German"}"#)],
                    StreamState::NoStream,
                ),
            ],
            &MultiAppendOptions::default(),
        )
        .await?;
    client
        .multi_append_to_stream(
            [
                NewEvents::new(
                    &student1,
                    [NewEvent::new(
                        "StudentJoinedCourse",
                        r#"{"course_id": "course-1"}"#,
                    )],
                    1u64,
                ),
                NewEvents::new(
                    &course1,
                    [NewEvent::new(
                        "StudentJoinedCourse",
                        r#"{"student_id": "student-1"}"#,
                    )],
                    0u64,
                ),
            ],
            &MultiAppendOptions::default(),
        )
        .await?;

    // Append records to several streams, in any order, with consistency checks.
    let result = client
        .append_records(
            [
                NewRecord::new(&student2, "StudentRegistered", r#"{"name": "Joe"}"#),
                NewRecord::new(
                    &course2,
                    "StudentJoinedCourse",
                    r#"{"student_id": "student-2"}"#,
                ),
                NewRecord::new(
                    &student2,
                    "StudentJoinedCourse",
                    r#"{"course_id": "course-2"}"#,
                ),
            ],
            [
                StreamStateCheck::new(&student2, StreamState::NoStream),
                StreamStateCheck::new(&course2, 0u64),
            ],
            &AppendRecordsOptions::default(),
        )
        .await?;
    println!(
        "records appended at commit position {}",
        result.commit_position
    );
    // Each written stream's new position: student-2 has two events, course-2 two.
    assert_eq!(result.stream_position(&student2), Some(1));
    assert_eq!(result.stream_position(&course2), Some(1));

    // Failed consistency checks list every failure.
    match client
        .append_records(
            [NewRecord::new(
                &student2,
                "StudentRegistered",
                r#"{"name": "Joe"}"#,
            )],
            [StreamStateCheck::new(&student2, StreamState::NoStream)],
            &AppendRecordsOptions::default(),
        )
        .await
    {
        Err(Error::ConsistencyChecksFailed { failures }) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].check_index, 0);
            assert_eq!(failures[0].stream_name, student2);
            assert_eq!(failures[0].expected_state.to_v2(), -1);
            assert_eq!(failures[0].actual_state, StreamState::Version(1));
            println!("consistency checks failed: {failures:?}");
        }
        other => panic!("Shouldn't get here: {other:?}"),
    }

    // Metadata of a v2 append must be empty or a JSON object of strings.
    let refused = client
        .append_records(
            [NewRecord::new(&student2, "StudentNoted", "{}").with_metadata(r#"{"a": 1}"#)],
            [],
            &AppendRecordsOptions::default(),
        )
        .await;
    assert!(matches!(refused, Err(Error::Programming(_))));

    // Stream metadata: get it (with its version), change it, set it.
    let order = format!("order-123-{id}");
    let (mut metadata, current_version) = client
        .get_stream_metadata(&order, &GetStreamMetadataOptions::default())
        .await?;
    metadata.custom.insert("foo".into(), "bar".into());
    client
        .set_stream_metadata(
            &order,
            &metadata,
            current_version,
            &SetStreamMetadataOptions::default(),
        )
        .await?;
    let (metadata, _) = client
        .get_stream_metadata(&order, &GetStreamMetadataOptions::default())
        .await?;
    assert_eq!(metadata.custom["foo"], "bar");
    println!("stream metadata: {}", metadata.to_json());
    Ok(())
}

/// `KURRENTDB_URI`, or an embedded server (kept alive by the returned handle).
async fn server() -> std::io::Result<(Option<EmbeddedServer>, String)> {
    Ok(match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start().await?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    })
}
