//! Guild wars: `guild_war:{guild1}:{guild2}`, with TTL the war's duration. The pair is always
//! stored lower id first, so (a, b) and (b, a) are the same war. While Redis is down wars cannot
//! be declared or read ([`CacheError::Unavailable`]); zones keep fighting the wars they know.
//! The auxiliary `guild_wars` index (the pair and its end) lets every node read the wars in
//! force without SCAN ([`GuildWars::in_force`]).

use crate::clock::now_unix_ms;
use crate::core::Core;
use crate::error::CacheError;
use crate::vocab::WarPair;
use crate::{keys, scripts};
use realmkeep_domain::GuildId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest war (a week).
pub const GUILD_WAR_DURATION_MAX: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Wars [`GuildWars::in_force`] reads at the most (every node reads them all, often).
pub const GUILD_WARS_READ_MAX: usize = 10_000;

/// What a war's key holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarState {
    pub declared_by: GuildId,
    pub started_unix_ms: i64,
    /// Kills scored by the pair's first and second guild.
    pub first_kills: u32,
    pub second_kills: u32,
}

/// A war as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct War {
    pub pair: WarPair,
    pub state: WarState,
    pub remaining: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    Started,
    /// The two guilds are at war already.
    AlreadyAtWar,
}

/// Guild wars. Get it from [`crate::Cache::guild_wars`].
#[derive(Debug, Clone, Copy)]
pub struct GuildWars<'a> {
    core: &'a Core,
}

impl<'a> GuildWars<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

fn check_pair(a: GuildId, b: GuildId) -> Result<WarPair, CacheError> {
    WarPair::new(a, b).ok_or(CacheError::Invalid {
        what: "guild war",
        detail: "a guild cannot be at war with itself".into(),
    })
}

impl GuildWars<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    /// `by` declares war on `on` for `duration`.
    pub async fn declare(
        &self,
        by: GuildId,
        on: GuildId,
        duration: Duration,
    ) -> Result<Declared, CacheError> {
        let pair = check_pair(by, on)?;
        if duration.is_zero() || duration > GUILD_WAR_DURATION_MAX {
            return Err(CacheError::Invalid {
                what: "war duration",
                detail: format!("between 1 ms and {GUILD_WAR_DURATION_MAX:?} expected"),
            });
        }
        let state = WarState {
            declared_by: by,
            started_unix_ms: now_unix_ms(),
            first_kills: 0,
            second_kills: 0,
        };
        let mut inv = scripts::DECLARE_WAR.prepare_invoke();
        inv.key(keys::guild_war(pair))
            .key(keys::guild_wars_index())
            .arg(serde_json::to_string(&state).expect("war state serializes"))
            .arg(duration.as_millis() as u64)
            .arg(keys::guild_war_member(pair));
        let set: i64 = self.core().eval(&inv).await?;
        Ok(if set == 1 {
            Declared::Started
        } else {
            Declared::AlreadyAtWar
        })
    }

    /// The war between `a` and `b`, if any.
    pub async fn get(&self, a: GuildId, b: GuildId) -> Result<Option<War>, CacheError> {
        let pair = check_pair(a, b)?;
        let key = keys::guild_war(pair);
        let pipe = redis::pipe()
            .cmd("GET")
            .arg(&key)
            .cmd("PTTL")
            .arg(&key)
            .to_owned();
        let (v, ttl): (Option<String>, i64) = self.core().query_pipe(&pipe).await?;
        let Some(v) = v else { return Ok(None) };
        let state = serde_json::from_str(&v).map_err(|e| CacheError::Malformed {
            key,
            detail: e.to_string(),
        })?;
        Ok(Some(War {
            pair,
            state,
            remaining: Duration::from_millis(ttl.max(0) as u64),
        }))
    }

    /// Counts a kill by `killer_guild` in its war with `victim_guild`, atomically; `false` if
    /// no war runs. The war keeps its TTL.
    pub async fn record_kill(
        &self,
        killer_guild: GuildId,
        victim_guild: GuildId,
    ) -> Result<bool, CacheError> {
        let pair = check_pair(killer_guild, victim_guild)?;
        let field = if killer_guild == pair.first() {
            "first_kills"
        } else {
            "second_kills"
        };
        let mut inv = scripts::WAR_KILL.prepare_invoke();
        inv.key(keys::guild_war(pair)).arg(field);
        let n: i64 = self.core().eval(&inv).await?;
        Ok(n == 1)
    }

    /// Ends a war early (surrender, truce).
    pub async fn end(&self, a: GuildId, b: GuildId) -> Result<bool, CacheError> {
        let pair = check_pair(a, b)?;
        let mut inv = scripts::END_WAR.prepare_invoke();
        inv.key(keys::guild_war(pair))
            .key(keys::guild_wars_index())
            .arg(keys::guild_war_member(pair));
        let n: i64 = self.core().eval(&inv).await?;
        Ok(n > 0)
    }

    /// Every war in force (at most [`GUILD_WARS_READ_MAX`]), from the `guild_wars` index: what
    /// each node's zones fight by.
    pub async fn in_force(&self) -> Result<Vec<WarPair>, CacheError> {
        let mut inv = scripts::LIST_WARS.prepare_invoke();
        inv.key(keys::guild_wars_index()).arg(GUILD_WARS_READ_MAX);
        let members: Vec<String> = self.core().eval(&inv).await?;
        Ok(members
            .iter()
            .filter_map(|m| keys::parse_guild_war_member(m))
            .collect())
    }
}
