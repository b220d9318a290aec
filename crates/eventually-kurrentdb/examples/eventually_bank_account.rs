//! A bank account on eventually with KurrentDB as its event store, on an
//! embedded server started in-process:
//!
//! ```sh
//! cargo run -p eventually-kurrentdb --example eventually_bank_account
//! ```
//!
//! (Its name is unique in the workspace: `kurrentdb-es` has a bank
//! account example too, and two examples of one name collide in the target
//! directory.)
//!
//! It opens an account and moves money through eventually's `Repository`,
//! has an overdraft refused, shows two tellers racing on the same account
//! (one wins, the other gets the version conflict), and reads the stream as
//! any KurrentDB client would. With `KURRENTDB_URI` set it uses that server
//! instead of starting one.

use eventually_core::aggregate::{Aggregate, AggregateRootBuilder};
use eventually_core::repository::{Error as RepositoryError, Repository};
use eventually_core::store::AppendError;
use eventually_core::versioning::Versioned;
use eventually_kurrentdb::KurrentDBEventStore;
use futures::FutureExt;
use futures::future::BoxFuture;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::{AsyncKurrentDBClient, ReadStreamOptions};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone)]
struct Balance {
    owner: Option<String>,
    cents: i64,
}

#[derive(Debug)]
enum BankCommand {
    Open { owner: String },
    Deposit { cents: i64 },
    Withdraw { cents: i64 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum BankEvent {
    AccountOpened { owner: String },
    MoneyDeposited { cents: i64 },
    MoneyWithdrawn { cents: i64 },
}

#[derive(Debug, thiserror::Error)]
enum BankError {
    #[error("the account is open already")]
    AlreadyOpen,
    #[error("open the account first")]
    NotOpen,
    #[error("not enough money: {0} cents on the account")]
    Overdraft(i64),
}

#[derive(Debug, Clone, Copy)]
struct BankAccount;

impl Aggregate for BankAccount {
    type Id = String;
    type State = Balance;
    type Event = BankEvent;
    type Command = BankCommand;
    type Error = BankError;

    fn apply(mut state: Balance, event: BankEvent) -> Result<Balance, BankError> {
        match event {
            BankEvent::AccountOpened { owner } => state.owner = Some(owner),
            BankEvent::MoneyDeposited { cents } => state.cents += cents,
            BankEvent::MoneyWithdrawn { cents } => state.cents -= cents,
        }
        Ok(state)
    }

    fn handle<'a, 's: 'a>(
        &'a self,
        _: &'s String,
        state: &'s Balance,
        command: BankCommand,
    ) -> BoxFuture<'a, Result<Option<Vec<BankEvent>>, BankError>> {
        async move {
            let event = match command {
                BankCommand::Open { .. } if state.owner.is_some() => {
                    return Err(BankError::AlreadyOpen);
                }
                BankCommand::Open { owner } => BankEvent::AccountOpened { owner },
                _ if state.owner.is_none() => return Err(BankError::NotOpen),
                BankCommand::Deposit { cents } => BankEvent::MoneyDeposited { cents },
                BankCommand::Withdraw { cents } if cents > state.cents => {
                    return Err(BankError::Overdraft(state.cents));
                }
                BankCommand::Withdraw { cents } => BankEvent::MoneyWithdrawn { cents },
            };
            Ok(Some(vec![event]))
        }
        .boxed()
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
    let store = KurrentDBEventStore::<String, BankEvent>::new(client.clone(), "bankaccount")?;
    let builder = AggregateRootBuilder::from(BankAccount);
    let mut repository = Repository::new(builder.clone(), store);

    let id = "acc-8".to_owned();
    let mut account = builder.build(id.clone());
    account
        .handle(BankCommand::Open {
            owner: "Ada".into(),
        })
        .await?;
    account
        .handle(BankCommand::Deposit { cents: 12_000 })
        .await?;
    let account = repository.add(account).await?;
    println!("opened at version {}", account.version());

    let mut account = repository.get(id.clone()).await?;
    account
        .handle(BankCommand::Withdraw { cents: 4_550 })
        .await?;
    if let Err(e) = account
        .handle(BankCommand::Withdraw { cents: 100_000 })
        .await
    {
        println!("refused: {e}");
    }
    let account = repository.add(account).await?;
    println!(
        "balance {} cents at version {}",
        account.state().cents,
        account.version()
    );

    // Two tellers load the account, both deposit: the second to save conflicts.
    let mut first = repository.get(id.clone()).await?;
    let mut second = repository.get(id.clone()).await?;
    first.handle(BankCommand::Deposit { cents: 100 }).await?;
    second.handle(BankCommand::Deposit { cents: 200 }).await?;
    repository.add(first).await?;
    match repository.add(second).await {
        Err(RepositoryError::Store(e)) if e.is_conflict_error() => {
            println!("second teller: {e}; reload and try again")
        }
        other => println!("unexpected: {:?}", other.map(|a| a.version())),
    }
    let account = repository.get(id.clone()).await?;
    println!(
        "balance {} cents at version {}",
        account.state().cents,
        account.version()
    );

    println!("stream bankaccount-{id}, as any client reads it:");
    let stream = format!("bankaccount-{id}");
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
