//! Leaderboards: `leaderboard:pvp` and `leaderboard:level`, sorted sets with the best first.
//!
//! PostgreSQL is the source of truth: a board is rebuilt from the [`LeaderboardSource`] on
//! demand, after every reconnect (score updates made while Redis was down were dropped), and
//! whenever the `leaderboard:{kind}:built` marker is missing (Redis lost the board). A rebuild
//! is written aside and RENAMEd over the board, so readers never see half a board. A score
//! update racing a rebuild may be replaced by the value PostgreSQL had a moment earlier; the
//! player's next update corrects it.
//!
//! [`LeaderboardSource`]: crate::LeaderboardSource

use crate::core::{bump, Core};
use crate::error::CacheError;
use crate::keys;
use crate::vocab::{LeaderboardKind, Served};
use realmkeep_domain::CharacterId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Entries one read returns at most (top N, or N each side of a player).
pub const LEADERBOARD_READ_MAX: usize = 100;
/// Entries a board holds at most; a source returning more is cut off.
pub const LEADERBOARD_ENTRIES_MAX: usize = 1_000_000;
/// Score updates per pipeline in [`Leaderboards::set_scores`] (the benchmark's `-P 16`).
pub const LEADERBOARD_PIPELINE_DEPTH: usize = 16;
/// Updates one `set_scores` call may carry.
pub const LEADERBOARD_BATCH_MAX: usize = 4_096;
/// Members per ZADD while rebuilding.
pub const LEADERBOARD_REBUILD_CHUNK: usize = 1_000;

/// One line of a board; `position` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedEntry {
    pub character: CharacterId,
    pub score: f64,
    pub position: u64,
}

/// Leaderboards. Get it from [`crate::Cache::leaderboards`].
#[derive(Debug, Clone, Copy)]
pub struct Leaderboards<'a> {
    core: &'a Core,
}

impl<'a> Leaderboards<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

fn bounded(n: usize, max: usize, what: &'static str) -> Result<usize, CacheError> {
    if n > max {
        return Err(CacheError::Limit { what, max });
    }
    Ok(n)
}

fn entries(rows: Vec<(i64, f64)>, first_position: u64) -> Vec<RankedEntry> {
    rows.into_iter()
        .enumerate()
        .map(|(i, (c, score))| RankedEntry {
            character: CharacterId(c),
            score,
            position: first_position + i as u64,
        })
        .collect()
}

impl Leaderboards<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    /// Sets one player's score. `Local` when Redis was down: the update was dropped, and the
    /// rebuild that follows the reconnect brings it back from PostgreSQL.
    pub async fn set_score(
        &self,
        kind: LeaderboardKind,
        player: CharacterId,
        score: f64,
    ) -> Served {
        let core = self.core();
        let cmd = redis::cmd("ZADD")
            .arg(keys::leaderboard(kind))
            .arg(score)
            .arg(player.0)
            .to_owned();
        match core.query::<i64>(&cmd).await {
            Ok(_) => Served::Redis,
            Err(e) => {
                core.degraded("leaderboard update", &e);
                Served::Local
            }
        }
    }

    /// Sets many scores, one ZADD each, [`LEADERBOARD_PIPELINE_DEPTH`] per pipeline.
    pub async fn set_scores(
        &self,
        kind: LeaderboardKind,
        scores: &[(CharacterId, f64)],
    ) -> Result<Served, CacheError> {
        bounded(
            scores.len(),
            LEADERBOARD_BATCH_MAX,
            "leaderboard updates in one call",
        )?;
        let core = self.core();
        let key = keys::leaderboard(kind);
        for chunk in scores.chunks(LEADERBOARD_PIPELINE_DEPTH) {
            let mut pipe = redis::pipe();
            for (player, score) in chunk {
                pipe.cmd("ZADD")
                    .arg(&key)
                    .arg(*score)
                    .arg(player.0)
                    .ignore();
            }
            if let Err(e) = core.query_pipe::<()>(&pipe).await {
                core.degraded("leaderboard updates", &e);
                return Ok(Served::Local);
            }
        }
        Ok(Served::Redis)
    }

    /// A player's place on the board, `None` if not on it.
    pub async fn rank(
        &self,
        kind: LeaderboardKind,
        player: CharacterId,
    ) -> Result<Option<RankedEntry>, CacheError> {
        let key = keys::leaderboard(kind);
        let pipe = redis::pipe()
            .cmd("ZREVRANK")
            .arg(&key)
            .arg(player.0)
            .cmd("ZSCORE")
            .arg(&key)
            .arg(player.0)
            .to_owned();
        let (rank, score): (Option<u64>, Option<f64>) = self.core().query_pipe(&pipe).await?;
        Ok(match (rank, score) {
            (Some(r), Some(score)) => Some(RankedEntry {
                character: player,
                score,
                position: r + 1,
            }),
            _ => None,
        })
    }

    /// The best `n` (at most [`LEADERBOARD_READ_MAX`]).
    pub async fn top(
        &self,
        kind: LeaderboardKind,
        n: usize,
    ) -> Result<Vec<RankedEntry>, CacheError> {
        let n = bounded(n, LEADERBOARD_READ_MAX, "leaderboard read")?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let cmd = redis::cmd("ZREVRANGE")
            .arg(keys::leaderboard(kind))
            .arg(0)
            .arg(n - 1)
            .arg("WITHSCORES")
            .to_owned();
        Ok(entries(self.core().query(&cmd).await?, 1))
    }

    /// The player with up to `n` entries either side (`n` at most half of
    /// [`LEADERBOARD_READ_MAX`]); empty if the player is not on the board.
    pub async fn around(
        &self,
        kind: LeaderboardKind,
        player: CharacterId,
        n: usize,
    ) -> Result<Vec<RankedEntry>, CacheError> {
        let n = bounded(n, LEADERBOARD_READ_MAX / 2, "leaderboard read")?;
        let key = keys::leaderboard(kind);
        let core = self.core();
        let Some(rank): Option<u64> = core
            .query(&redis::cmd("ZREVRANK").arg(&key).arg(player.0).to_owned())
            .await?
        else {
            return Ok(Vec::new());
        };
        let start = rank.saturating_sub(n as u64);
        let cmd = redis::cmd("ZREVRANGE")
            .arg(&key)
            .arg(start)
            .arg(rank + n as u64)
            .arg("WITHSCORES")
            .to_owned();
        Ok(entries(core.query(&cmd).await?, start + 1))
    }

    /// Rebuilds a board from PostgreSQL now; returns its size.
    pub async fn rebuild(&self, kind: LeaderboardKind) -> Result<usize, CacheError> {
        rebuild(self.core(), kind).await
    }
}

async fn rebuild(core: &Core, kind: LeaderboardKind) -> Result<usize, CacheError> {
    let source = core
        .opts
        .leaderboard_source
        .clone()
        .ok_or(CacheError::NoSource("leaderboard"))?;
    if !core.is_up() {
        return Err(CacheError::Unavailable);
    }
    let mut scores = source
        .scores(kind)
        .await
        .map_err(|source| CacheError::Source {
            what: "leaderboard",
            source,
        })?;
    if scores.len() > LEADERBOARD_ENTRIES_MAX {
        tracing::warn!(
            kind = kind.as_str(),
            rows = scores.len(),
            "leaderboard source over the limit: cut off"
        );
        scores.truncate(LEADERBOARD_ENTRIES_MAX);
    }
    let live = keys::leaderboard(kind);
    // The marker says "complete": gone while rebuilding, so a failed rebuild is retried.
    core.query::<()>(
        &redis::cmd("DEL")
            .arg(keys::leaderboard_built(kind))
            .to_owned(),
    )
    .await?;
    let aside = keys::leaderboard_rebuild(kind, &core.opts.node);
    core.query::<()>(&redis::cmd("DEL").arg(&aside).to_owned())
        .await?;
    for chunk in scores.chunks(LEADERBOARD_REBUILD_CHUNK) {
        let mut zadd = redis::cmd("ZADD");
        zadd.arg(&aside);
        for (player, score) in chunk {
            zadd.arg(*score).arg(player.0);
        }
        let pipe = redis::pipe()
            .add_command(zadd)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&aside)
            .arg(keys::LEADERBOARD_REBUILD_TTL.as_millis() as u64)
            .ignore()
            .to_owned();
        core.query_pipe::<()>(&pipe).await?;
    }
    let mut swap = redis::pipe();
    swap.atomic();
    if scores.is_empty() {
        swap.cmd("DEL").arg(&live).ignore();
    } else {
        swap.cmd("RENAME")
            .arg(&aside)
            .arg(&live)
            .ignore()
            .cmd("PERSIST")
            .arg(&live)
            .ignore();
    }
    swap.cmd("SET")
        .arg(keys::leaderboard_built(kind))
        .arg(1)
        .ignore();
    core.query_pipe::<()>(&swap).await?;
    bump(&core.metrics.leaderboard_rebuilds);
    tracing::info!(
        kind = kind.as_str(),
        entries = scores.len(),
        "leaderboard rebuilt from PostgreSQL"
    );
    Ok(scores.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rebuild {
    Always,
    /// Only boards whose `built` marker is gone.
    IfLost,
}

/// The leaderboards' own state on the node: whether a background rebuild runs (one at a time).
#[derive(Debug, Default)]
pub(crate) struct RebuildGate {
    running: Arc<AtomicBool>,
}

/// Rebuilds in the background (never more than one at a time per node), if a source is set.
pub(crate) fn spawn_rebuild(core: Arc<Core>, gate: &RebuildGate, mode: Rebuild) {
    if core.opts.leaderboard_source.is_none() || gate.running.swap(true, Ordering::AcqRel) {
        return;
    }
    let running = gate.running.clone();
    tokio::spawn(async move {
        for kind in LeaderboardKind::ALL {
            if mode == Rebuild::IfLost {
                let cmd = redis::cmd("EXISTS")
                    .arg(keys::leaderboard_built(*kind))
                    .to_owned();
                if !matches!(core.query::<bool>(&cmd).await, Ok(false)) {
                    continue;
                }
            }
            if let Err(e) = rebuild(&core, *kind).await {
                tracing::warn!(kind = kind.as_str(), error = %e, "leaderboard rebuild failed; retried later");
            }
        }
        running.store(false, Ordering::Release);
    });
}
