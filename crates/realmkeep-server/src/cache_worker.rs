//! The cache worker of one zone: applies the zone's `CacheRequest`s through `realmkeep-cache`,
//! one at a time. Best effort by contract: a request that fails is logged at debug level and
//! forgotten. While Redis is down the cache crate answers from the node's own state (degraded
//! mode) and writes it all again when Redis returns; every call is bounded by the cache's
//! command timeout, and the zone only ever `try_send`s into this worker, so it never waits on it.

use crate::messages::Control;
use crate::metrics::{bump, Metrics};
use crate::roster::Roster;
use realmkeep_cache::{Cache, ChatChannel as CacheChat, ChatLine, LeaderboardKind};
use realmkeep_domain::{CharacterId, CharacterName, GuildId, Kingdom, ZoneId};
use realmkeep_zone::io::{Board, CacheRequest, ChatChannel, ZoneInput};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub(crate) struct CacheCtx {
    pub zone: ZoneId,
    /// The zone's control lane: lines Redis could not carry go back to the zone
    /// (`ZoneInput::ChatFallback`), never waited on.
    pub control: mpsc::Sender<Control>,
    pub cache: Cache,
    pub roster: Arc<Roster>,
    pub metrics: Arc<Metrics>,
    pub cancel: CancellationToken,
}

pub(crate) async fn run(ctx: Arc<CacheCtx>, mut rx: mpsc::Receiver<CacheRequest>) {
    loop {
        let req = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return,
            r = rx.recv() => match r {
                Some(r) => r,
                None => return,
            },
        };
        // A span per Redis call: its duration shows in the logs at debug level
        // (`RUST_LOG=realmkeep_server=debug`), as `time.busy` in `--log-format json`.
        let span = tracing::debug_span!("cache", zone = %ctx.zone, op = req.name());
        apply(&ctx, req).instrument(span).await;
        bump(&ctx.metrics.counters.cache_applied);
    }
}

/// Registers `character` as online in `zone` (presence, zone set, entity count share).
pub(crate) async fn enter(cache: &Cache, character: CharacterId, zone: ZoneId) {
    if let Err(e) = cache.presence().enter_zone(character, zone).await {
        tracing::warn!(%character, %zone, error = %e, "presence not registered");
    }
}

/// Takes `character` out of Redis, but only if this node still has it in `zone`: a character
/// this zone lost may already be playing in another zone of the same node.
pub(crate) async fn leave(cache: &Cache, character: CharacterId, zone: ZoneId) {
    let presence = cache.presence();
    let here = presence.lookup(character).await.value;
    let ours = here.is_none_or(|p| p.zone == zone && &p.node == cache.node());
    if ours {
        presence.leave_zone(character).await;
    }
}

async fn apply(ctx: &CacheCtx, req: CacheRequest) {
    let cache = &ctx.cache;
    match req {
        CacheRequest::EntityCount { zone, count } => {
            if let Err(e) = cache.presence().set_entity_count(zone, count).await {
                tracing::debug!(%zone, error = %e, "entity count not set");
            }
        }
        CacheRequest::Leaderboard {
            board,
            character,
            score,
        } => {
            let kind = match board {
                Board::Level => LeaderboardKind::Level,
                Board::Pvp => LeaderboardKind::Pvp,
            };
            cache
                .leaderboards()
                .set_score(kind, character, score as f64)
                .await;
        }
        CacheRequest::Cooldown {
            character,
            skill,
            ms,
        } => {
            let d = Duration::from_millis(u64::from(ms));
            if let Err(e) = cache.cooldowns().try_start(character, skill, d).await {
                tracing::debug!(%character, error = %e, "cooldown not kept");
            }
        }
        CacheRequest::MailArrived { to, mail } => {
            let event = realmkeep_cache::PlayerEvent::MailArrived { mail };
            if let Err(e) = cache.events().notify_player(to, event).await {
                tracing::debug!(%to, error = %e, "mail notice not delivered (the mail is in the mailbox)");
            }
        }
        CacheRequest::Chat {
            channel,
            from,
            name,
            text,
            kingdom,
            guild,
        } => {
            let speaker = Speaker {
                from,
                kingdom,
                guild,
            };
            chat(ctx, channel, speaker, &name, &text).await
        }
    }
}

/// Who speaks, and the channels that are theirs as the zone knows it.
struct Speaker {
    from: CharacterId,
    kingdom: Kingdom,
    guild: Option<GuildId>,
}

async fn chat(ctx: &CacheCtx, channel: ChatChannel, speaker: Speaker, name: &str, text: &str) {
    let from = speaker.from;
    let who = ctx.roster.who(from);
    let name = match CharacterName::parse(name) {
        Ok(n) => n,
        Err(_) => match who.as_ref().and_then(|w| w.name.clone()) {
            Some(n) => n,
            None => return,
        },
    };
    let line = match ChatLine::new(from, name, text) {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!(%from, error = %e, "chat line refused");
            return;
        }
    };
    let zone_channel = channel.clone();
    let target = match channel {
        ChatChannel::Say => CacheChat::Zone(ctx.zone),
        ChatChannel::Global => CacheChat::Global,
        ChatChannel::Kingdom => CacheChat::Kingdom(speaker.kingdom),
        ChatChannel::Guild => match speaker.guild {
            Some(g) => CacheChat::Guild(g),
            None => return,
        },
        ChatChannel::Whisper { to } => {
            let event = realmkeep_cache::PlayerEvent::Whisper { line };
            if let Err(e) = ctx.cache.events().notify_player(to, event).await {
                tracing::debug!(%from, %to, error = %e, "whisper not delivered");
            }
            return;
        }
    };
    let published = match ctx.cache.chat().send(target, &line).await {
        Ok(sent) => sent.cross_zone,
        Err(e) => {
            tracing::debug!(%from, error = %e, "chat line not sent");
            false
        }
    };
    if !published {
        // Redis is down: the zone's own players on the channel still hear it (degraded chat).
        let input = ZoneInput::ChatFallback {
            channel: zone_channel,
            from,
            name: line.from_name.to_string(),
            text: line.text.clone(),
            kingdom: speaker.kingdom,
            guild: speaker.guild,
        };
        if ctx.control.try_send(Control::Input(input)).is_err() {
            bump(&ctx.metrics.counters.cache_dropped);
        }
    }
}
