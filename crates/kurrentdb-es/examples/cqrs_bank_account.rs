//! A bank account on cqrs-es with KurrentDB as its event store, on an
//! embedded server started in-process:
//!
//! ```sh
//! cargo run -p kurrentdb-es --example cqrs_bank_account
//! ```
//!
//! (Its name is unique in the workspace: `eventually-kurrentdb` has a bank
//! account example too, and two examples of one name collide in the target
//! directory.)
//!
//! It opens an account, moves money, has an overdraft refused, prints what a
//! query saw, reloads the account from its events, and reads the stream as
//! any KurrentDB client would. With `KURRENTDB_URI` set it uses that server
//! instead of starting one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventEnvelope, EventStore, Query};
use kurrentdb_embedded::EmbeddedServer;
use kurrentdb_es::{KurrentDBEventRepository, kurrentdb_cqrs};
use kurrentdbclient::{AsyncKurrentDBClient, ReadStreamOptions};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
struct BankAccount {
    owner: Option<String>,
    balance_cents: i64,
}

#[derive(Debug)]
enum BankCommand {
    Open { owner: String },
    Deposit { cents: i64 },
    Withdraw { cents: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum BankEvent {
    AccountOpened { owner: String },
    MoneyDeposited { cents: i64 },
    MoneyWithdrawn { cents: i64 },
}

impl DomainEvent for BankEvent {
    fn event_type(&self) -> String {
        match self {
            BankEvent::AccountOpened { .. } => "AccountOpened",
            BankEvent::MoneyDeposited { .. } => "MoneyDeposited",
            BankEvent::MoneyWithdrawn { .. } => "MoneyWithdrawn",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, thiserror::Error)]
enum BankError {
    #[error("the account is open already")]
    AlreadyOpen,
    #[error("open the account first")]
    NotOpen,
    #[error("amounts are positive")]
    NotPositive,
    #[error("not enough money: {balance} cents on the account")]
    Overdraft { balance: i64 },
}

impl Aggregate for BankAccount {
    const TYPE: &'static str = "bankaccount";
    type Command = BankCommand;
    type Event = BankEvent;
    type Error = BankError;
    type Services = ();

    async fn handle(
        &mut self,
        command: BankCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), BankError> {
        let event = match command {
            BankCommand::Open { .. } if self.owner.is_some() => return Err(BankError::AlreadyOpen),
            BankCommand::Open { owner } => BankEvent::AccountOpened { owner },
            _ if self.owner.is_none() => return Err(BankError::NotOpen),
            BankCommand::Deposit { cents } | BankCommand::Withdraw { cents } if cents <= 0 => {
                return Err(BankError::NotPositive);
            }
            BankCommand::Deposit { cents } => BankEvent::MoneyDeposited { cents },
            BankCommand::Withdraw { cents } if cents > self.balance_cents => {
                return Err(BankError::Overdraft {
                    balance: self.balance_cents,
                });
            }
            BankCommand::Withdraw { cents } => BankEvent::MoneyWithdrawn { cents },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: BankEvent) {
        match event {
            BankEvent::AccountOpened { owner } => self.owner = Some(owner),
            BankEvent::MoneyDeposited { cents } => self.balance_cents += cents,
            BankEvent::MoneyWithdrawn { cents } => self.balance_cents -= cents,
        }
    }
}

/// A query that keeps a statement line per committed event.
#[derive(Default, Clone)]
struct Statement(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl Query<BankAccount> for Statement {
    async fn dispatch(&self, aggregate_id: &str, events: &[EventEnvelope<BankAccount>]) {
        let mut lines = self.0.lock().expect("statement lock");
        for event in events {
            lines.push(format!(
                "{aggregate_id} #{}: {:?}",
                event.sequence, event.payload
            ));
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A server of its own, or the one `KURRENTDB_URI` names (the Python
    // interop check reads what the example wrote there).
    let server = match std::env::var("KURRENTDB_URI") {
        Ok(_) => None,
        Err(_) => Some(EmbeddedServer::start().await?),
    };
    let uri = match &server {
        Some(server) => server.connection_string(),
        None => std::env::var("KURRENTDB_URI")?,
    };
    let client = AsyncKurrentDBClient::connect(&uri).await?;
    let statement = Statement::default();
    let cqrs = kurrentdb_cqrs::<BankAccount>(client.clone(), vec![Box::new(statement.clone())], ());

    let id = "acc-7";
    let metadata = HashMap::from([("teller".to_owned(), "desk 3".to_owned())]);
    cqrs.execute_with_metadata(
        id,
        BankCommand::Open {
            owner: "Ada".into(),
        },
        metadata,
    )
    .await?;
    cqrs.execute(id, BankCommand::Deposit { cents: 12_000 })
        .await?;
    cqrs.execute(id, BankCommand::Withdraw { cents: 4_550 })
        .await?;
    match cqrs
        .execute(id, BankCommand::Withdraw { cents: 100_000 })
        .await
    {
        Err(AggregateError::UserError(e)) => println!("refused: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    println!("statement:");
    for line in statement.0.lock().expect("statement lock").iter() {
        println!("  {line}");
    }

    let store = PersistedEventStore::<_, BankAccount>::new_event_store(
        KurrentDBEventRepository::new(client.clone()),
    );
    let account = store.load_aggregate(id).await?;
    println!(
        "reloaded: owner {:?}, balance {} cents, at sequence {}",
        account.aggregate.owner, account.aggregate.balance_cents, account.current_sequence
    );

    let stream = KurrentDBEventRepository::event_stream_name(BankAccount::TYPE, id)?;
    println!("stream {stream}, as any client reads it:");
    for event in client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await?
    {
        println!(
            "  {} {} data={} metadata={}",
            event.stream_position,
            event.r#type,
            String::from_utf8_lossy(&event.data),
            String::from_utf8_lossy(&event.metadata)
        );
    }
    Ok(())
}
