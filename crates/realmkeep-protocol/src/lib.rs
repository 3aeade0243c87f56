//! Realmkeep's wire types, shared by the gateway and every Rust client (the tests, the bots):
//! the HTTP API's request and answer bodies (`http`), the WebSocket protocol's frames (`ws`),
//! the reason and close codes (`codes`), the protocol's limits (`limits`), and a server frame read
//! as a client reads it (`read`: views straight into their fields).
//!
//! No I/O here, and no game logic: a client depends on this crate alone. The JSON Schema of
//! every message (`schema::document`) is generated from these types and checked in as
//! `docs/protocol-v1.schema.json`.
//!
//! # Versioning
//!
//! Every WebSocket frame carries `"v": 1`. Within version 1 the server may add message kinds,
//! optional fields in what it sends, and reason codes; a v1 client ignores message kinds and
//! fields it does not know. It never removes or renames a field, changes a field's type or
//! meaning, or requires a new field of the client: that is version 2.

pub mod admin;
#[cfg(feature = "client")]
pub mod client;
pub mod codes;
pub mod http;
pub mod limits;
pub mod read;
pub mod schema;
pub mod ws;

pub use codes::{CloseCode, Reason};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
