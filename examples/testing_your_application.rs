//! Testing your own application against KurrentDB with no Docker: every test
//! starts an embedded server of its own (`kurrentdb-embedded`, a dev-dependency),
//! connects the application's client to it, and checks what the application
//! did. Async tests use `EmbeddedServer::start()`; plain `#[test]`s and blocking
//! code use `EmbeddedServer::start_blocking()`.
//!
//! The "application" here is a small account ledger: deposits are events in a
//! stream per account, and the balance is their sum. Run its tests with
//!
//! ```text
//! cargo test --example testing_your_application
//! ```
//!
//! (`cargo test` runs them too: the example is declared with `test = true`).
//! `cargo run --example testing_your_application` runs the same flow once and
//! prints it.

use futures::TryStreamExt;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, Error, NewEvent, ReadStreamOptions, RecordedEvent,
    StreamState,
};
use kurrentdbclient_blocking::KurrentDBClient;

/// The application's code: what a user of KurrentDB writes and wants tested.
mod ledger {
    use super::*;

    /// The event type of a deposit; its data is `{"amount": N}`.
    pub const DEPOSITED: &str = "Deposited";

    /// The stream of an account's deposits.
    pub fn stream_name(account: &str) -> String {
        format!("account-{account}")
    }

    /// Records a deposit; returns its commit position.
    pub async fn deposit(
        client: &AsyncKurrentDBClient,
        account: &str,
        amount: u64,
    ) -> Result<u64, Error> {
        let data = serde_json::json!({ "amount": amount }).to_string();
        client
            .append_to_stream(
                &stream_name(account),
                StreamState::Any,
                [NewEvent::new(DEPOSITED, data)],
                &AppendToStreamOptions::default(),
            )
            .await
            .map(|written| written.commit_position)
    }

    /// The balance of an account: the sum of its deposits (0 for an account
    /// with none).
    pub async fn balance(client: &AsyncKurrentDBClient, account: &str) -> Result<u64, Error> {
        let read = client
            .read_stream(&stream_name(account), &ReadStreamOptions::default())
            .await;
        match read {
            Ok(events) => Ok(sum_of_deposits(&events.try_collect::<Vec<_>>().await?)),
            Err(Error::NotFound { .. }) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// [`balance`] for threaded code, over the blocking client.
    pub fn balance_blocking(client: &KurrentDBClient, account: &str) -> Result<u64, Error> {
        match client.read_stream(&stream_name(account), &ReadStreamOptions::default()) {
            Ok(events) => Ok(sum_of_deposits(&events.collect::<Result<Vec<_>, _>>()?)),
            Err(Error::NotFound { .. }) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// The domain logic, shared by both: the sum of the deposits' amounts
    /// (events of other types, and malformed ones, count for nothing).
    pub fn sum_of_deposits(events: &[RecordedEvent]) -> u64 {
        events
            .iter()
            .filter(|event| event.r#type == DEPOSITED)
            .filter_map(|event| serde_json::from_slice::<serde_json::Value>(&event.data).ok())
            .filter_map(|data| data["amount"].as_u64())
            .sum()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The same flow once, on the blocking client (whose runtime also runs the
    // async application code).
    let server = kurrentdb_embedded::EmbeddedServer::start_blocking()?;
    let client = KurrentDBClient::connect(&server.connection_string())?;
    client.block_on(ledger::deposit(client.async_client(), "alice", 30))?;
    client.block_on(ledger::deposit(client.async_client(), "alice", 12))?;
    let balance = client.block_on(ledger::balance(client.async_client(), "alice"))?;
    assert_eq!(balance, ledger::balance_blocking(&client, "alice")?);
    println!("alice's balance: {balance}");
    println!("run the tests: cargo test --example testing_your_application");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kurrentdb_embedded::EmbeddedServer;

    /// An async test: a server of its own, in the test's runtime.
    #[tokio::test]
    async fn the_balance_is_the_sum_of_the_deposits() -> Result<(), Box<dyn std::error::Error>> {
        let server = EmbeddedServer::start().await?;
        let client = AsyncKurrentDBClient::connect(&server.connection_string()).await?;

        assert_eq!(ledger::balance(&client, "alice").await?, 0);
        ledger::deposit(&client, "alice", 30).await?;
        ledger::deposit(&client, "alice", 12).await?;
        ledger::deposit(&client, "bob", 5).await?;

        assert_eq!(ledger::balance(&client, "alice").await?, 42);
        assert_eq!(ledger::balance(&client, "bob").await?, 5);
        // Three events were written: `$all` without its system events (the
        // ones a fresh node writes at start, excluded by default) holds them.
        assert_eq!(application_events(&client).await?, 3);
        Ok(())
    }

    /// Each test has its own server, so tests running in parallel never see
    /// each other's events: this account is empty although the test above
    /// deposits into an account of the same name.
    #[tokio::test]
    async fn each_test_starts_from_an_empty_server() -> Result<(), Box<dyn std::error::Error>> {
        let server = EmbeddedServer::start().await?;
        let client = AsyncKurrentDBClient::connect(&server.connection_string()).await?;
        assert_eq!(ledger::balance(&client, "alice").await?, 0);
        assert_eq!(application_events(&client).await?, 0);
        Ok(())
    }

    /// How many events the application wrote: `read_all` leaves out the
    /// system events by default.
    async fn application_events(client: &AsyncKurrentDBClient) -> Result<usize, Error> {
        let events = client
            .read_all(&kurrentdbclient::ReadAllOptions::default())
            .await?;
        Ok(events.try_collect::<Vec<_>>().await?.len())
    }

    /// A plain `#[test]` for blocking code: the server runs on a thread of
    /// its own, and the blocking client needs no runtime from the test.
    #[test]
    fn a_blocking_test() -> Result<(), Box<dyn std::error::Error>> {
        let server = EmbeddedServer::start_blocking()?;
        let client = KurrentDBClient::connect(&server.connection_string())?;
        assert_eq!(ledger::balance_blocking(&client, "carol")?, 0);

        // Set the scene directly: a deposit, an event of another type and a
        // malformed deposit, which the balance must ignore.
        client.append_to_stream(
            &ledger::stream_name("carol"),
            StreamState::NoStream,
            [
                NewEvent::new(ledger::DEPOSITED, r#"{"amount": 7}"#),
                NewEvent::new("FeeCharged", r#"{"amount": 2}"#),
                NewEvent::new(ledger::DEPOSITED, r#"{"amount": "lots"}"#),
            ],
            &AppendToStreamOptions::default(),
        )?;
        assert_eq!(ledger::balance_blocking(&client, "carol")?, 7);

        // The async application code runs on the blocking client's runtime.
        client.block_on(ledger::deposit(client.async_client(), "carol", 3))?;
        assert_eq!(ledger::balance_blocking(&client, "carol")?, 10);
        Ok(())
    }
}
