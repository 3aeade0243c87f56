//! The shapes of mail the store hands out (a mailbox line, a whole mail, a claim) and the row
//! they are read from.

use crate::error::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, Gold, ItemId, MailId};
use serde::{Deserialize, Serialize};

/// Who sent a mail, and so what happens when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// From one character to another; returned to the sender when it expires unclaimed.
    Player,
    /// From the game (quests, admins); no sender, so deleted when it expires.
    System,
    /// Sent back after expiring; deleted when it expires again.
    Returned,
    /// From the marketplace (an expired listing's item).
    Market,
}

impl MailKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            MailKind::Player => "player",
            MailKind::System => "system",
            MailKind::Returned => "returned",
            MailKind::Market => "market",
        }
    }

    pub(crate) fn parse_stored(s: &str) -> StoreResult<Self> {
        Ok(match s {
            "player" => MailKind::Player,
            "system" => MailKind::System,
            "returned" => MailKind::Returned,
            "market" => MailKind::Market,
            other => {
                return Err(StoreError::Io(format!(
                    "unknown stored mail kind {other:?}"
                )))
            }
        })
    }
}

/// One line of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSummary {
    pub id: MailId,
    pub kind: MailKind,
    pub sender: Option<CharacterId>,
    pub sender_name: Option<String>,
    pub subject: String,
    pub gold: i64,
    pub items: i64,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub read: bool,
    pub claimed: bool,
}

/// An item attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct MailAttachment {
    pub position: i16,
    pub item_id: i64,
    pub item_def_id: i32,
    pub item_name: String,
    pub quantity: i32,
}

/// A whole mail, as its recipient reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    pub id: MailId,
    pub kind: MailKind,
    pub sender: Option<CharacterId>,
    pub sender_name: Option<String>,
    pub recipient: CharacterId,
    pub subject: String,
    pub body: String,
    pub gold: i64,
    pub attachments: Vec<MailAttachment>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
}

/// What a claim moved into the recipient's purse and bag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    pub gold: Gold,
    pub items: Vec<ItemId>,
    /// The items as placed in the bag.
    pub placed: Vec<InventoryItem>,
    /// The purse after the claim.
    pub gold_after: i64,
}

/// A mail sent by a player: its id and the sender's purse after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSent {
    pub mail: MailId,
    pub gold_after: i64,
}

/// A mail row with its sender's name and its number of attachments.
#[derive(sqlx::FromRow)]
pub(crate) struct MailRow {
    pub id: i64,
    pub kind: String,
    pub sender_character_id: Option<i64>,
    pub sender_name: Option<String>,
    pub recipient_character_id: i64,
    pub subject: String,
    pub body: String,
    pub gold: i64,
    pub items: i64,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
}

/// The columns of `MailRow`, selected `FROM mail m LEFT JOIN characters s` (the sender).
pub(crate) const MAIL_COLUMNS: &str = "m.id, m.kind, m.sender_character_id, s.name AS sender_name,
    m.recipient_character_id, m.subject, m.body, m.gold,
    (SELECT count(*) FROM mail_attachments a WHERE a.mail_id = m.id) AS items,
    m.sent_at, m.expires_at, m.read_at, m.claimed_at";
