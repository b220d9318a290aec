//! `event_store.client.users.Users`: user management over [`crate::users`],
//! with KurrentDB's statuses (`Users.cs` and `RpcExceptions` in
//! `KurrentDB.Core/Services/Transport/Grpc`):
//!
//! - no such user: `NOT_FOUND` "User 'L' is not found.", trailers
//!   `exception: user-not-found`, `login-name: L`;
//! - creating an existing user with another password: `FAILED_PRECONDITION`
//!   "Conflict.", `exception: user-conflict`;
//! - a concurrent change: `DEADLINE_EXCEEDED` "Try again.", `exception:
//!   user-conflict`;
//! - a wrong current password (ChangePassword): `PERMISSION_DENIED` "Access
//!   Denied", `exception: access-denied`.
//!
//! An empty login to Details lists every user; elsewhere it is refused with
//! `INVALID_ARGUMENT` (KurrentDB's clients refuse it before sending; a server
//! reached directly would name a user `""`, which nobody means).
//!
//! Password hashing is slow on purpose, so each call runs on tokio's
//! blocking pool (`Users::run`). The web UI's user actions call the same
//! `Users` methods, after the same checks.

use std::pin::Pin;

use futures::Stream;
use kurrentdbclient::proto::users::details_resp::{UserDetails as ProtoDetails, user_details};
use kurrentdbclient::proto::users::users_server::Users as UsersApi;
use kurrentdbclient::proto::users::*;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};

use super::{MAX_NAME_LEN, insert, malformed, name_too_long};
use crate::security::authz::{self, Operation};
use crate::users::{UserDetails, UserError, Users};

/// The Users service.
#[derive(Debug, Clone)]
pub(crate) struct UsersService {
    users: Users,
}

impl UsersService {
    /// The service over `users`.
    pub(crate) fn new(users: Users) -> Self {
        UsersService { users }
    }

    /// Runs `f` with the users and the (checked) login off the async
    /// workers, and maps its error to KurrentDB's status for that login.
    async fn run<T: Send + 'static>(
        &self,
        login_name: &str,
        f: impl FnOnce(&Users, &str) -> Result<T, UserError> + Send + 'static,
    ) -> Result<T, Status> {
        if login_name.len() > MAX_NAME_LEN {
            return Err(name_too_long("login", login_name.len()));
        }
        let login = login_name.to_owned();
        self.users
            .run(move |users| f(users, &login))
            .await
            .map_err(|e| user_status(e, login_name))
    }
}

/// A request's options, which every Users request must carry.
fn options<T>(options: Option<T>) -> Result<T, Status> {
    options.ok_or_else(|| malformed("no options"))
}

/// A request's login, refused when empty.
fn login(login_name: &str) -> Result<&str, Status> {
    if login_name.is_empty() {
        return Err(Status::invalid_argument(
            "The login name must not be empty.",
        ));
    }
    Ok(login_name)
}

/// KurrentDB's status for a refused user operation.
fn user_status(e: UserError, login: &str) -> Status {
    let (code, message, exception) = match e {
        UserError::NotFound => (
            Code::NotFound,
            format!("User '{login}' is not found."),
            "user-not-found",
        ),
        UserError::Conflict => (
            Code::FailedPrecondition,
            "Conflict.".to_owned(),
            "user-conflict",
        ),
        UserError::TryAgain => (
            Code::DeadlineExceeded,
            "Try again.".to_owned(),
            "user-conflict",
        ),
        UserError::Unauthorized => (
            Code::PermissionDenied,
            "Access Denied".to_owned(),
            "access-denied",
        ),
    };
    let mut meta = MetadataMap::new();
    insert(&mut meta, "exception", exception);
    if e != UserError::Unauthorized {
        insert(&mut meta, "login-name", login);
    }
    Status::with_metadata(code, message, meta)
}

fn details_message(user: UserDetails) -> DetailsResp {
    DetailsResp {
        user_details: Some(ProtoDetails {
            login_name: user.login_name,
            full_name: user.full_name,
            groups: user.groups,
            last_updated: Some(user_details::DateTime {
                ticks_since_epoch: user.last_updated_ticks,
            }),
            disabled: user.disabled,
        }),
    }
}

type DetailsStream = Pin<Box<dyn Stream<Item = Result<DetailsResp, Status>> + Send>>;

#[tonic::async_trait]
impl UsersApi for UsersService {
    async fn create(&self, request: Request<CreateReq>) -> Result<Response<CreateResp>, Status> {
        authz::check(request.extensions(), Operation::UsersManage)?;
        let o = options(request.into_inner().options)?;
        let name = login(&o.login_name)?.to_owned();
        self.run(&name, move |u, l| {
            u.create(l, &o.full_name, &o.groups, &o.password)
        })
        .await?;
        Ok(Response::new(CreateResp {}))
    }

    async fn update(&self, request: Request<UpdateReq>) -> Result<Response<UpdateResp>, Status> {
        authz::check(request.extensions(), Operation::UsersManage)?;
        let o = options(request.into_inner().options)?;
        let name = login(&o.login_name)?.to_owned();
        // KurrentDB's Update sets the full name and groups; its password
        // field is ignored (ResetPassword sets a password).
        self.run(&name, move |u, l| u.update(l, &o.full_name, &o.groups))
            .await?;
        Ok(Response::new(UpdateResp {}))
    }

    async fn delete(&self, request: Request<DeleteReq>) -> Result<Response<DeleteResp>, Status> {
        authz::check(request.extensions(), Operation::UsersManage)?;
        let o = options(request.into_inner().options)?;
        self.run(login(&o.login_name)?, |u, l| u.delete(l)).await?;
        Ok(Response::new(DeleteResp {}))
    }

    async fn disable(&self, request: Request<DisableReq>) -> Result<Response<DisableResp>, Status> {
        authz::check(request.extensions(), Operation::UsersManage)?;
        let o = options(request.into_inner().options)?;
        self.run(login(&o.login_name)?, |u, l| u.set_disabled(l, true))
            .await?;
        Ok(Response::new(DisableResp {}))
    }

    async fn enable(&self, request: Request<EnableReq>) -> Result<Response<EnableResp>, Status> {
        authz::check(request.extensions(), Operation::UsersManage)?;
        let o = options(request.into_inner().options)?;
        self.run(login(&o.login_name)?, |u, l| u.set_disabled(l, false))
            .await?;
        Ok(Response::new(EnableResp {}))
    }

    type DetailsStream = DetailsStream;

    async fn details(
        &self,
        request: Request<DetailsReq>,
    ) -> Result<Response<Self::DetailsStream>, Status> {
        let (_, extensions, message) = request.into_parts();
        let name = message.options.map(|o| o.login_name).unwrap_or_default();
        let operation = if name.trim().is_empty() {
            Operation::UsersManage
        } else {
            Operation::UsersRead(&name)
        };
        authz::check(&extensions, operation)?;
        let users = if name.trim().is_empty() {
            self.run("", |u, _| Ok(u.all())).await?
        } else {
            vec![self.run(&name, |u, l| u.details(l)).await?]
        };
        let messages: Vec<_> = users.into_iter().map(|u| Ok(details_message(u))).collect();
        Ok(Response::new(Box::pin(futures::stream::iter(messages))))
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordReq>,
    ) -> Result<Response<ChangePasswordResp>, Status> {
        let (_, extensions, message) = request.into_parts();
        // Access first, as KurrentDB checks it before reading the options:
        // a caller who may not is refused whatever the request holds.
        let named = message.options.as_ref().map_or("", |o| &o.login_name);
        authz::check(&extensions, Operation::UsersChangePassword(named))?;
        let o = options(message.options)?;
        let name = login(&o.login_name)?.to_owned();
        self.run(&name, move |u, l| {
            u.change_password(l, &o.current_password, &o.new_password)
        })
        .await?;
        Ok(Response::new(ChangePasswordResp {}))
    }

    async fn reset_password(
        &self,
        request: Request<ResetPasswordReq>,
    ) -> Result<Response<ResetPasswordResp>, Status> {
        authz::check(request.extensions(), Operation::UsersManage)?;
        let o = options(request.into_inner().options)?;
        let name = login(&o.login_name)?.to_owned();
        self.run(&name, move |u, l| u.reset_password(l, &o.new_password))
            .await?;
        Ok(Response::new(ResetPasswordResp {}))
    }
}
