//! Runs every scenario in `tests/scenarios` through [`AsyncKurrentDBClient`],
//! against the embedded server (or `KURRENTDB_URI`).

mod common;
mod scenarios;

use kurrentdbclient::AsyncKurrentDBClient;

async fn client() -> AsyncKurrentDBClient {
    AsyncKurrentDBClient::connect(&common::server_uri())
        .await
        .expect("connect")
}

macro_rules! async_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let client = client().await;
                scenarios::$name(&client).await;
            }
        )*
    };
}

for_each_scenario!(async_tests);
