//! Operators' sessions: `admin_session:{sha256(token)}`, apart from players' sessions (another
//! key space, another token form: a player's token is never an operator's). An opaque random
//! token names a JSON `{admin, issued_unix_s}`; the key lives [`keys::ADMIN_SESSION_TTL`] from
//! its last use, and no session outlives [`ADMIN_SESSION_LIFETIME`] from its login.
//!
//! Redis only, with no degraded mode: while Redis is down no operator logs in or acts (the admin
//! API answers "try again"), which loses nothing, as PostgreSQL holds every account. The
//! session names the operator, not its role: the role is read from PostgreSQL at each request,
//! so a disabled account or a changed role counts at once.

use crate::clock::now_unix_s;
use crate::core::Core;
use crate::error::CacheError;
use crate::keys;
use realmkeep_domain::AdminId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Random bytes in an operator's token (hex-encoded: twice as many characters).
pub const ADMIN_TOKEN_BYTES: usize = 32;
/// Anything else is not an operator's token, and is refused before Redis is asked.
pub const ADMIN_TOKEN_CHARS: usize = 2 * ADMIN_TOKEN_BYTES;
/// The longest an operator's session lasts, however busy: a working day.
pub const ADMIN_SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

const _: () = assert!(keys::ADMIN_SESSION_TTL.as_secs() <= ADMIN_SESSION_LIFETIME.as_secs());

/// An operator's token as handed to the client. Debug shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// What a live operator's session holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSession {
    pub admin: AdminId,
    pub issued_unix_s: i64,
}

impl AdminSession {
    /// When it ends, however busy (unix seconds).
    pub fn ends_unix_s(&self) -> i64 {
        self.issued_unix_s + ADMIN_SESSION_LIFETIME.as_secs() as i64
    }
}

/// Operators' sessions. Get it from [`crate::Cache::admin_sessions`].
#[derive(Debug, Clone, Copy)]
pub struct AdminSessions<'a> {
    core: &'a Core,
}

fn canonical(token: &str) -> bool {
    token.len() == ADMIN_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl<'a> AdminSessions<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }

    /// A new session for `admin`.
    pub async fn issue(&self, admin: AdminId) -> Result<(AdminToken, AdminSession), CacheError> {
        let bytes: [u8; ADMIN_TOKEN_BYTES] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let session = AdminSession {
            admin,
            issued_unix_s: now_unix_s(),
        };
        let value = serde_json::to_string(&session).map_err(|e| CacheError::Invalid {
            what: "admin session",
            detail: e.to_string(),
        })?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(keys::admin_session(&token))
            .arg(value)
            .arg("EX")
            .arg(keys::ADMIN_SESSION_TTL.as_secs())
            .arg("NX");
        self.core.query::<()>(&cmd).await?;
        Ok((AdminToken(token), session))
    }

    /// The live session of `token`, its idle time reset; `None` for a token unknown, idle too
    /// long, past its lifetime or logged out.
    pub async fn validate(&self, token: &str) -> Result<Option<AdminSession>, CacheError> {
        if !canonical(token) {
            return Ok(None);
        }
        let mut cmd = redis::cmd("GETEX");
        cmd.arg(keys::admin_session(token))
            .arg("EX")
            .arg(keys::ADMIN_SESSION_TTL.as_secs());
        let v: Option<String> = self.core.query(&cmd).await?;
        let Some(s) = v.and_then(|v| serde_json::from_str::<AdminSession>(&v).ok()) else {
            return Ok(None);
        };
        if now_unix_s() >= s.ends_unix_s() {
            self.revoke(token).await?;
            return Ok(None);
        }
        Ok(Some(s))
    }

    /// Ends the session of `token` (a logout).
    pub async fn revoke(&self, token: &str) -> Result<(), CacheError> {
        if !canonical(token) {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        cmd.arg(keys::admin_session(token));
        self.core.query::<()>(&cmd).await
    }
}
