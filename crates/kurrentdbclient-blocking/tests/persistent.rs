//! The blocking persistent-subscription calls, end to end against an embedded
//! server: create, read (an `Iterator` with ack and nack), info, list, update,
//! replay parked events, delete, restart the subsystem.

use std::sync::OnceLock;
use std::time::Duration;

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient_blocking::options::*;
use kurrentdbclient_blocking::persistent::*;
use kurrentdbclient_blocking::{
    AppendToStreamOptions, Error, KurrentDBClient, NewEvent, StreamState,
};

fn server_uri() -> String {
    if let Ok(uri) = std::env::var("KURRENTDB_URI") {
        return uri;
    }
    static SERVER: OnceLock<EmbeddedServer> = OnceLock::new();
    SERVER
        .get_or_init(|| EmbeddedServer::start_blocking().expect("start the embedded server"))
        .connection_string()
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos:x}")
}

const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<kurrentdbclient_blocking::PersistentSubscription>();
};

#[test]
fn persistent_subscription_lifecycle() {
    let client = KurrentDBClient::connect(&server_uri()).expect("connect");
    let stream = unique("persistent");
    let group = unique("group");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            (0..3).map(|i| NewEvent::new(if i == 1 { "Poison" } else { "Good" }, format!("{i}"))),
            &AppendToStreamOptions::default(),
        )
        .unwrap();

    client
        .create_subscription_to_stream(
            &group,
            &stream,
            &CreateSubscriptionToStreamOptions::default().max_retry_count(0),
        )
        .unwrap();
    let again = client.create_subscription_to_stream(
        &group,
        &stream,
        &CreateSubscriptionToStreamOptions::default(),
    );
    assert!(matches!(again, Err(Error::AlreadyExists(_))), "{again:?}");

    let mut sub = client
        .read_subscription_to_stream(&group, &stream, &ReadSubscriptionOptions::default())
        .unwrap();
    assert!(!sub.subscription_id().is_empty());
    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = sub.next().expect("an event").expect("no error");
        if event.r#type == "Poison" {
            sub.nack(event.ack_id(), NackAction::Park).unwrap();
        } else {
            sub.ack(event.ack_id()).unwrap();
        }
        seen.push(event.stream_position);
    }
    assert_eq!(seen, [0, 1, 2]);

    let info = client
        .get_subscription_info(
            &group,
            Some(&stream),
            &GetSubscriptionInfoOptions::default(),
        )
        .unwrap();
    assert_eq!(info.group_name, group);
    assert_eq!(info.event_source, stream);
    let listed = client
        .list_subscriptions_to_stream(&stream, &ListSubscriptionsOptions::default())
        .unwrap();
    assert!(listed.iter().any(|i| i.group_name == group), "{listed:?}");
    let all = client
        .list_subscriptions(&ListSubscriptionsOptions::default())
        .unwrap();
    assert!(all.iter().any(|i| i.group_name == group));

    client
        .update_subscription_to_stream(
            &group,
            &stream,
            &UpdateSubscriptionToStreamOptions::default().message_timeout(Duration::from_secs(7)),
        )
        .unwrap();

    // The parked event comes back after a replay. (The update restarted the
    // group, so join it again; events after the last checkpoint may come
    // again first: delivery is at least once.)
    sub.stop();
    let mut sub = client
        .read_subscription_to_stream(&group, &stream, &ReadSubscriptionOptions::default())
        .unwrap();
    client
        .replay_parked_events(&group, Some(&stream), &ReplayParkedEventsOptions::default())
        .unwrap();
    let replayed = loop {
        let event = sub.next().expect("an event").expect("no error");
        if event.r#type == "Poison" {
            break event;
        }
        sub.ack(event.ack_id()).unwrap();
    };
    sub.ack(replayed.ack_id()).unwrap();
    sub.stop();
    assert!(sub.is_stopped());
    assert!(sub.next().is_none());

    client
        .delete_subscription(&group, Some(&stream), &DeleteSubscriptionOptions::default())
        .unwrap();
    let gone = client.get_subscription_info(
        &group,
        Some(&stream),
        &GetSubscriptionInfoOptions::default(),
    );
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");

    // A group on $all.
    let all_group = unique("all-group");
    client
        .create_subscription_to_all(
            &all_group,
            &CreateSubscriptionToAllOptions::default().from_end(true),
        )
        .unwrap();
    client
        .update_subscription_to_all(&all_group, &UpdateSubscriptionToAllOptions::default())
        .unwrap();
    let mut on_all = client
        .read_subscription_to_all(&all_group, &ReadSubscriptionOptions::default())
        .unwrap();
    on_all.stop();
    client
        .delete_subscription(&all_group, None, &DeleteSubscriptionOptions::default())
        .unwrap();

    client
        .restart_persistent_subscription_subsystem(
            &RestartPersistentSubscriptionSubsystemOptions::default(),
        )
        .unwrap();
}
