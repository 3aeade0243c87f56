//! A zone: one map's real-time simulation (Tier 3 of ADR-005), an ECS world ticked at a fixed step.
//!
//! Architecture invariants:
//! - The zone crate does no I/O and never awaits. It never calls `Store` or `Cache` methods; it
//!   uses only the store's plain data types.
//! - Everything that must reach PostgreSQL or Redis leaves the zone as plain data in an outbox
//!   (`io::ZoneOutput`); results come back as inputs (`io::ZoneInput`) applied at the next tick.
//! - Everything is bounded (`limits`).

pub mod io;
pub mod limits;
