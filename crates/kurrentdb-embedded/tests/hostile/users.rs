//! Hostile Users requests: empty and huge logins, huge group lists, control
//! characters, requests without options, other users' details and
//! passwords. Each case asserts KurrentDB's answer for the caller: a caller
//! without the rights gets "Access Denied" (checked before the request's
//! contents, as KurrentDB's handlers check it first).

use kurrentdbclient::proto::users::users_client::UsersClient;
use kurrentdbclient::proto::users::{
    ChangePasswordReq, CreateReq, DeleteReq, DetailsReq, DisableReq, EnableReq, ResetPasswordReq,
    UpdateReq, change_password_req, create_req, delete_req, details_req, disable_req, enable_req,
    reset_password_req, update_req,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::{Case, LOW_LOGIN, Rights, assert_denied, case};

fn client(channel: &Channel) -> UsersClient<Channel> {
    UsersClient::new(channel.clone())
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX)
}

/// Creates a user (as whoever `channel` is).
pub async fn create_user(
    channel: &Channel,
    login: &str,
    password: &str,
    groups: &[&str],
) -> Result<(), Status> {
    create(
        channel,
        login,
        password,
        groups.iter().map(|g| (*g).to_owned()).collect(),
    )
    .await
}

async fn create(
    channel: &Channel,
    login: &str,
    password: &str,
    groups: Vec<String>,
) -> Result<(), Status> {
    client(channel)
        .create(CreateReq {
            options: Some(create_req::Options {
                login_name: login.to_owned(),
                password: password.to_owned(),
                full_name: "Hostile".to_owned(),
                groups,
            }),
        })
        .await
        .map(drop)
}

/// The details of `login` (`""`: everyone's).
async fn details(channel: &Channel, login: &str) -> Result<Vec<String>, Status> {
    let mut stream = client(channel)
        .details(DetailsReq {
            options: Some(details_req::Options {
                login_name: login.to_owned(),
            }),
        })
        .await?
        .into_inner();
    let mut logins = Vec::new();
    while let Some(d) = stream.message().await? {
        logins.push(d.user_details.expect("details").login_name);
    }
    Ok(logins)
}

/// Every management call on `login` (all of them `$admins`' business).
async fn manage_all(channel: &Channel, login: &str) -> Vec<(&'static str, Result<(), Status>)> {
    let mut c = client(channel);
    let name = login.to_owned();
    vec![
        ("create", create(channel, login, "pw", Vec::new()).await),
        (
            "update",
            c.update(UpdateReq {
                options: Some(update_req::Options {
                    login_name: name.clone(),
                    ..Default::default()
                }),
            })
            .await
            .map(drop),
        ),
        (
            "disable",
            c.disable(DisableReq {
                options: Some(disable_req::Options {
                    login_name: name.clone(),
                }),
            })
            .await
            .map(drop),
        ),
        (
            "enable",
            c.enable(EnableReq {
                options: Some(enable_req::Options {
                    login_name: name.clone(),
                }),
            })
            .await
            .map(drop),
        ),
        (
            "reset password",
            c.reset_password(ResetPasswordReq {
                options: Some(reset_password_req::Options {
                    login_name: name.clone(),
                    new_password: "x".to_owned(),
                }),
            })
            .await
            .map(drop),
        ),
        (
            "delete",
            c.delete(DeleteReq {
                options: Some(delete_req::Options { login_name: name }),
            })
            .await
            .map(drop),
        ),
    ]
}

pub fn cases() -> Vec<Case> {
    vec![
        case!("users with an empty login", |c| async move {
            for (what, result) in manage_all(&c.channel, "").await {
                if c.may(Rights::Admin) {
                    // KurrentDB's clients refuse an empty login before
                    // sending; this server refuses it too (see
                    // services/users.rs).
                    let e = result.expect_err(what);
                    assert_eq!(e.code(), Code::InvalidArgument, "{what}: {e:?}");
                    assert_eq!(e.message(), "The login name must not be empty.");
                } else {
                    assert_denied(&result, what);
                }
            }
            // An empty login to Details lists every user: `$admins` only.
            let all = details(&c.channel, "").await;
            if c.may(Rights::Admin) {
                assert!(all.unwrap().iter().any(|l| l == LOW_LOGIN));
            } else {
                assert_denied(&all, "details of everyone");
            }
        })
        .needs(Rights::Admin),
        case!("a login over 4 KiB", |c| async move {
            let long = "l".repeat(100_000);
            for (what, result) in manage_all(&c.channel, &long).await {
                if c.may(Rights::Admin) {
                    let e = result.expect_err(what);
                    assert_eq!(e.code(), Code::InvalidArgument, "{what}: {e:?}");
                    assert_eq!(
                        e.message(),
                        "The login name is 100000 bytes long; the maximum is 4096 bytes."
                    );
                } else {
                    assert_denied(&result, what);
                }
            }
        })
        .needs(Rights::Admin),
        case!("a user with 100,000 groups", |c| async move {
            let groups: Vec<String> = (0..100_000).map(|i| format!("group-{i:08}")).collect();
            let result = create(&c.channel, "hostile-groups", "pw", groups).await;
            if !c.may(Rights::Admin) {
                return assert_denied(&result, "create");
            }
            result.expect("a user with many groups is created");
            let mut stream = client(&c.channel)
                .details(DetailsReq {
                    options: Some(details_req::Options {
                        login_name: "hostile-groups".to_owned(),
                    }),
                })
                .await
                .unwrap()
                .into_inner();
            let d = stream
                .message()
                .await
                .unwrap()
                .unwrap()
                .user_details
                .unwrap();
            assert_eq!(d.groups.len(), 100_000);
            assert_eq!(d.groups[99_999], "group-00099999");
        })
        .needs(Rights::Admin),
        case!(
            "a login with control characters, `$` and `/`",
            |c| async move {
                let login = "bad\u{0}\n\t$user/../..";
                let result = create(&c.channel, login, "pw", Vec::new()).await;
                if !c.may(Rights::Admin) {
                    return assert_denied(&result, "create");
                }
                // KurrentDB takes any string as a login.
                result.expect("created");
                assert_eq!(details(&c.channel, login).await.unwrap(), vec![login]);
                let deleted = client(&c.channel)
                    .delete(DeleteReq {
                        options: Some(delete_req::Options {
                            login_name: login.to_owned(),
                        }),
                    })
                    .await;
                deleted.expect("deleted");
                let e = details(&c.channel, login).await.unwrap_err();
                assert_eq!(e.code(), Code::NotFound);
            }
        )
        .needs(Rights::Admin),
        case!("user requests without options", |c| async move {
            let mut u = client(&c.channel);
            let results = [
                (
                    "create",
                    u.create(CreateReq { options: None }).await.map(drop),
                ),
                (
                    "update",
                    u.update(UpdateReq { options: None }).await.map(drop),
                ),
                (
                    "delete",
                    u.delete(DeleteReq { options: None }).await.map(drop),
                ),
                (
                    "disable",
                    u.disable(DisableReq { options: None }).await.map(drop),
                ),
                (
                    "enable",
                    u.enable(EnableReq { options: None }).await.map(drop),
                ),
                (
                    "reset password",
                    u.reset_password(ResetPasswordReq { options: None })
                        .await
                        .map(drop),
                ),
            ];
            for (what, result) in results {
                if c.may(Rights::Admin) {
                    // KurrentDB dereferences the options and throws: the
                    // handler's exception.
                    let e = result.expect_err(what);
                    assert_eq!(e.code(), Code::Unknown, "{what}: {e:?}");
                } else {
                    assert_denied(&result, what);
                }
            }
        })
        .needs(Rights::Admin),
        case!("the details of a missing user", |c| async move {
            let result = details(&c.channel, "hostile-nobody").await;
            // `$admins`, or the user itself: nobody else.
            if c.may(Rights::Admin) {
                let e = result.unwrap_err();
                assert_eq!(e.code(), Code::NotFound);
                assert_eq!(e.message(), "User 'hostile-nobody' is not found.");
                assert_eq!(
                    crate::common::trailer(&e, "exception"),
                    Some("user-not-found")
                );
            } else {
                assert_denied(&result, "details");
            }
            // A low-rights user reads its own details.
            if c.may(Rights::Authenticated) {
                assert_eq!(
                    details(&c.channel, LOW_LOGIN).await.unwrap(),
                    vec![LOW_LOGIN]
                );
            }
        }),
        case!(
            "changing a password with a wrong current one, or someone else's",
            |c| async move {
                for login in [LOW_LOGIN, "admin", ""] {
                    let result = client(&c.channel)
                        .change_password(ChangePasswordReq {
                            options: Some(change_password_req::Options {
                                login_name: login.to_owned(),
                                current_password: "wrong".to_owned(),
                                new_password: "new".to_owned(),
                            }),
                        })
                        .await;
                    if c.caller == crate::Caller::Insecure {
                        // Nobody is checked, but the login and the current
                        // password are (an insecure server has no `admin`).
                        let e = result.unwrap_err();
                        let expected = match login {
                            LOW_LOGIN => Code::PermissionDenied,
                            "admin" => Code::NotFound,
                            _ => Code::InvalidArgument,
                        };
                        assert_eq!(e.code(), expected, "{login}: {e:?}");
                    } else {
                        // Only the user may change its password (not even
                        // `admin` another's), and only with the right one.
                        assert_denied(&result, login);
                    }
                }
            }
        )
        .needs(Rights::Admin),
    ]
}
