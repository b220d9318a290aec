//! The options of the Users service's calls.

options! {
    /// Options of [`create_user`](crate::AsyncKurrentDBClient::create_user).
    CreateUserOptions {}
}

options! {
    /// Options of [`update_user`](crate::AsyncKurrentDBClient::update_user).
    UpdateUserOptions {}
}

options! {
    /// Options of [`delete_user`](crate::AsyncKurrentDBClient::delete_user).
    DeleteUserOptions {}
}

options! {
    /// Options of [`enable_user`](crate::AsyncKurrentDBClient::enable_user).
    EnableUserOptions {}
}

options! {
    /// Options of [`disable_user`](crate::AsyncKurrentDBClient::disable_user).
    DisableUserOptions {}
}

options! {
    /// Options of [`get_user`](crate::AsyncKurrentDBClient::get_user).
    GetUserOptions {}
}

options! {
    /// Options of [`list_users`](crate::AsyncKurrentDBClient::list_users).
    ListUsersOptions {}
}

options! {
    /// Options of [`change_user_password`](crate::AsyncKurrentDBClient::change_user_password).
    ChangeUserPasswordOptions {}
}

options! {
    /// Options of [`reset_user_password`](crate::AsyncKurrentDBClient::reset_user_password).
    ResetUserPasswordOptions {}
}
