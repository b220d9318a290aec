//! Authorization (ACLs) on a dev (TLS) server of the scenario's own, as
//! KurrentDB's default policy decides it: stream ACLs from metadata and
//! `$settings`, `$admins` over everything, `$ops` for subscription
//! management and the Operations service, system streams and `$all` for `$admins`, anonymous callers
//! refused on streams but not on gossip. Each refusal is
//! [`Error::AccessDenied`] naming the operation and the stream.

use kurrentdbclient::options::*;
use kurrentdbclient::{
    Credentials, Error, NewEvents, NewRecord, StreamAcl, StreamMetadata, StreamState,
    StreamStateCheck,
};

use super::event;
use crate::common::harness::ClientUnderTest;
use crate::common::{start_dev_server, unique};

/// Asserts `r` is access denied to `operation`, on `stream` when given.
#[track_caller]
fn denied<T: std::fmt::Debug>(r: kurrentdbclient::Result<T>, op: &str, on: Option<&str>) {
    match &r {
        Err(Error::AccessDenied {
            operation, stream, ..
        }) => {
            assert_eq!(operation, op, "{r:?}");
            assert_eq!(stream.as_deref(), on, "{r:?}");
        }
        _ => panic!("expected access denied to {op}: {r:?}"),
    }
}

/// [`denied`] for a v2 append (no stream named in the error), whose message
/// ends with the claim KurrentDB's v2 API names (`streams:write:<stream>`,
/// lowercased).
fn denied_v2<T: std::fmt::Debug>(r: kurrentdbclient::Result<T>, op: &str, claim: &str) {
    if let Err(Error::AccessDenied { message, .. }) = &r {
        let claim = claim.to_lowercase();
        assert!(message.ends_with(&format!("perform {claim}")), "{r:?}");
    }
    denied(r, op, None);
}

/// Creates a user (as `admin`) in `groups` with password `pw`; its login.
async fn user<C: ClientUnderTest>(client: &C, name: &str, groups: &[&str]) -> String {
    let login = unique(name);
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    client
        .create_user(&login, name, &groups, "pw", &CreateUserOptions::default())
        .await
        .unwrap();
    login
}

fn creds(login: &str) -> Credentials {
    Credentials::new(login, "pw")
}

fn acl(roles: &[&str]) -> Vec<String> {
    roles.iter().map(|r| (*r).to_owned()).collect()
}

/// A stream whose `$acl` names a reader and a writer: each may do what it
/// names and nothing else (read, subscribe, metadata read; write, delete);
/// `$admins` may do everything; an action the ACL leaves out falls back to
/// the default (everyone, on a user stream).
pub async fn stream_acls_decide_who_reads_writes_and_deletes<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let reader = user(&admin, "reader", &[]).await;
    let writer = user(&admin, "writer", &["writers"]).await;
    let stream = unique("acl");
    let metadata = StreamMetadata::default().with_acl(StreamAcl {
        read: acl(&[&reader]),
        write: acl(&["writers"]),
        meta_read: acl(&[&reader]),
        ..StreamAcl::default()
    });
    admin
        .set_stream_metadata(
            &stream,
            &metadata,
            StreamState::Any,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let on = Some(stream.as_str());

    // The writer (by group) writes; the reader may not.
    let append = |login: &str| AppendToStreamOptions::default().credentials(creds(login));
    admin
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![event("A", "{}")],
            &append(&writer),
        )
        .await
        .expect("the writers group may write");
    denied(
        admin
            .append_to_stream(
                &stream,
                StreamState::Any,
                vec![event("B", "{}")],
                &append(&reader),
            )
            .await,
        "append_to_stream",
        on,
    );

    // The same through the v2 appends.
    let records = AppendRecordsOptions::default().credentials(creds(&reader));
    let record = NewRecord::new(&stream, "B", "{}");
    let write_claim = format!("streams:write:{stream}");
    denied_v2(
        admin.append_records(vec![record], vec![], &records).await,
        "append_records",
        &write_claim,
    );
    let multi = MultiAppendOptions::default().credentials(creds(&reader));
    let batch = NewEvents::new(&stream, [event("B", "{}")], StreamState::Any);
    denied_v2(
        admin.multi_append_to_stream(vec![batch], &multi).await,
        "multi_append",
        &write_claim,
    );
    // A stream AppendRecords only checks needs read access: the writer may
    // write elsewhere, but not while checking this stream, which it cannot read.
    let as_writer = AppendRecordsOptions::default().credentials(creds(&writer));
    let elsewhere = NewRecord::new(unique("elsewhere"), "C", "{}");
    let check = StreamStateCheck::new(&stream, StreamState::Exists);
    denied_v2(
        admin
            .append_records(vec![elsewhere.clone()], vec![check], &as_writer)
            .await,
        "append_records",
        &format!("streams:read:{stream}"),
    );
    admin
        .append_records(vec![elsewhere], vec![], &as_writer)
        .await
        .expect("the writer writes a stream of its own");

    // The reader reads, subscribes and reads the metadata; the writer not.
    for (login, allowed) in [(&reader, true), (&writer, false)] {
        let read = ReadStreamOptions::default().credentials(creds(login));
        let r = admin.get_stream(&stream, &read).await;
        let subscribe = SubscribeToStreamOptions::default().credentials(creds(login));
        let s = admin
            .subscribe_to_stream(&stream, &subscribe)
            .await
            .map(drop);
        let meta = GetStreamMetadataOptions::default().credentials(creds(login));
        let m = admin.get_stream_metadata(&stream, &meta).await;
        if allowed {
            assert_eq!(r.unwrap().len(), 1);
            s.unwrap();
            assert_eq!(m.unwrap().0, metadata);
        } else {
            denied(r, "read_stream", on);
            denied(s, "subscribe_to_stream", on);
            denied(m, "get_stream_metadata", on);
        }
    }

    // Metadata write and delete are left out of the ACL: the defaults for
    // a user stream (everyone) apply... except that only admins override.
    let set = SetStreamMetadataOptions::default().credentials(creds(&reader));
    admin
        .set_stream_metadata(&stream, &metadata, StreamState::Any, &set)
        .await
        .expect("$mw not in the ACL: everyone");

    // $admins may do anything, whatever the ACL.
    let restricted = StreamMetadata::default().with_acl(StreamAcl {
        read: acl(&["nobody"]),
        write: acl(&["nobody"]),
        delete: acl(&["nobody"]),
        meta_read: acl(&["nobody"]),
        meta_write: acl(&["nobody"]),
    });
    admin
        .set_stream_metadata(
            &stream,
            &restricted,
            StreamState::Any,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let delete = DeleteStreamOptions::default().credentials(creds(&writer));
    denied(
        admin
            .delete_stream(&stream, StreamState::Any, &delete)
            .await,
        "delete_stream",
        on,
    );
    denied(
        admin
            .set_stream_metadata(&stream, &metadata, StreamState::Any, &set)
            .await,
        "set_stream_metadata",
        on,
    );
    admin
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .expect("admin reads");
    admin
        .tombstone_stream(
            &stream,
            StreamState::Any,
            &TombstoneStreamOptions::default(),
        )
        .await
        .expect("admin deletes");
}

/// System streams and `$all` are `$admins`' by default (`ops` included in
/// the refusal); `$settings`' `$userStreamAcl` changes the default of every
/// user stream without an ACL of its own.
pub async fn system_streams_all_and_settings_are_for_admins<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let someone = user(&admin, "someone", &[]).await;
    let ops = Credentials::new("ops", "changeit");
    let system = unique("$sys");
    let on = Some(system.as_str());
    admin
        .append_to_stream(
            &system,
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("admin writes a system stream");
    for who in [creds(&someone), ops.clone()] {
        let read = ReadStreamOptions::default().credentials(who.clone());
        denied(admin.get_stream(&system, &read).await, "read_stream", on);
        let append = AppendToStreamOptions::default().credentials(who.clone());
        denied(
            admin
                .append_to_stream(&system, StreamState::Any, vec![event("B", "{}")], &append)
                .await,
            "append_to_stream",
            on,
        );
        let all = ReadAllOptions::default().credentials(who.clone());
        denied(admin.read_all(&all).await, "read_all", None);
        let users = ListUsersOptions::default().credentials(who);
        denied(admin.list_users(&users).await, "list_users", None);
    }
    admin
        .read_all(&ReadAllOptions::default())
        .await
        .expect("admin reads $all");

    // A user stream without an ACL: anyone authenticated, until $settings
    // says otherwise.
    let open = unique("open");
    let read = ReadStreamOptions::default().credentials(creds(&someone));
    let append = AppendToStreamOptions::default().credentials(creds(&someone));
    admin
        .append_to_stream(&open, StreamState::Any, vec![event("A", "{}")], &append)
        .await
        .expect("default user stream ACL: everyone");
    admin.get_stream(&open, &read).await.unwrap();
    let settings = serde_json::json!({
        "$userStreamAcl": {"$r": "$admins", "$w": "$all"},
        "$systemStreamAcl": {"$r": "$admins"}
    });
    admin
        .append_to_stream(
            "$settings",
            StreamState::Any,
            vec![kurrentdbclient::NewEvent::new(
                "update-default-acl",
                serde_json::to_vec(&settings).unwrap(),
            )],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    denied(
        admin.get_stream(&open, &read).await,
        "read_stream",
        Some(&open),
    );
    admin
        .append_to_stream(&open, StreamState::Any, vec![event("B", "{}")], &append)
        .await
        .expect("$w stays everyone");
}

/// `$ops` manages persistent subscriptions but not users; a plain user
/// neither, but reads a group of a stream it may read, its own details and
/// changes its own password.
pub async fn ops_and_user_limits<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let plain = user(&admin, "plain", &[]).await;
    let ops = Credentials::new("ops", "changeit");
    let stream = unique("ps");
    let group = unique("g");
    let create = |who: Credentials| CreateSubscriptionToStreamOptions::default().credentials(who);
    denied(
        admin
            .create_subscription_to_stream(&group, &stream, &create(creds(&plain)))
            .await,
        "create_subscription_to_stream",
        Some(&stream),
    );
    admin
        .create_subscription_to_stream(&group, &stream, &create(ops.clone()))
        .await
        .expect("$ops creates a group");
    let read = ReadSubscriptionOptions::default().credentials(creds(&plain));
    let _consumer = admin
        .read_subscription_to_stream(&group, &stream, &read)
        .await
        .expect("a user who may read the stream reads its group");
    // The group's statistics name the consumer's user, as a secure node does.
    let info = admin
        .get_subscription_info(&group, Some(&stream), &Default::default())
        .await
        .unwrap();
    let users: Vec<&str> = info
        .connections
        .iter()
        .map(|c| c.username.as_str())
        .collect();
    assert_eq!(users, [plain.as_str()]);
    let delete = DeleteSubscriptionOptions::default().credentials(creds(&plain));
    denied(
        admin
            .delete_subscription(&group, Some(&stream), &delete)
            .await,
        "delete_subscription",
        Some(&stream),
    );

    // The Operations service: `$admins` and `$ops` only.
    let merge = |who: Credentials| MergeIndexesOptions::default().credentials(who);
    denied(
        admin.merge_indexes(&merge(creds(&plain))).await,
        "merge_indexes",
        None,
    );
    admin
        .merge_indexes(&merge(ops.clone()))
        .await
        .expect("$ops merges indexes");

    let create_user = CreateUserOptions::default().credentials(ops);
    denied(
        admin
            .create_user(&unique("x"), "X", &[], "pw", &create_user)
            .await,
        "create_user",
        None,
    );
    let own = GetUserOptions::default().credentials(creds(&plain));
    assert_eq!(
        admin.get_user(&plain, &own).await.unwrap().login_name,
        plain
    );
    denied(admin.get_user("admin", &own).await, "get_user", None);
    let change = ChangeUserPasswordOptions::default().credentials(creds(&plain));
    admin
        .change_user_password(&plain, "pw", "pw2", &change)
        .await
        .expect("a user changes their own password");
}

/// Anonymous callers are refused every stream operation but may read
/// gossip and the server's features; a disabled user and a wrong password
/// are unauthenticated, naming the operation.
pub async fn anonymous_and_refused_credentials<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let admin = C::connect(&server.connection_string()).await.unwrap();
    let anonymous_uri = server.connection_string().replace("admin:changeit@", "");
    let anonymous = C::connect(&anonymous_uri).await.unwrap();
    let stream = unique("anon");
    denied(
        anonymous
            .append_to_stream(
                &stream,
                StreamState::Any,
                vec![event("A", "{}")],
                &AppendToStreamOptions::default(),
            )
            .await,
        "append_to_stream",
        Some(&stream),
    );
    denied(
        anonymous
            .get_stream(&stream, &ReadStreamOptions::default())
            .await,
        "read_stream",
        Some(&stream),
    );
    assert_eq!(
        anonymous
            .read_gossip(&ReadGossipOptions::default())
            .await
            .expect("anonymous gossip")
            .len(),
        1
    );
    anonymous
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("anonymous server features");

    let login = user(&admin, "off", &[]).await;
    admin
        .disable_user(&login, &DisableUserOptions::default())
        .await
        .unwrap();
    for who in [creds(&login), Credentials::new("admin", "wrong")] {
        let read = ReadStreamOptions::default().credentials(who);
        let r = admin.get_stream(&stream, &read).await;
        assert!(
            matches!(&r, Err(Error::Unauthenticated { operation, stream: Some(s), .. })
                if operation == "read_stream" && *s == stream),
            "{r:?}"
        );
    }
}
