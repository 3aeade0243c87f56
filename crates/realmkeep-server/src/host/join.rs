//! The join pipeline: `claim_and_load` (one statement) → `Spawn` input → Redis registration
//! (online, zone set, entity count) → play. The spawn itself runs at the zone's next tick; the
//! join's latency is measured up to the Redis registration.

use super::{ZoneHost, CONTROL_SEND_WAIT};
use crate::cache_worker;
use crate::events::release_unspawned;
use crate::messages::{notice_channel, Control, NoticeReceiver, NoticeSender};
use crate::metrics::bump;
use crate::roster::Who;
use crate::HostError;
use realmkeep_cache::Cache;
use realmkeep_domain::{CharacterId, Fence, ZoneId};
use realmkeep_store::characters::LoadedCharacter;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_zone::io::{SkillCooldown, ZoneInput};
use std::time::{Duration, Instant};

/// What a successful join gives the caller (the gateway, or a simulated player).
#[derive(Debug)]
pub struct JoinReceipt {
    pub zone: ZoneId,
    pub character: CharacterId,
    /// The claim the zone plays the character under.
    pub fence: Fence,
    /// From the call to the Redis registration (the spawn itself runs at the next tick).
    pub latency: Duration,
    /// The player's notices: `Notice::Event(PlayerEvent::Joined { .. })` comes first. On a zone
    /// transfer the same channel carries on in the next zone.
    pub notices: NoticeReceiver,
    /// The character as it was loaded under the claim (the gateway's welcome).
    pub loaded: Box<LoadedCharacter>,
}

impl ZoneHost {
    /// Puts a character into this zone: claim and load in one statement, spawn at the next tick,
    /// Redis registration. Refused while shutting down, or while another zone holds the claim.
    pub async fn join(&self, character: CharacterId) -> Result<JoinReceipt, HostError> {
        let (fence, latency, notices, loaded) = self.join_with(character, None).await?;
        Ok(JoinReceipt {
            loaded,
            zone: self.inner.zone,
            character,
            fence,
            latency,
            notices: notices.expect("a join without a channel makes one"),
        })
    }

    /// The destination side of a transfer: the same pipeline, reusing the player's channel.
    pub(crate) async fn join_transfer(
        &self,
        character: CharacterId,
        notices: Option<NoticeSender>,
    ) -> Result<Fence, HostError> {
        let notices = notices.unwrap_or_else(|| notice_channel(1).0);
        self.join_with(character, Some(notices))
            .await
            .map(|(fence, _, _, _)| fence)
    }

    async fn join_with(
        &self,
        character: CharacterId,
        notices: Option<NoticeSender>,
    ) -> Result<
        (
            Fence,
            Duration,
            Option<NoticeReceiver>,
            Box<LoadedCharacter>,
        ),
        HostError,
    > {
        let inner = &self.inner;
        let c = &inner.metrics.counters;
        if !self.is_accepting() {
            bump(&c.joins_refused);
            return Err(HostError::ShuttingDown);
        }
        if !inner.b.health.is_up() {
            // Known down: answer at once rather than wait out a connection timeout.
            bump(&c.joins_refused);
            return Err(HostError::Unavailable);
        }
        let started = Instant::now();
        // Closed never: the semaphore lives as long as the host.
        let Ok(_loading) = inner.joins.acquire().await else {
            return Err(HostError::ShuttingDown);
        };
        let r = inner
            .b
            .store
            .claim_and_load(character, &inner.holder, inner.config.lease)
            .await;
        inner.b.health.observe(&inner.b.store, &r);
        let (fence, loaded) = r.map_err(|e| {
            bump(&c.joins_refused);
            HostError::from_store(e)
        })?;
        let snapshot = loaded_snapshot(fence, &loaded);
        if !inner.roster.insert(snapshot, who(&loaded)) {
            bump(&c.joins_refused);
            self.release_now(snapshot).await;
            return Err(HostError::AlreadyHere);
        }
        let cooldowns = cooldowns_of(&inner.b.cache, &loaded).await;
        let transfer = notices.is_some();
        let kept = Box::new(loaded.clone());
        let (tx, rx) = match notices {
            Some(tx) => (tx, None),
            None => {
                let (tx, rx) = notice_channel(inner.config.queues.notices_per_player);
                (tx, Some(rx))
            }
        };
        let spawn = Control::Spawn {
            character,
            notices: tx,
            input: ZoneInput::Spawn {
                fence,
                character: Box::new(loaded),
                transfer,
                cooldowns,
            },
        };
        // Shutdown may have begun while the claim was taken: give it back rather than spawn.
        let refusal = if self.is_accepting() {
            let sent = tokio::time::timeout(CONTROL_SEND_WAIT, inner.control.send(spawn)).await;
            match sent {
                Ok(Ok(())) => None,
                Ok(Err(_)) => Some(HostError::ShuttingDown),
                Err(_) => Some(HostError::Busy),
            }
        } else {
            Some(HostError::ShuttingDown)
        };
        if let Some(e) = refusal {
            bump(&c.joins_refused);
            inner.roster.remove(character, Some(fence));
            self.release_now(snapshot).await;
            return Err(e);
        }
        cache_worker::enter(&inner.b.cache, character, inner.zone).await;
        if !transfer {
            crate::friends::tell(&inner.b.store, &inner.b.cache, character, true);
        }
        let latency = started.elapsed();
        inner.metrics.join.record(latency);
        bump(&c.joins);
        tracing::debug!(zone = %inner.zone, %character, epoch = %fence.epoch, ?latency, "joined");
        Ok((fence, latency, rx, kept))
    }

    async fn release_now(&self, snapshot: CharacterSnapshot) {
        let b = &self.inner.b;
        release_unspawned(&b.store, &b.health, snapshot, &self.inner.workers).await;
    }
}

fn loaded_snapshot(fence: Fence, c: &LoadedCharacter) -> CharacterSnapshot {
    CharacterSnapshot {
        fence,
        position: c.position,
        health: c.health,
        mana: c.mana,
        xp: c.xp,
        level: c.level,
    }
}

fn who(c: &LoadedCharacter) -> Who {
    Who {
        name: Some(c.name.clone()),
    }
}

/// The character's running cooldowns, as the cache knows them (this node's if Redis is down).
async fn cooldowns_of(cache: &Cache, c: &LoadedCharacter) -> Vec<SkillCooldown> {
    let cooldowns = cache.cooldowns();
    let reads = c.skills.iter().map(|s| async move {
        cooldowns
            .remaining(c.id, s.skill)
            .await
            .map(|d| SkillCooldown {
                skill: s.skill,
                remaining_ms: d.as_millis().min(u32::MAX as u128) as u32,
            })
    });
    futures::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}
