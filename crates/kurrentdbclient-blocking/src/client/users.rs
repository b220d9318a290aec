//! The blocking twins of the users service's calls.

use kurrentdbclient::{
    ChangeUserPasswordOptions, CreateUserOptions, DeleteUserOptions, DisableUserOptions,
    EnableUserOptions, GetUserOptions, ListUsersOptions, ResetUserPasswordOptions, Result,
    UpdateUserOptions, UserDetails,
};

use super::KurrentDBClient;

// For the doc links to each method's async twin.
#[cfg(doc)]
use kurrentdbclient::AsyncKurrentDBClient;

impl KurrentDBClient {
    /// Creates a user (see [`AsyncKurrentDBClient::create_user`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, CreateUserOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.create_user("ann", "Ann Smith", &["$ops".to_owned()], "s3cret", &CreateUserOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn create_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        password: &str,
        options: &CreateUserOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .create_user(login, full_name, groups, password, options),
        )
    }

    /// Sets a user's full name and groups (see [`AsyncKurrentDBClient::update_user`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, UpdateUserOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.update_user("ann", "Ann Jones", &[], &UpdateUserOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn update_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        options: &UpdateUserOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .update_user(login, full_name, groups, options),
        )
    }

    /// Deletes a user (see [`AsyncKurrentDBClient::delete_user`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, DeleteUserOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.delete_user("ann", &DeleteUserOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn delete_user(&self, login: &str, options: &DeleteUserOptions) -> Result<()> {
        self.block_on(self.async_client().delete_user(login, options))
    }

    /// Enables a user (see [`AsyncKurrentDBClient::enable_user`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, EnableUserOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.enable_user("ann", &EnableUserOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn enable_user(&self, login: &str, options: &EnableUserOptions) -> Result<()> {
        self.block_on(self.async_client().enable_user(login, options))
    }

    /// Disables a user (see [`AsyncKurrentDBClient::disable_user`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, DisableUserOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.disable_user("ann", &DisableUserOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn disable_user(&self, login: &str, options: &DisableUserOptions) -> Result<()> {
        self.block_on(self.async_client().disable_user(login, options))
    }

    /// One user's details (see [`AsyncKurrentDBClient::get_user`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, GetUserOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let admin = client.get_user("admin", &GetUserOptions::default())?;
    /// println!("{:?}", admin.groups);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_user(&self, login: &str, options: &GetUserOptions) -> Result<UserDetails> {
        self.block_on(self.async_client().get_user(login, options))
    }

    /// Every user, by login (see [`AsyncKurrentDBClient::list_users`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ListUsersOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// for user in client.list_users(&ListUsersOptions::default())? {
    ///     println!("{}", user.login_name);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn list_users(&self, options: &ListUsersOptions) -> Result<Vec<UserDetails>> {
        self.block_on(self.async_client().list_users(options))
    }

    /// Changes a user's password given its current one (see [`AsyncKurrentDBClient::change_user_password`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ChangeUserPasswordOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.change_user_password("ann", "s3cret", "n3w", &ChangeUserPasswordOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn change_user_password(
        &self,
        login: &str,
        current_password: &str,
        new_password: &str,
        options: &ChangeUserPasswordOptions,
    ) -> Result<()> {
        self.block_on(self.async_client().change_user_password(
            login,
            current_password,
            new_password,
            options,
        ))
    }

    /// Sets a user's password (an administrator's reset) (see [`AsyncKurrentDBClient::reset_user_password`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ResetUserPasswordOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.reset_user_password("ann", "fresh", &ResetUserPasswordOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn reset_user_password(
        &self,
        login: &str,
        new_password: &str,
        options: &ResetUserPasswordOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .reset_user_password(login, new_password, options),
        )
    }
}
