//! Reason codes (why a request was refused) and WebSocket close codes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a request was refused, in the HTTP API's `error` field and in a WebSocket `refused`
/// answer. A v1 client treats a code it does not know as a refusal it cannot fix by retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    // The frame or body itself.
    /// Not JSON, or not an object.
    BadJson,
    /// A `type` this server does not know.
    UnknownKind,
    /// A known kind with a missing, extra or ill-typed field.
    BadFields,
    /// `v` is not a version this server speaks.
    BadVersion,
    /// A binary frame: the protocol is JSON text.
    BinaryFrame,
    /// A request id not greater than the connection's previous one.
    RequestIdReused,
    // Accounts and sessions.
    /// A name (account or character) outside the domain's rules.
    BadName,
    /// Shorter than the minimum, longer than the maximum, or the account name.
    WeakPassword,
    NameTaken,
    /// Wrong name or password (never says which).
    BadCredentials,
    /// No token, or a forged, expired, malformed or revoked one.
    Unauthorized,
    /// The account or address is banned.
    Banned,
    /// Too many failed logins for this account: wait `retry_after_ms`.
    LoginBackoff,
    /// Not this account's character, or no such character.
    NoSuchCharacter,
    TooManyCharacters,
    /// The character is in the world: log out first.
    CharacterOnline,
    // The WebSocket session.
    /// A ticket unknown, expired or already used.
    BadTicket,
    /// A command before `join`.
    NotJoined,
    AlreadyJoined,
    /// The character's zone is not on this node.
    ZoneElsewhere,
    /// A position that is not a finite number within the map.
    BadPosition,
    /// A chat line empty, too long, or with control or bidirectional-override characters.
    BadText,
    // The game's own refusals (the zone and the store).
    OutOfRange,
    NoSuchTarget,
    NotAllowed,
    Dead,
    OnCooldown,
    NotEnoughMana,
    Reserved,
    Invalid,
    /// The recipient blocks the player: the whisper, mail or trade offer was not delivered.
    Blocked,
    /// The store refused: the game state does not allow it (details in `detail`).
    GameRule,
    // Load.
    RateLimited,
    /// The server is busy or a backend is unavailable: nothing changed, try again.
    TryAgain,
    /// The server is stopping.
    ShuttingDown,
    /// No route or method.
    NotFound,
    /// Something failed on the server; nothing changed.
    Internal,
}

/// Why the server closed a WebSocket. 1000–1011 are the standard codes; 4000–4099 are ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseCode {
    /// 1000: after `logout`.
    Normal,
    /// 1001: the server is stopping (its players were saved).
    GoingAway,
    /// 1003: a binary frame.
    Unsupported,
    /// 1008: the protocol was broken (no `join` in time, a join refused).
    Policy,
    /// 1009: a message over `FRAME_BYTES_MAX`.
    TooBig,
    /// 4000: the client read too slowly; its outbound queue filled.
    TooSlow,
    /// 4001: the account connected again elsewhere.
    LoggedInElsewhere,
    /// 4002: the account was banned (or kicked by an operator).
    Banned,
    /// 4003: nothing heard for `IDLE_CLOSE_SECS`.
    Idle,
    /// 4004: rate limited too often.
    Flood,
    /// 4005: the session was revoked (logout elsewhere, password change).
    SessionRevoked,
    /// 4006: the character left the zone (claim lost, or taken out by the server).
    Left,
    /// 4007: the character goes on on another node (`redirect` says where).
    Redirected,
}

impl CloseCode {
    pub const ALL: &'static [CloseCode] = &[
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::Unsupported,
        CloseCode::Policy,
        CloseCode::TooBig,
        CloseCode::TooSlow,
        CloseCode::LoggedInElsewhere,
        CloseCode::Banned,
        CloseCode::Idle,
        CloseCode::Flood,
        CloseCode::SessionRevoked,
        CloseCode::Left,
        CloseCode::Redirected,
    ];

    pub fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::Unsupported => 1003,
            CloseCode::Policy => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::TooSlow => 4000,
            CloseCode::LoggedInElsewhere => 4001,
            CloseCode::Banned => 4002,
            CloseCode::Idle => 4003,
            CloseCode::Flood => 4004,
            CloseCode::SessionRevoked => 4005,
            CloseCode::Left => 4006,
            CloseCode::Redirected => 4007,
        }
    }

    pub fn from_code(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// The close frame's reason text (short: a close reason is at most 123 bytes).
    pub fn text(self) -> &'static str {
        match self {
            CloseCode::Normal => "logged out",
            CloseCode::GoingAway => "server stopping",
            CloseCode::Unsupported => "binary frames are not accepted",
            CloseCode::Policy => "protocol violation",
            CloseCode::TooBig => "message too big",
            CloseCode::TooSlow => "too slow to read",
            CloseCode::LoggedInElsewhere => "logged in elsewhere",
            CloseCode::Banned => "banned",
            CloseCode::Idle => "idle",
            CloseCode::Flood => "rate limited",
            CloseCode::SessionRevoked => "session revoked",
            CloseCode::Left => "left the world",
            CloseCode::Redirected => "redirected to another node",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_are_distinct_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for c in CloseCode::ALL {
            assert!(seen.insert(c.code()));
            assert_eq!(CloseCode::from_code(c.code()), Some(*c));
            assert!(c.text().len() <= 123);
        }
    }
}
