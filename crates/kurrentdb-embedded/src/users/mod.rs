//! Users as KurrentDB keeps them: each user is the last event of its
//! `$user-<login>` stream (`$UserCreated`, then `$UserUpdated`, JSON with
//! `loginName`, `fullName`, `salt`, `hash`, `disabled`, `groups`), every
//! creation is a `$User` event in `$users` whose data is the login, and each
//! password change, reset, update, disable or delete a `$PasswordChanged`
//! event in `$users-password-notifications` (KurrentDB's
//! `UserManagementService`). The streams are the only state: nothing here is
//! cached, so what a client reads from them is what the server uses.
//!
//! At start the default users are created when their streams do not exist:
//! `admin` in `$admins` and `ops` in `$ops`, password `changeit`.
//!
//! Hashing is deliberately slow ([`password`]): call these methods off the
//! async workers ([`Users::run`]).

pub(crate) mod password;

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::{
    CurrentRevision, Deletion, Direction, ExpectedRevision, ProposedEvent, Store, StreamWrite,
    WriteError,
};

/// The stream listing every user ever created.
pub(crate) const USERS_STREAM: &str = "$users";
/// The stream of password-change notifications.
pub(crate) const PASSWORD_NOTIFICATIONS_STREAM: &str = "$users-password-notifications";
/// The default password of `admin` and `ops` (KurrentDB's
/// `DefaultAdminPassword`/`DefaultOpsPassword`).
pub(crate) const DEFAULT_PASSWORD: &str = "changeit";

/// A user's event data, as KurrentDB writes it (`UserData`, camelCase).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserData {
    login_name: String,
    full_name: String,
    salt: String,
    hash: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    groups: Vec<String>,
}

/// What the Details call returns for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserDetails {
    /// The login.
    pub(crate) login_name: String,
    /// The full name.
    pub(crate) full_name: String,
    /// The groups (roles), e.g. `$admins`.
    pub(crate) groups: Vec<String>,
    /// Whether the user is disabled.
    pub(crate) disabled: bool,
    /// When the user was last changed, in .NET ticks since the Unix epoch.
    pub(crate) last_updated_ticks: i64,
}

/// Why a user operation was refused (KurrentDB's `UserManagementMessage.Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserError {
    /// No such user (never created, or deleted).
    NotFound,
    /// A user with that login exists (with another password).
    Conflict,
    /// The current password given to a password change is wrong.
    Unauthorized,
    /// A concurrent change won: try again.
    TryAgain,
}

/// The users of a server, over its store.
#[derive(Debug, Clone)]
pub(crate) struct Users {
    store: Arc<Store>,
}

fn user_stream(login: &str) -> Bytes {
    Bytes::from(format!("$user-{login}"))
}

fn system_event(event_type: &str, is_json: bool, data: Vec<u8>) -> ProposedEvent {
    ProposedEvent {
        id: Uuid::new_v4(),
        event_type: event_type.to_owned(),
        is_json,
        data: Bytes::from(data),
        metadata: Bytes::new(),
    }
}

/// A user's current data and the revision it was read at.
struct Current {
    data: UserData,
    revision: u64,
    created: i64,
}

impl Users {
    /// The users kept in `store`'s streams.
    pub(crate) fn new(store: Arc<Store>) -> Users {
        Users { store }
    }

    /// Runs `f` over these users on tokio's blocking pool, where hashing
    /// a password may take its time: how the Users service and the web
    /// UI's user actions call the methods below. A task that could not
    /// finish (the runtime shutting down) is [`UserError::TryAgain`].
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Users) -> Result<T, UserError> + Send + 'static,
    ) -> Result<T, UserError> {
        let users = self.clone();
        tokio::task::spawn_blocking(move || f(&users))
            .await
            .unwrap_or_else(|e| {
                tracing::error!("a user operation did not finish: {e}");
                Err(UserError::TryAgain)
            })
    }

    /// Creates `admin` (`$admins`) and `ops` (`$ops`) with the default
    /// password unless their streams exist (as KurrentDB on becoming leader).
    pub(crate) fn ensure_defaults(&self) {
        for (login, full_name, group) in [
            ("admin", "KurrentDB Administrator", "$admins"),
            ("ops", "KurrentDB Operations", "$ops"),
        ] {
            if self.store.stream_state(&user_stream(login)).0 == CurrentRevision::NoStream {
                let _ = self.create(login, full_name, &[group.to_owned()], DEFAULT_PASSWORD);
            }
        }
    }

    fn read(&self, login: &str) -> Result<Current, UserError> {
        let batch = self
            .store
            .read_stream(&user_stream(login), None, Direction::Backwards, 1, false)
            .map_err(|_| UserError::NotFound)?;
        let record = &batch
            .events
            .first()
            .ok_or(UserError::NotFound)?
            .original()
            .record;
        // An event a client wrote into the stream that is not a user reads as
        // no user, as KurrentDB's JSON parse would fail the same way.
        let data = serde_json::from_slice(&record.data()).map_err(|_| UserError::NotFound)?;
        Ok(Current {
            data,
            revision: record.revision,
            created: record.created,
        })
    }

    fn write(
        &self,
        data: &UserData,
        event_type: &str,
        expected: ExpectedRevision,
    ) -> Result<(), UserError> {
        let json = serde_json::to_vec(data).map_err(|_| UserError::TryAgain)?;
        self.store
            .append(vec![StreamWrite {
                stream: user_stream(&data.login_name),
                expected,
                events: vec![system_event(event_type, true, json)],
            }])
            .map(drop)
            .map_err(write_error)
    }

    fn notify_password_changed(&self, login: &str) {
        let data = serde_json::json!({ "loginName": login }).to_string();
        let _ = self.store.append(vec![StreamWrite {
            stream: Bytes::from_static(PASSWORD_NOTIFICATIONS_STREAM.as_bytes()),
            expected: ExpectedRevision::Any,
            events: vec![system_event("$PasswordChanged", true, data.into_bytes())],
        }]);
    }

    /// Creates a user. Creating an existing user again with the same
    /// password succeeds without a change (KurrentDB's idempotence); with
    /// another password it is a [`UserError::Conflict`].
    pub(crate) fn create(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        password: &str,
    ) -> Result<(), UserError> {
        if let Ok(current) = self.read(login) {
            return if password::verify(password, &current.data.hash, &current.data.salt) {
                Ok(())
            } else {
                Err(UserError::Conflict)
            };
        }
        let expected = match self.store.stream_state(&user_stream(login)).0 {
            CurrentRevision::NoStream => ExpectedRevision::NoStream,
            // Deleted (soft): the stream's revisions go on.
            CurrentRevision::Revision(r) => ExpectedRevision::Exact(r),
        };
        let (hash, salt) = password::hash(password);
        let data = UserData {
            login_name: login.to_owned(),
            full_name: full_name.to_owned(),
            salt,
            hash,
            disabled: false,
            groups: groups.to_vec(),
        };
        self.write(&data, "$UserCreated", expected)?;
        self.store
            .append(vec![StreamWrite {
                stream: Bytes::from_static(USERS_STREAM.as_bytes()),
                expected: ExpectedRevision::Any,
                events: vec![system_event("$User", false, login.as_bytes().to_vec())],
            }])
            .map(drop)
            .map_err(write_error)
    }

    /// Reads the user, changes it with `change` and writes it back as
    /// `$UserUpdated` at the revision read (a concurrent change:
    /// [`UserError::TryAgain`]).
    fn update_with(
        &self,
        login: &str,
        notify: bool,
        change: impl FnOnce(&mut UserData) -> Result<(), UserError>,
    ) -> Result<(), UserError> {
        let Current {
            mut data, revision, ..
        } = self.read(login)?;
        change(&mut data)?;
        self.write(&data, "$UserUpdated", ExpectedRevision::Exact(revision))?;
        if notify {
            self.notify_password_changed(login);
        }
        Ok(())
    }

    /// Sets a user's full name and groups.
    pub(crate) fn update(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
    ) -> Result<(), UserError> {
        self.update_with(login, true, |data| {
            data.full_name = full_name.to_owned();
            data.groups = groups.to_vec();
            Ok(())
        })
    }

    /// Enables or disables a user.
    pub(crate) fn set_disabled(&self, login: &str, disabled: bool) -> Result<(), UserError> {
        self.update_with(login, disabled, |data| {
            data.disabled = disabled;
            Ok(())
        })
    }

    /// Sets a new password (an administrator's reset).
    pub(crate) fn reset_password(&self, login: &str, new_password: &str) -> Result<(), UserError> {
        let (hash, salt) = password::hash(new_password);
        self.update_with(login, true, |data| {
            data.hash = hash;
            data.salt = salt;
            Ok(())
        })
    }

    /// Changes a password given the current one ([`UserError::Unauthorized`]
    /// when it is wrong).
    pub(crate) fn change_password(
        &self,
        login: &str,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), UserError> {
        self.update_with(login, true, |data| {
            if !password::verify(current_password, &data.hash, &data.salt) {
                return Err(UserError::Unauthorized);
            }
            (data.hash, data.salt) = password::hash(new_password);
            Ok(())
        })
    }

    /// Deletes a user: its stream is soft deleted (it stays listed in
    /// `$users`, and can be created again).
    pub(crate) fn delete(&self, login: &str) -> Result<(), UserError> {
        let current = self.read(login)?;
        self.store
            .delete(
                &user_stream(login),
                ExpectedRevision::Exact(current.revision),
                Deletion::Soft,
            )
            .map_err(write_error)?;
        self.notify_password_changed(login);
        Ok(())
    }

    /// One user's details.
    pub(crate) fn details(&self, login: &str) -> Result<UserDetails, UserError> {
        let current = self.read(login)?;
        Ok(UserDetails {
            login_name: login.to_owned(),
            full_name: current.data.full_name,
            groups: current.data.groups,
            disabled: current.data.disabled,
            last_updated_ticks: current.created,
        })
    }

    /// Every user (listed in `$users` and not deleted), by login.
    pub(crate) fn all(&self) -> Vec<UserDetails> {
        let mut logins = Vec::new();
        let mut from = None;
        while let Ok(batch) = self.store.read_stream(
            USERS_STREAM.as_bytes(),
            from,
            Direction::Forwards,
            512,
            false,
        ) {
            logins.extend(
                batch
                    .events
                    .iter()
                    .map(|e| String::from_utf8_lossy(&e.original().record.data()).into_owned()),
            );
            match batch.next {
                Some(next) if !batch.events.is_empty() => from = Some(next),
                _ => break,
            }
        }
        logins.sort();
        logins.dedup();
        logins
            .iter()
            .filter_map(|login| self.details(login).ok())
            .collect()
    }

    /// The user `login` and the revision of its stream, if `password` is its
    /// password and it is enabled (basic authentication; slow).
    pub(crate) fn authenticate(&self, login: &str, password: &str) -> Option<(UserDetails, u64)> {
        let current = self.read(login).ok()?;
        (!current.data.disabled
            && password::verify(password, &current.data.hash, &current.data.salt))
        .then(|| {
            let details = UserDetails {
                login_name: login.to_owned(),
                full_name: current.data.full_name,
                groups: current.data.groups,
                disabled: false,
                last_updated_ticks: current.created,
            };
            (details, current.revision)
        })
    }

    /// The revision of the user's current event (`None`: no such user, or
    /// deleted). Any change to the user moves it. Cheap: no parsing.
    pub(crate) fn revision(&self, login: &str) -> Option<u64> {
        let batch = self
            .store
            .read_stream(&user_stream(login), None, Direction::Backwards, 1, false)
            .ok()?;
        batch.events.first().map(|e| e.original().record.revision)
    }
}

/// A write of a user's stream that lost a race (or met a deleted stream).
fn write_error(e: WriteError) -> UserError {
    match e {
        WriteError::WrongExpectedVersion { .. } => UserError::TryAgain,
        WriteError::StreamDeleted { .. } => UserError::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    fn users() -> Users {
        let users = Users::new(Arc::new(Store::new(StoreOptions::default())));
        users.ensure_defaults();
        users
    }

    #[test]
    fn defaults_and_their_streams() {
        let users = users();
        let all = users.all();
        let logins: Vec<_> = all.iter().map(|u| u.login_name.as_str()).collect();
        assert_eq!(logins, ["admin", "ops"]);
        assert_eq!(all[0].groups, ["$admins"]);
        assert_eq!(all[1].groups, ["$ops"]);
        assert!(users.authenticate("admin", "changeit").is_some());
        assert!(users.authenticate("admin", "wrong").is_none());
        assert!(users.authenticate("nobody", "changeit").is_none());
        // Started again over the same store: nothing is created twice.
        users.ensure_defaults();
        assert_eq!(users.all().len(), 2);
    }

    #[test]
    fn the_life_of_a_user() {
        let users = users();
        let groups = vec!["devs".to_owned()];
        users.create("ann", "Ann", &groups, "pw").unwrap();
        assert_eq!(users.create("ann", "Ann", &groups, "pw"), Ok(()));
        assert_eq!(
            users.create("ann", "Ann", &groups, "other"),
            Err(UserError::Conflict)
        );
        users.update("ann", "Ann B", &[]).unwrap();
        let ann = users.details("ann").unwrap();
        assert_eq!((ann.full_name.as_str(), ann.groups.len()), ("Ann B", 0));
        users.set_disabled("ann", true).unwrap();
        assert!(users.details("ann").unwrap().disabled);
        assert!(users.authenticate("ann", "pw").is_none(), "disabled");
        users.set_disabled("ann", false).unwrap();
        assert_eq!(
            users.change_password("ann", "wrong", "new"),
            Err(UserError::Unauthorized)
        );
        users.change_password("ann", "pw", "new").unwrap();
        assert!(users.authenticate("ann", "new").is_some());
        users.reset_password("ann", "reset").unwrap();
        assert!(users.authenticate("ann", "reset").is_some());
        users.delete("ann").unwrap();
        assert_eq!(users.details("ann"), Err(UserError::NotFound));
        assert_eq!(users.delete("ann"), Err(UserError::NotFound));
        assert_eq!(users.all().len(), 2);
        // Created again after the delete.
        users.create("ann", "Ann", &groups, "again").unwrap();
        assert!(users.authenticate("ann", "again").is_some());
        assert_eq!(users.all().len(), 3);
        for missing in [
            users.update("zed", "", &[]),
            users.set_disabled("zed", true),
            users.reset_password("zed", "x"),
            users.change_password("zed", "x", "y"),
        ] {
            assert_eq!(missing, Err(UserError::NotFound));
        }
    }
}
