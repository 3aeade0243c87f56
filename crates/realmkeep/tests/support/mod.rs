//! Helpers shared by the binary's integration tests (included with `mod support;`).

pub mod backups;
pub mod faults;
