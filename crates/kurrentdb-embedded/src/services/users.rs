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
//! blocking pool.

use std::pin::Pin;

use futures::Stream;
use kurrentdbclient::proto::users::details_resp::{UserDetails as ProtoDetails, user_details};
use kurrentdbclient::proto::users::users_server::Users as UsersApi;
use kurrentdbclient::proto::users::*;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};

use super::{MAX_NAME_LEN, insert, malformed, name_too_long};
use crate::users::{UserDetails, UserError, Users};

/// The Users service.
#[derive(Debug, Clone)]
pub struct UsersService {
    users: Users,
}

impl UsersService {
    /// The service over `users`.
    pub fn new(users: Users) -> Self {
        UsersService { users }
    }

    /// Runs `f` on the users off the async workers, and maps its error.
    async fn run<T: Send + 'static>(
        &self,
        login: &str,
        f: impl FnOnce(&Users) -> Result<T, UserError> + Send + 'static,
    ) -> Result<T, Status> {
        let users = self.users.clone();
        tokio::task::spawn_blocking(move || f(&users))
            .await
            .map_err(|_| Status::internal("user operation failed"))?
            .map_err(|e| user_status(e, login))
    }
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

/// The login of a request, refused when empty or too long.
fn login(name: &str) -> Result<String, Status> {
    if name.is_empty() {
        return Err(Status::invalid_argument(
            "The login name must not be empty.",
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(name_too_long("login", name.len()));
    }
    Ok(name.to_owned())
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
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        self.run(&name, move |u| {
            u.create(&l, &o.full_name, &o.groups, &o.password)
        })
        .await?;
        Ok(Response::new(CreateResp {}))
    }

    async fn update(&self, request: Request<UpdateReq>) -> Result<Response<UpdateResp>, Status> {
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        // KurrentDB's Update sets the full name and groups; its password
        // field is ignored (ResetPassword sets a password).
        self.run(&name, move |u| u.update(&l, &o.full_name, &o.groups))
            .await?;
        Ok(Response::new(UpdateResp {}))
    }

    async fn delete(&self, request: Request<DeleteReq>) -> Result<Response<DeleteResp>, Status> {
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        self.run(&name, move |u| u.delete(&l)).await?;
        Ok(Response::new(DeleteResp {}))
    }

    async fn disable(&self, request: Request<DisableReq>) -> Result<Response<DisableResp>, Status> {
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        self.run(&name, move |u| u.set_disabled(&l, true)).await?;
        Ok(Response::new(DisableResp {}))
    }

    async fn enable(&self, request: Request<EnableReq>) -> Result<Response<EnableResp>, Status> {
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        self.run(&name, move |u| u.set_disabled(&l, false)).await?;
        Ok(Response::new(EnableResp {}))
    }

    type DetailsStream = DetailsStream;

    async fn details(
        &self,
        request: Request<DetailsReq>,
    ) -> Result<Response<Self::DetailsStream>, Status> {
        let name = request
            .into_inner()
            .options
            .map(|o| o.login_name)
            .unwrap_or_default();
        let users = if name.trim().is_empty() {
            self.run("", |u| Ok(u.all())).await?
        } else {
            let l = login(&name)?;
            vec![self.run(&name, move |u| u.details(&l)).await?]
        };
        let messages = users.into_iter().map(|u| Ok(details_message(u)));
        Ok(Response::new(Box::pin(futures::stream::iter(
            messages.collect::<Vec<_>>(),
        ))))
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordReq>,
    ) -> Result<Response<ChangePasswordResp>, Status> {
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        self.run(&name, move |u| {
            u.change_password(&l, &o.current_password, &o.new_password)
        })
        .await?;
        Ok(Response::new(ChangePasswordResp {}))
    }

    async fn reset_password(
        &self,
        request: Request<ResetPasswordReq>,
    ) -> Result<Response<ResetPasswordResp>, Status> {
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no options"))?;
        let name = login(&o.login_name)?;
        let l = name.clone();
        self.run(&name, move |u| u.reset_password(&l, &o.new_password))
            .await?;
        Ok(Response::new(ResetPasswordResp {}))
    }
}
