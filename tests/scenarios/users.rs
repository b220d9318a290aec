//! User management (the Users service), against a dev (TLS) server of the
//! scenario's own, whose default users are `admin` and `ops`.

use kurrentdbclient::options::*;
use kurrentdbclient::{Credentials, Error};

use crate::common::harness::ClientUnderTest;
use crate::common::{start_dev_server, unique};

/// Create, read, list, update, disable, enable, change and reset the
/// password, delete: each with KurrentDB's outcome, and its errors (a missing
/// user, a conflicting create, a wrong current password, an empty login).
pub async fn user_management_round_trip<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let client = C::connect(&server.connection_string()).await.unwrap();

    let all = client
        .list_users(&ListUsersOptions::default())
        .await
        .unwrap();
    let logins: Vec<_> = all.iter().map(|u| u.login_name.as_str()).collect();
    assert_eq!(logins, ["admin", "ops"]);
    let admin = client
        .get_user("admin", &GetUserOptions::default())
        .await
        .unwrap();
    assert_eq!(admin.groups, ["$admins"]);
    assert!(!admin.disabled);
    assert!(admin.last_updated.is_some());

    let login = unique("ann");
    let groups = vec!["devs".to_owned()];
    client
        .create_user(&login, "Ann", &groups, "pw", &CreateUserOptions::default())
        .await
        .unwrap();
    client
        .create_user(&login, "Ann", &groups, "pw", &CreateUserOptions::default())
        .await
        .expect("creating again with the same password succeeds");
    let r = client
        .create_user(
            &login,
            "Ann",
            &groups,
            "other",
            &CreateUserOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::AlreadyExists(_))), "{r:?}");

    client
        .update_user(&login, "Ann B", &[], &UpdateUserOptions::default())
        .await
        .unwrap();
    let ann = client
        .get_user(&login, &GetUserOptions::default())
        .await
        .unwrap();
    assert_eq!((ann.full_name.as_str(), ann.groups.len()), ("Ann B", 0));

    client
        .disable_user(&login, &DisableUserOptions::default())
        .await
        .unwrap();
    assert!(
        client
            .get_user(&login, &GetUserOptions::default())
            .await
            .unwrap()
            .disabled
    );
    client
        .enable_user(&login, &EnableUserOptions::default())
        .await
        .unwrap();
    assert!(
        !client
            .get_user(&login, &GetUserOptions::default())
            .await
            .unwrap()
            .disabled
    );

    // Only the user may change their own password (KurrentDB's policy:
    // `Users.ChangePassword` matches the caller's name); `admin` resets it.
    let as_ann = ChangeUserPasswordOptions::default().credentials(Credentials::new(&login, "pw"));
    let r = client
        .change_user_password(&login, "pw", "new", &ChangeUserPasswordOptions::default())
        .await;
    assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
    let r = client
        .change_user_password(&login, "wrong", "new", &as_ann)
        .await;
    assert!(matches!(r, Err(Error::AccessDenied { .. })), "{r:?}");
    client
        .change_user_password(&login, "pw", "new", &as_ann)
        .await
        .unwrap();
    client
        .reset_user_password(&login, "reset", &ResetUserPasswordOptions::default())
        .await
        .unwrap();
    // The password is now "reset": creating with it is the idempotent case.
    client
        .create_user(&login, "Ann B", &[], "reset", &CreateUserOptions::default())
        .await
        .expect("the reset password is the user's");
    assert_eq!(
        client
            .list_users(&ListUsersOptions::default())
            .await
            .unwrap()
            .len(),
        3
    );

    client
        .delete_user(&login, &DeleteUserOptions::default())
        .await
        .unwrap();
    let r = client.get_user(&login, &GetUserOptions::default()).await;
    assert!(
        matches!(&r, Err(Error::NotFound { what }) if what == &format!("user {login}")),
        "{r:?}"
    );
    let r = client
        .delete_user(&login, &DeleteUserOptions::default())
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r = client
        .enable_user(&login, &EnableUserOptions::default())
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r = client.get_user("", &GetUserOptions::default()).await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
    assert_eq!(
        client
            .list_users(&ListUsersOptions::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

/// A secure server authenticates every call's basic credentials as KurrentDB
/// does: a wrong password, an unknown user, a disabled or deleted one, or a
/// password that was changed get `Unauthenticated`; valid ones pass, and a
/// change to the user counts at once (no stale verification is used).
pub async fn basic_credentials_are_authenticated<C: ClientUnderTest>(_client: &C) {
    let server = start_dev_server().await;
    let client = C::connect(&server.connection_string()).await.unwrap();
    let login = unique("bob");
    client
        .create_user(&login, "Bob", &[], "pw", &CreateUserOptions::default())
        .await
        .unwrap();
    let as_user = |login: &str, password: &str| {
        GetServerInfoOptions::default().credentials(Credentials::new(login, password))
    };
    let info = |options: GetServerInfoOptions| {
        let client = &client;
        async move { client.get_server_info(&options).await.map(drop) }
    };
    let unauthenticated = |r: kurrentdbclient::Result<()>| {
        assert!(matches!(r, Err(Error::Unauthenticated { .. })), "{r:?}");
    };

    info(as_user(&login, "pw"))
        .await
        .expect("valid credentials");
    info(as_user(&login, "pw"))
        .await
        .expect("valid again (remembered)");
    unauthenticated(info(as_user(&login, "wrong")).await);
    unauthenticated(info(as_user("nobody", "pw")).await);
    unauthenticated(info(as_user("admin", "")).await);

    client
        .disable_user(&login, &DisableUserOptions::default())
        .await
        .unwrap();
    unauthenticated(info(as_user(&login, "pw")).await);
    client
        .enable_user(&login, &EnableUserOptions::default())
        .await
        .unwrap();
    info(as_user(&login, "pw")).await.expect("enabled again");
    client
        .reset_user_password(&login, "new", &ResetUserPasswordOptions::default())
        .await
        .unwrap();
    unauthenticated(info(as_user(&login, "pw")).await);
    info(as_user(&login, "new"))
        .await
        .expect("the new password");
    client
        .delete_user(&login, &DeleteUserOptions::default())
        .await
        .unwrap();
    unauthenticated(info(as_user(&login, "new")).await);

    // No credentials at all: anonymous, which gossip and server features allow.
    let addr = server.addr();
    let ca = server.ca_file().unwrap().display().to_string();
    let anonymous = C::connect(&format!("kurrentdb://{addr}?tlsCaFile={ca}"))
        .await
        .unwrap();
    anonymous
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("anonymous server info");
}
