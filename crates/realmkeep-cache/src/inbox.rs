//! The player inbox: `player_inbox:{player}`, a Redis stream of must-arrive player events
//! (kicks, mail notifications), read by the player's zone from the last id it saw. Unlike
//! pub/sub it keeps what arrives while nobody listens, bounded by length (`MAXLEN ~`) and by
//! [`keys::INBOX_TTL`]. PostgreSQL remains the source of truth (bans, mail): the inbox only makes
//! the live notice reliable across reconnects and zone changes.

use crate::core::Core;
use crate::error::CacheError;
use crate::keys;
use crate::messages::{ChannelMessage, PlayerEvent};
use realmkeep_domain::CharacterId;
use redis::streams::StreamRangeReply;
use std::fmt;

/// Entries one inbox keeps (approximately: `MAXLEN ~`).
pub const INBOX_LEN_MAX: usize = 1_000;
/// Entries one read returns at most.
pub const INBOX_READ_MAX: usize = 100;
/// Inboxes one [`Inbox::pending`] looks at at once (one pipeline).
pub const INBOX_PENDING_MAX: usize = 512;
const INBOX_FIELD: &str = "m";

/// A stream entry id, `{ms}-{seq}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InboxId(String);

impl InboxId {
    pub fn parse(s: &str) -> Result<Self, CacheError> {
        let ok = s
            .split_once('-')
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(CacheError::Invalid {
                what: "inbox id",
                detail: "`{ms}-{seq}` expected".into(),
            })
        }
    }

    /// The position just before anything added at or after `unix_ms` (e.g. the login time).
    pub fn at_unix_ms(unix_ms: u64) -> Self {
        Self(format!("{}-0", unix_ms.saturating_sub(1)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboxEntry {
    pub id: InboxId,
    pub event: PlayerEvent,
}

pub(crate) fn append_cmd(pipe: &mut redis::Pipeline, player: CharacterId, payload: &str) {
    let key = keys::player_inbox(player);
    pipe.cmd("XADD")
        .arg(&key)
        .arg("MAXLEN")
        .arg("~")
        .arg(INBOX_LEN_MAX)
        .arg("*")
        .arg(INBOX_FIELD)
        .arg(payload)
        .cmd("PEXPIRE")
        .arg(&key)
        .arg(keys::INBOX_TTL.as_millis() as u64)
        .ignore();
}

/// Player inboxes. Get it from [`crate::Cache::inbox`].
#[derive(Debug, Clone, Copy)]
pub struct Inbox<'a> {
    core: &'a Core,
}

impl<'a> Inbox<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

impl Inbox<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    /// Up to `count` (at most [`INBOX_READ_MAX`]) events after `after` (`None`: from the
    /// oldest), oldest first. Entries that do not parse are skipped (and logged).
    pub async fn read(
        &self,
        player: CharacterId,
        after: Option<&InboxId>,
        count: usize,
    ) -> Result<Vec<InboxEntry>, CacheError> {
        if count > INBOX_READ_MAX {
            return Err(CacheError::Limit {
                what: "inbox read",
                max: INBOX_READ_MAX,
            });
        }
        let start = after.map_or_else(|| "-".to_string(), |id| format!("({id}"));
        let cmd = redis::cmd("XRANGE")
            .arg(keys::player_inbox(player))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .to_owned();
        let reply: StreamRangeReply = self.core().query(&cmd).await?;
        let mut out = Vec::with_capacity(reply.ids.len());
        for e in reply.ids {
            let id = InboxId::parse(&e.id)?;
            let event = e
                .get::<Vec<u8>>(INBOX_FIELD)
                .and_then(|b| ChannelMessage::decode(&b))
                .and_then(|m| match m {
                    ChannelMessage::Player(p) => Some(p),
                    _ => None,
                });
            match event {
                Some(event) => out.push(InboxEntry { id, event }),
                None => {
                    tracing::warn!(player = player.0, id = %id, "inbox entry does not parse: skipped")
                }
            }
        }
        Ok(out)
    }

    /// For each (player, last id delivered), whether its inbox holds anything newer: one round
    /// trip for up to [`INBOX_PENDING_MAX`] players (a gateway's sweep for wake-ups pub/sub
    /// lost). Only that: the entries are read with [`Self::read`].
    pub async fn pending(&self, seen: &[(CharacterId, &InboxId)]) -> Result<Vec<bool>, CacheError> {
        if seen.len() > INBOX_PENDING_MAX {
            return Err(CacheError::Limit {
                what: "inboxes looked at at once",
                max: INBOX_PENDING_MAX,
            });
        }
        if seen.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (player, id) in seen {
            pipe.cmd("XRANGE")
                .arg(keys::player_inbox(*player))
                .arg(format!("({id}"))
                .arg("+")
                .arg("COUNT")
                .arg(1);
        }
        let replies: Vec<StreamRangeReply> = self.core().query_pipe(&pipe).await?;
        Ok(replies.into_iter().map(|r| !r.ids.is_empty()).collect())
    }

    /// Forgets everything up to and including `through` (once handled).
    pub async fn trim_through(
        &self,
        player: CharacterId,
        through: &InboxId,
    ) -> Result<(), CacheError> {
        let key = keys::player_inbox(player);
        let pipe = redis::pipe()
            .cmd("XTRIM")
            .arg(&key)
            .arg("MINID")
            .arg(through.as_str())
            .ignore()
            .cmd("XDEL")
            .arg(&key)
            .arg(through.as_str())
            .ignore()
            .to_owned();
        self.core().query_pipe(&pipe).await
    }
}
