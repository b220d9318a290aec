//! What the tests share: a bank-account aggregate and embedded servers.
#![allow(dead_code)]

use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use kurrentdb_embedded::{EmbeddedServer, RunProjections, Security, ServerOptions};
use kurrentdbclient::{AsyncKurrentDBClient, ReadStreamOptions, RecordedEvent};
use serde::{Deserialize, Serialize};

/// An account: opened once, then deposits and withdrawals that never take
/// the balance below zero.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub opened: bool,
    pub balance: i64,
    pub movements: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            AccountEvent::Opened => "AccountOpened",
            AccountEvent::Deposited { .. } => "MoneyDeposited",
            AccountEvent::Withdrew { .. } => "MoneyWithdrawn",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the account is already open")]
    AlreadyOpen,
    #[error("the account is not open")]
    NotOpen,
    #[error("insufficient funds")]
    InsufficientFunds,
}

impl Aggregate for Account {
    const TYPE: &'static str = "account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = ();

    async fn handle(
        &mut self,
        command: AccountCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), AccountError> {
        let event = match command {
            AccountCommand::Open if self.opened => return Err(AccountError::AlreadyOpen),
            AccountCommand::Open => AccountEvent::Opened,
            _ if !self.opened => return Err(AccountError::NotOpen),
            AccountCommand::Deposit(amount) => AccountEvent::Deposited { amount },
            AccountCommand::Withdraw(amount) if amount > self.balance => {
                return Err(AccountError::InsufficientFunds);
            }
            AccountCommand::Withdraw(amount) => AccountEvent::Withdrew { amount },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AccountEvent) {
        match event {
            AccountEvent::Opened => self.opened = true,
            AccountEvent::Deposited { amount } => self.balance += amount,
            AccountEvent::Withdrew { amount } => self.balance -= amount,
        }
        self.movements += 1;
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
