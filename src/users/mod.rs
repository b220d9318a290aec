//! User management: the requests of the `Users` service and the typed
//! [`UserDetails`] its `Details` call answers with. The methods are on
//! [`AsyncKurrentDBClient`](crate::AsyncKurrentDBClient) (`create_user`,
//! `get_user`, `list_users`, ...).
//!
//! A missing user gives [`Error::NotFound`] (what: the login); creating a user
//! that exists with another password gives [`Error::AlreadyExists`]; a wrong
//! current password to `change_user_password`, or a caller who may not manage
//! users, gives [`Error::AccessDenied`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::proto::users as pu;

/// A user, as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserDetails {
    /// The login.
    pub login_name: String,
    /// The full name.
    pub full_name: String,
    /// The groups (roles) the user is in, such as `$admins` or `$ops`.
    pub groups: Vec<String>,
    /// Whether the user is disabled (cannot authenticate).
    pub disabled: bool,
    /// When the user was last changed, if the server says.
    pub last_updated: Option<SystemTime>,
}

/// .NET ticks (100 ns) since the Unix epoch as a time; `None` when out of
/// range.
fn from_ticks(ticks: i64) -> Option<SystemTime> {
    let ticks = u64::try_from(ticks).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_nanos(ticks.checked_mul(100)?))
}

impl UserDetails {
    pub(crate) fn from_response(response: pu::DetailsResp) -> Result<UserDetails> {
        let details = response
            .user_details
            .ok_or_else(|| Error::Protocol("user details response without details".into()))?;
        Ok(UserDetails {
            login_name: details.login_name,
            full_name: details.full_name,
            groups: details.groups,
            disabled: details.disabled,
            last_updated: details
                .last_updated
                .and_then(|t| from_ticks(t.ticks_since_epoch)),
        })
    }
}

/// Refuses an empty login before anything is sent.
pub(crate) fn check_login(login: &str) -> Result<()> {
    if login.is_empty() {
        return Err(Error::Programming("the login name is empty".into()));
    }
    Ok(())
}

pub(crate) fn create(
    login: &str,
    full_name: &str,
    groups: &[String],
    password: &str,
) -> Result<pu::CreateReq> {
    check_login(login)?;
    Ok(pu::CreateReq {
        options: Some(pu::create_req::Options {
            login_name: login.to_owned(),
            password: password.to_owned(),
            full_name: full_name.to_owned(),
            groups: groups.to_vec(),
        }),
    })
}

pub(crate) fn update(login: &str, full_name: &str, groups: &[String]) -> Result<pu::UpdateReq> {
    check_login(login)?;
    Ok(pu::UpdateReq {
        options: Some(pu::update_req::Options {
            login_name: login.to_owned(),
            password: String::new(),
            full_name: full_name.to_owned(),
            groups: groups.to_vec(),
        }),
    })
}

pub(crate) fn delete(login: &str) -> Result<pu::DeleteReq> {
    check_login(login)?;
    Ok(pu::DeleteReq {
        options: Some(pu::delete_req::Options {
            login_name: login.to_owned(),
        }),
    })
}

pub(crate) fn enable(login: &str) -> Result<pu::EnableReq> {
    check_login(login)?;
    Ok(pu::EnableReq {
        options: Some(pu::enable_req::Options {
            login_name: login.to_owned(),
        }),
    })
}

pub(crate) fn disable(login: &str) -> Result<pu::DisableReq> {
    check_login(login)?;
    Ok(pu::DisableReq {
        options: Some(pu::disable_req::Options {
            login_name: login.to_owned(),
        }),
    })
}

/// Details of one user (`Some(login)`) or all (`None`).
pub(crate) fn details(login: Option<&str>) -> Result<pu::DetailsReq> {
    if let Some(login) = login {
        check_login(login)?;
    }
    Ok(pu::DetailsReq {
        options: Some(pu::details_req::Options {
            login_name: login.unwrap_or_default().to_owned(),
        }),
    })
}

pub(crate) fn change_password(
    login: &str,
    current_password: &str,
    new_password: &str,
) -> Result<pu::ChangePasswordReq> {
    check_login(login)?;
    Ok(pu::ChangePasswordReq {
        options: Some(pu::change_password_req::Options {
            login_name: login.to_owned(),
            current_password: current_password.to_owned(),
            new_password: new_password.to_owned(),
        }),
    })
}

pub(crate) fn reset_password(login: &str, new_password: &str) -> Result<pu::ResetPasswordReq> {
    check_login(login)?;
    Ok(pu::ResetPasswordReq {
        options: Some(pu::reset_password_req::Options {
            login_name: login.to_owned(),
            new_password: new_password.to_owned(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_convert_and_out_of_range_is_none() {
        assert_eq!(
            from_ticks(10_000_000),
            Some(UNIX_EPOCH + Duration::from_secs(1))
        );
        assert_eq!(from_ticks(-1), None);
        assert!(matches!(
            create("", "", &[], "x"),
            Err(Error::Programming(_))
        ));
        assert!(matches!(details(Some("")), Err(Error::Programming(_))));
        assert!(details(None).is_ok());
    }
}
