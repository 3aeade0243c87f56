//! The HTTP API's bodies (`/v1/...`). Every error is `ApiError` with a status code that follows
//! the reason (see `docs/PROTOCOL.md`). A session token travels only in the `Authorization:
//! Bearer` header, never in a URL.

use crate::codes::Reason;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /v1/accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The domain's account-name rule (3 to 32 characters); unique whatever the case.
    pub name: String,
    /// Unique whatever the case.
    pub email: String,
    /// `PASSWORD_CHARS_MIN` to `PASSWORD_CHARS_MAX` characters, and not the name.
    pub password: String,
}

/// `POST /v1/sessions` (login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub name: String,
    pub password: String,
}

/// The answer to `POST /v1/accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountCreated {
    pub account: i64,
}

/// The answer to `POST /v1/sessions` (login) and `POST /v1/sessions/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionIssued {
    pub account: i64,
    /// The bearer token. Keep it secret; renew it before `expires_in_secs`.
    pub token: String,
    pub expires_in_secs: u64,
    /// The session ends at this time whatever the renewals (unix seconds).
    pub session_ends_unix_s: i64,
}

/// `PUT /v1/accounts/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// `POST /v1/characters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCharacter {
    pub name: String,
    /// `warrior`, `mage`, `ranger` or `cleric`.
    pub class: String,
    /// `aldor`, `veyra` or `korrim`.
    pub kingdom: String,
}

/// One character of `GET /v1/characters`, and the answer to `POST /v1/characters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CharacterRow {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub kingdom: String,
    pub level: i32,
    pub zone: i32,
}

/// `POST /v1/tickets`: a single-use ticket to join the world with one character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    pub character: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TicketIssued {
    /// Send it in the WebSocket's `join`, within `expires_in_secs`; it works once.
    pub ticket: String,
    pub expires_in_secs: u64,
}

/// Every HTTP error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiError {
    pub error: Reason,
    pub message: String,
    /// With `rate_limited`, `login_backoff` and `try_again`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Readiness {
    pub ready: bool,
    pub postgres: bool,
    pub redis: bool,
    /// Every zone of the node ticked within the last 5 seconds.
    pub zones_ticking: bool,
    /// Every zone's last claim renewal went through (a zone that cannot renew loses its players
    /// to another node when the lease runs out).
    pub claims_renewable: bool,
    /// The node was asked to stop (SIGTERM): it still serves its players while it drains, but
    /// takes no new ones from a load balancer.
    pub stopping: bool,
}
