//! WebSocket tickets: `ws_ticket:{sha256(ticket)}`, 30 s, taken once with `GETDEL`. A client
//! trades its session token (HTTP header) for a ticket naming one character, and joins the
//! world with the ticket, so no long-lived token travels in a WebSocket URL or frame.
//!
//! Tickets live in Redis only: while Redis is down none can be issued (the client tries again),
//! which loses nothing but the wait.

use crate::core::Core;
use crate::error::CacheError;
use crate::keys;
use crate::token::SessionId;
use realmkeep_domain::{AccountId, CharacterId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Random bytes in a ticket (hex-encoded: twice as many characters).
pub const TICKET_BYTES: usize = 24;
/// Anything longer is not a ticket, and is refused before Redis is asked.
pub const TICKET_CHARS_MAX: usize = 2 * TICKET_BYTES;

/// What a ticket names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketGrant {
    pub account: AccountId,
    pub character: CharacterId,
    /// The session that asked for it: the connection ends when this session is revoked.
    pub session: SessionId,
    /// When the session's token was issued (unix seconds): a revocation of every token issued
    /// at or before a time (`session_revoked_before`) reaches the connection too.
    pub issued_unix_s: i64,
}

impl TicketGrant {
    /// The session the connection holds, as [`crate::Sessions::session_revoked`] checks it.
    pub fn held_session(&self) -> crate::HeldSession {
        crate::HeldSession {
            account: self.account,
            session: self.session,
            issued_unix_s: self.issued_unix_s,
        }
    }
}

/// A ticket as handed to the client. Debug shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket(String);

impl Ticket {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ticket(..)")
    }
}

/// Tickets. Get it from [`crate::Cache::tickets`].
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'a> {
    core: &'a Core,
}

impl<'a> Tickets<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }

    /// A new ticket for `grant`, good once for [`keys::TICKET_TTL`].
    pub async fn issue(&self, grant: TicketGrant) -> Result<Ticket, CacheError> {
        let bytes: [u8; TICKET_BYTES] = rand::random();
        let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let value = serde_json::to_string(&grant).map_err(|e| CacheError::Invalid {
            what: "ticket",
            detail: e.to_string(),
        })?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(keys::ticket(&ticket))
            .arg(value)
            .arg("EX")
            .arg(keys::TICKET_TTL.as_secs())
            .arg("NX");
        self.core.query::<()>(&cmd).await?;
        Ok(Ticket(ticket))
    }

    /// Takes a ticket: its grant the first time, `None` after (used, expired or never issued).
    /// Only lowercase hex of the right length is looked up.
    pub async fn redeem(&self, ticket: &str) -> Result<Option<TicketGrant>, CacheError> {
        let canonical = ticket.len() == TICKET_CHARS_MAX
            && ticket
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !canonical {
            return Ok(None);
        }
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(keys::ticket(ticket));
        let v: Option<String> = self.core.query(&cmd).await?;
        Ok(v.and_then(|v| serde_json::from_str(&v).ok()))
    }
}
