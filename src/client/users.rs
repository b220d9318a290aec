//! The users service's operations: creating, updating, deleting, enabling and
//! disabling users, their details, and changing or resetting passwords.
//! Requests are built and answers read by [`crate::users`].
//!
//! Changes go to the leader ([`CallKind::Management`]); details are queries.
//! A missing user gives [`Error::NotFound`]; creating a user that exists
//! with another password gives [`Error::AlreadyExists`]; a wrong current
//! password, or a caller not allowed to manage users, gives
//! [`Error::AccessDenied`].

use futures::StreamExt;

use super::AsyncKurrentDBClient;
use super::call::CallKind;
use crate::error::{Error, Result};
use crate::options::*;
use crate::telemetry::{client_span, traced};
use crate::users::{self, UserDetails};

impl AsyncKurrentDBClient {
    /// Creates a user with a login, full name, groups (roles such as
    /// `$admins`) and password. Creating it again with the same password
    /// succeeds; with another password it gives [`Error::AlreadyExists`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, CreateUserOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .create_user("ann", "Ann Smith", &["$ops".to_owned()], "s3cret", &CreateUserOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        password: &str,
        options: &CreateUserOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.create_user", "client"),
            async {
                let request = users::create(login, full_name, groups, password)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().create(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Sets a user's full name and groups.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, UpdateUserOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.update_user("ann", "Ann Jones", &[], &UpdateUserOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        options: &UpdateUserOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.update_user", "client"),
            async {
                let request = users::update(login, full_name, groups)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().update(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Deletes a user.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, DeleteUserOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.delete_user("ann", &DeleteUserOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user(&self, login: &str, options: &DeleteUserOptions) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.delete_user", "client"),
            async {
                let request = users::delete(login)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().delete(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Enables a user (it can authenticate again).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, EnableUserOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.enable_user("ann", &EnableUserOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable_user(&self, login: &str, options: &EnableUserOptions) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.enable_user", "client"),
            async {
                let request = users::enable(login)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().enable(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Disables a user (it can no longer authenticate).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, DisableUserOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.disable_user("ann", &DisableUserOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn disable_user(&self, login: &str, options: &DisableUserOptions) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.disable_user", "client"),
            async {
                let request = users::disable(login)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().disable(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }

    /// One user's details ([`Error::NotFound`] when there is no such user).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, GetUserOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let admin = client.get_user("admin", &GetUserOptions::default()).await?;
    /// assert!(admin.groups.contains(&"$admins".to_owned()));
    /// # Ok(()) }
    /// ```
    pub async fn get_user(&self, login: &str, options: &GetUserOptions) -> Result<UserDetails> {
        traced(
            client_span!("AsyncKurrentDBClient.get_user", "client"),
            async {
                self.user_details(Some(login), options)
                    .await?
                    .pop()
                    .ok_or_else(|| Error::Protocol("the details call returned no user".into()))
            },
        )
        .await
    }

    /// Every user, by login.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ListUsersOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// for user in client.list_users(&ListUsersOptions::default()).await? {
    ///     println!("{} ({}) {:?}", user.login_name, user.full_name, user.groups);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_users(&self, options: &ListUsersOptions) -> Result<Vec<UserDetails>> {
        traced(
            client_span!("AsyncKurrentDBClient.list_users", "client"),
            async { self.user_details(None, options).await },
        )
        .await
    }

    /// Sends a details request and collects the streamed answers.
    async fn user_details(
        &self,
        login: Option<&str>,
        options: &impl CallOptions,
    ) -> Result<Vec<UserDetails>> {
        let request = users::details(login)?;
        self.run(CallKind::Query, options, |call| {
            let request = call.request(request.clone());
            async move {
                let mut responses = call.users().details(request).await?.into_inner();
                let mut all = Vec::new();
                while let Some(response) = responses.next().await {
                    all.push(UserDetails::from_response(response?)?);
                }
                Ok(all)
            }
        })
        .await
    }

    /// Changes a user's password given its current one
    /// ([`Error::AccessDenied`] when the current password is wrong).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ChangeUserPasswordOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .change_user_password("ann", "s3cret", "n3w", &ChangeUserPasswordOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn change_user_password(
        &self,
        login: &str,
        current_password: &str,
        new_password: &str,
        options: &ChangeUserPasswordOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.change_user_password", "client"),
            async {
                let request = users::change_password(login, current_password, new_password)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().change_password(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Sets a user's password (an administrator's reset: the current one is
    /// not needed).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ResetUserPasswordOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .reset_user_password("ann", "fresh", &ResetUserPasswordOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn reset_user_password(
        &self,
        login: &str,
        new_password: &str,
        options: &ResetUserPasswordOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.reset_user_password", "client"),
            async {
                let request = users::reset_password(login, new_password)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.users().reset_password(r).await },
                )
                .await
                .map(drop)
            },
        )
        .await
    }
}
