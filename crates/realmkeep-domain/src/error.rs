//! Errors raised when input does not parse into domain types.

/// A value from outside (a client, a file, an operator) that does not satisfy the domain's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{what} must be between {min} and {max} characters long")]
    Length {
        what: &'static str,
        min: usize,
        max: usize,
    },
    #[error("{what} may contain only letters, digits{extra}")]
    Charset {
        what: &'static str,
        extra: &'static str,
    },
    #[error("unknown {what}: {value:?}")]
    Unknown { what: &'static str, value: String },
    #[error("{what} is out of range: {value}")]
    OutOfRange { what: &'static str, value: i64 },
}
