//! Event sourcing with `kurrentdb-event-store`: a shopping cart aggregate, end
//! to end, on the embedded server.
//!
//! The cart is never stored as a row: it is the fold of its events
//! (`ItemAdded`, `ItemRemoved`, `CheckedOut`). Commands check the rules against
//! the current state and record new events; the repository appends them with
//! the version the cart was loaded at (optimistic locking), and takes a
//! snapshot every few events so that loading replays only the events after it.
//!
//! ```text
//! cargo run --example event_sourcing
//! ```
//!
//! Set `KURRENTDB_URI` (for example `kurrentdb://127.0.0.1:2113?tls=false`) to
//! run it against a real KurrentDB instead.

use std::collections::BTreeMap;

use kurrentdb_embedded::EmbeddedServer;
use kurrentdb_event_store::{EventStore, EventStoreError, StreamId, WrappedEvent, impl_event};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---- the domain -------------------------------------------------------------------

/// What happens to a cart. Each variant is an event type named after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
enum CartEvent {
    ItemAdded { sku: String, quantity: u32 },
    ItemRemoved { sku: String },
    CheckedOut,
}
impl_event!(
    enum CartEvent {
        ItemAdded,
        ItemRemoved,
        CheckedOut,
    }
);

/// A cart's state; also what its snapshots hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CartState {
    items: BTreeMap<String, u32>,
    checked_out: bool,
}
impl_event!(struct CartState = "CartSnapshot");

impl CartState {
    fn apply(&mut self, event: &CartEvent) {
        match event {
            CartEvent::ItemAdded { sku, quantity } => {
                *self.items.entry(sku.clone()).or_default() += quantity;
            }
            CartEvent::ItemRemoved { sku } => {
                self.items.remove(sku);
            }
            CartEvent::CheckedOut => self.checked_out = true,
        }
    }
}

/// Why a command was refused.
#[derive(Debug, thiserror::Error)]
enum CartError {
    #[error("the cart is checked out")]
    CheckedOut,
    #[error("{0} is not in the cart")]
    NotInCart(String),
    #[error("the cart is empty")]
    Empty,
    #[error(transparent)]
    Store(#[from] EventStoreError),
}

/// The aggregate: its id, its state, the version that state is at, and the
/// events recorded by commands but not yet saved.
struct ShoppingCart {
    id: StreamId,
    state: CartState,
    version: u64,
    pending: Vec<CartEvent>,
}

impl ShoppingCart {
    fn new() -> Self {
        ShoppingCart {
            id: StreamId::new().with_category("cart"),
            state: CartState::default(),
            version: 0,
            pending: Vec::new(),
        }
    }

    fn record(&mut self, event: CartEvent) {
        self.state.apply(&event);
        self.pending.push(event);
    }

    fn add_item(&mut self, sku: &str, quantity: u32) -> Result<(), CartError> {
        if self.state.checked_out {
            return Err(CartError::CheckedOut);
        }
        self.record(CartEvent::ItemAdded {
            sku: sku.into(),
            quantity,
        });
        Ok(())
    }

    fn remove_item(&mut self, sku: &str) -> Result<(), CartError> {
        if self.state.checked_out {
            return Err(CartError::CheckedOut);
        }
        if !self.state.items.contains_key(sku) {
            return Err(CartError::NotInCart(sku.into()));
        }
        self.record(CartEvent::ItemRemoved { sku: sku.into() });
        Ok(())
    }

    fn check_out(&mut self) -> Result<(), CartError> {
        if self.state.checked_out {
            return Err(CartError::CheckedOut);
        }
        if self.state.items.is_empty() {
            return Err(CartError::Empty);
        }
        self.record(CartEvent::CheckedOut);
        Ok(())
    }
}

// ---- the repository ---------------------------------------------------------------

/// Loads and saves carts through the event store.
struct CartRepository {
    store: EventStore,
    /// Take a snapshot whenever a save crosses a multiple of this many events.
    snapshot_every: u64,
}

impl CartRepository {
    /// The latest snapshot, then the events after it.
    async fn load(&self, id: &StreamId) -> Result<ShoppingCart, CartError> {
        let loaded = self
            .store
            .load_with_snapshot::<CartState, CartEvent>(id)
            .await?;
        let version = loaded.version();
        let (mut state, from) = match loaded.snapshot {
            Some(snapshot) => (
                snapshot.event,
                format!("snapshot at v{}", snapshot.version.unwrap_or(0)),
            ),
            None => (CartState::default(), "no snapshot".to_owned()),
        };
        for event in &loaded.events {
            state.apply(&event.event);
        }
        println!(
            "  loaded {id} at v{version}: {from}, then {} event(s) read",
            loaded.events_read
        );
        Ok(ShoppingCart {
            id: id.clone(),
            state,
            version,
            pending: Vec::new(),
        })
    }

    /// Appends the pending events, expecting the cart's loaded version, with a
    /// correlation id tying them to the request that caused them.
    async fn save(&self, cart: &mut ShoppingCart, request: Uuid) -> Result<(), CartError> {
        let events: Vec<_> = cart
            .pending
            .drain(..)
            .map(|event| WrappedEvent::new(event).with_correlation_id(request))
            .collect();
        let count = events.len() as u64;
        if count == 0 {
            return Ok(());
        }
        self.store.append(events, &cart.id, cart.version).await?;
        let before = cart.version;
        cart.version += count;
        if before / self.snapshot_every != cart.version / self.snapshot_every {
            let snapshot = WrappedEvent::new(cart.state.clone()).with_version(cart.version);
            self.store.save_snapshot(&cart.id, snapshot).await?;
            println!("  snapshot of {} saved at v{}", cart.id, cart.version);
        }
        Ok(())
    }
}

// ---- the story ----------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start().await?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    };
    println!("connecting to {uri}");
    let repository = CartRepository {
        store: EventStore::connect(&uri).await?,
        snapshot_every: 4,
    };

    println!("a customer fills a cart:");
    let mut cart = ShoppingCart::new();
    let cart_id = cart.id.clone();
    cart.add_item("apple", 3)?;
    cart.add_item("pear", 1)?;
    cart.add_item("plum", 2)?;
    repository.save(&mut cart, Uuid::new_v4()).await?;
    let mut cart = repository.load(&cart_id).await?;
    cart.remove_item("pear")?;
    cart.add_item("apple", 1)?;
    repository.save(&mut cart, Uuid::new_v4()).await?;

    println!("the next load starts from the snapshot:");
    let mut cart = repository.load(&cart_id).await?;
    assert_eq!(cart.state.items["apple"], 4);

    println!("two sessions act on the same cart version:");
    let mut other_session = repository.load(&cart_id).await?;
    cart.check_out()?;
    repository.save(&mut cart, Uuid::new_v4()).await?;
    other_session.add_item("cherry", 12)?;
    match repository.save(&mut other_session, Uuid::new_v4()).await {
        Err(CartError::Store(EventStoreError::ConcurrencyConflict {
            expected, actual, ..
        })) => {
            println!("  the late session is refused: expected v{expected}, cart is at v{actual}")
        }
        other => panic!("expected a concurrency conflict, got {other:?}"),
    }
    let mut reloaded = repository.load(&cart_id).await?;
    match reloaded.add_item("cherry", 12) {
        Err(CartError::CheckedOut) => {
            println!("  after reloading, it sees the cart is checked out")
        }
        other => panic!("expected the checked-out error, got {other:?}"),
    }

    println!("the whole history:");
    for event in repository
        .store
        .load_stream::<CartEvent>(&cart_id, None, None)
        .await?
    {
        println!("  v{} {:?}", event.version.unwrap_or(0), event.event);
    }
    println!("final state: {:?}", reloaded.state);
    println!("store position: {:?}", repository.store.position());
    Ok(())
}
