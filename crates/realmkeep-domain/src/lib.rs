//! Realmkeep's domain: identifiers, game rules and limits. No I/O of any kind.
//!
//! Architecture invariant: nothing in this crate touches the network, the disk or a clock it was
//! not handed. Every other crate speaks in these types, so input is parsed into them once, at the
//! boundary, and never re-validated deep inside.

pub mod admin;
pub mod content;
pub mod error;
pub mod ids;
pub mod limits;
pub mod records;
pub mod redact;
pub mod rules;
pub mod types;

pub use admin::{AdminChange, AdminOrder, AdminOutcome, AdminPower, AdminReceipt, AdminRole};
pub use error::DomainError;
pub use ids::*;
pub use redact::redact_url;
pub use types::*;
