//! What the tests share: a bank-account aggregate and embedded servers.
#![allow(dead_code)]

use std::time::Duration;

use eventually_core::aggregate::Aggregate;
use futures::FutureExt;
use futures::future::BoxFuture;
use kurrentdb_embedded::{EmbeddedServer, RunProjections, Security, ServerOptions};
use kurrentdbclient::{AsyncKurrentDBClient, ReadStreamOptions, RecordedEvent};
use serde::{Deserialize, Serialize};

/// An account's state.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Account {
    pub opened: bool,
    pub balance: i64,
}

#[derive(Debug, Clone)]
pub enum AccountCommand {
    Open,
    Deposit(i64),
    Withdraw(i64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    Opened,
    Deposited { amount: i64 },
    Withdrew { amount: i64 },
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum AccountError {
    #[error("the account is already open")]
    AlreadyOpen,
    #[error("the account is not open")]
    NotOpen,
    #[error("insufficient funds")]
    InsufficientFunds,
}

/// The account aggregate: opened once, never below zero.
#[derive(Debug, Clone, Copy)]
pub struct AccountAggregate;

impl Aggregate for AccountAggregate {
    type Id = String;
    type State = Account;
    type Event = AccountEvent;
    type Command = AccountCommand;
    type Error = AccountError;

    fn apply(mut state: Account, event: AccountEvent) -> Result<Account, AccountError> {
        match event {
            AccountEvent::Opened => state.opened = true,
            AccountEvent::Deposited { amount } => state.balance += amount,
            AccountEvent::Withdrew { amount } => state.balance -= amount,
        }
        Ok(state)
    }

    fn handle<'a, 's: 'a>(
        &'a self,
        _: &'s String,
        state: &'s Account,
        command: AccountCommand,
    ) -> BoxFuture<'a, Result<Option<Vec<AccountEvent>>, AccountError>> {
        async move {
            let event = match command {
                AccountCommand::Open if state.opened => return Err(AccountError::AlreadyOpen),
                AccountCommand::Open => AccountEvent::Opened,
                _ if !state.opened => return Err(AccountError::NotOpen),
                AccountCommand::Deposit(amount) => AccountEvent::Deposited { amount },
                AccountCommand::Withdraw(amount) if amount > state.balance => {
                    return Err(AccountError::InsufficientFunds);
                }
                AccountCommand::Withdraw(amount) => AccountEvent::Withdrew { amount },
            };
            Ok(Some(vec![event]))
        }
        .boxed()
    }
}

/// The server modes every scenario runs in.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// `--insecure`.
    Insecure,
    /// `--dev`: TLS, as `admin:changeit`.
    Secure,
}

/// An embedded server of the test's own, with the standard projections
/// running, and a client of it.
pub async fn start(mode: Mode) -> (EmbeddedServer, AsyncKurrentDBClient) {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: match mode {
            Mode::Insecure => Security::Insecure,
            Mode::Secure => Security::Dev,
        },
        run_projections: RunProjections::All,
        start_standard_projections: true,
        ..Default::default()
    })
    .await
    .expect("start the embedded server");
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .expect("connect");
    (server, client)
}

/// The events of a stream, read with the plain client (none when missing).
pub async fn raw_events(
    client: &AsyncKurrentDBClient,
    stream: &str,
    options: &ReadStreamOptions,
) -> Vec<RecordedEvent> {
    match client.get_stream(stream, options).await {
        Ok(events) => events,
        Err(kurrentdbclient::Error::NotFound { .. }) => Vec::new(),
        Err(e) => panic!("read {stream}: {e}"),
    }
}

/// Waits (10 s at most) until `stream` has `count` events, read with links
/// resolved, and returns them.
pub async fn await_events(
    client: &AsyncKurrentDBClient,
    stream: &str,
    count: usize,
) -> Vec<RecordedEvent> {
    let options = ReadStreamOptions::default().resolve_links(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let events = raw_events(client, stream, &options).await;
        if events.len() >= count || tokio::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
