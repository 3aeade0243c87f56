//! A player's turn (observation, decision, action), and the ends of a population's life: stopping
//! everyone in place and logging everyone out.

use crate::act::Call;
use crate::driver::{LogoutReport, Population};
use crate::limits::{ACTIONS_PER_STEP_MAX, OBSERVED_BAG_MAX, OBSERVED_PEERS_MAX};
use crate::mind::{BagItem, Intent, Observation};
use crate::observe::Seen;
use crate::player::{Pending, Place, SimPlayer};
use crate::stats::bump;
use realmkeep_cache::QueueKind;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_server::HostError;
use realmkeep_zone::io::{Action, PlayerCommand};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Up to `OBSERVED_PEERS_MAX` others of `all` (sorted), starting after `me`.
fn peers(all: &[CharacterId], me: CharacterId) -> Vec<CharacterId> {
    let start = all.partition_point(|c| *c <= me);
    all[start..]
        .iter()
        .chain(&all[..start])
        .filter(|c| **c != me)
        .take(OBSERVED_PEERS_MAX)
        .copied()
        .collect()
}

impl Population {
    fn observation(
        &self,
        p: &SimPlayer,
        zone: ZoneId,
        seen: &Seen,
        all: &[CharacterId],
    ) -> Observation {
        let bag = seen
            .bag
            .iter()
            .take(OBSERVED_BAG_MAX)
            .map(|i| BagItem {
                item: i.item,
                def: i.def,
                quantity: i.quantity,
                price: self.prices.get(&i.def).copied().unwrap_or(1),
            })
            .collect();
        Observation {
            me: Some(seen.body),
            zone: Some(zone),
            monsters: seen.monsters.clone(),
            loot: seen.loot.clone(),
            peers: peers(all, p.seeded.character),
            bag,
            gold: seen.gold,
            offer: p.offer_in.clone(),
            busy: p.pending.is_some(),
            queued: p.queued,
        }
    }

    /// Up to `ACTIONS_PER_STEP_MAX` players whose turn it is decide and act.
    pub(crate) fn take_turns(&mut self, seen: &HashMap<CharacterId, Seen>) {
        let mut by_zone: BTreeMap<ZoneId, Vec<CharacterId>> = BTreeMap::new();
        for p in &self.players {
            if let Some(z) = p.zone() {
                by_zone.entry(z).or_default().push(p.seeded.character);
            }
        }
        for v in by_zone.values_mut() {
            v.sort();
        }
        self.follow_up();
        let n = self.players.len();
        let every = self.config.think_every_steps.max(1);
        let mut turns = Vec::new();
        for k in 0..n {
            if turns.len() >= ACTIONS_PER_STEP_MAX {
                break;
            }
            let i = (self.cursor + k) % n;
            let p = &self.players[i];
            if !(p.seeded.index as u64 + self.step).is_multiple_of(every) {
                continue;
            }
            let (Some(zone), Some(s)) = (p.zone(), seen.get(&p.seeded.character)) else {
                continue;
            };
            let obs = self.observation(p, zone, s, &by_zone[&zone]);
            turns.push((i, zone, obs));
        }
        self.cursor = (self.cursor + turns.len()) % n.max(1);
        for (i, zone, obs) in turns {
            let behaviour = &self.config.behaviour;
            let p = &mut self.players[i];
            let intent = p.mind.decide(behaviour, &obs);
            if !obs.busy {
                // Seen once: taken or let go (the zone forgets it after 30 s).
                p.offer_in = None;
            }
            self.carry_out(i, zone, intent);
        }
    }

    fn carry_out(&mut self, i: usize, zone: ZoneId, intent: Intent) {
        if intent == Intent::Wait {
            return;
        }
        bump(&self.stats.actions);
        let character = self.players[i].seeded.character;
        if let Some(command) = intent.command() {
            let Some(host) = self.cluster.zone(zone) else {
                return;
            };
            match host.command(character, command) {
                Ok(()) => bump(&self.stats.commands),
                Err(HostError::Busy) => return bump(&self.stats.commands_busy),
                Err(_) => return,
            }
            let (step, p) = (self.step, &mut self.players[i]);
            match intent {
                Intent::OfferTrade { .. } => {
                    bump(&self.stats.trade_offers);
                    p.pending = Some(Pending::Offered { since: step });
                }
                Intent::AcceptTrade(offer) => {
                    p.pending = Some(Pending::Accepted { offer, since: step });
                }
                Intent::ChangeZone { to } => p.place = Place::Moving { to, since: step },
                Intent::Chat { .. } => bump(&self.stats.chats),
                Intent::ListItem { .. } | Intent::BuyListing { .. } => {
                    p.pending = Some(Pending::Answer {
                        action: Action::Market,
                        since: step,
                    })
                }
                Intent::SendMail { .. } | Intent::ClaimMail => {
                    p.pending = Some(Pending::Answer {
                        action: Action::Mail,
                        since: step,
                    })
                }
                _ => {}
            }
            return;
        }
        if intent == Intent::QueueDungeon {
            self.start_call(i, Call::Queue { character });
        }
    }

    /// Sends the second half of two-step actions whose first answer came: the buy after a market
    /// page, the claim after the mailbox.
    fn follow_up(&mut self) {
        for p in &mut self.players {
            let (Some(zone), Some(command)) = (p.zone(), p.follow_up.take()) else {
                continue;
            };
            let Some(host) = self.cluster.zone(zone) else {
                continue;
            };
            match host.command(p.seeded.character, command) {
                Ok(()) => bump(&self.stats.commands),
                Err(_) => {
                    bump(&self.stats.commands_busy);
                    p.pending = None;
                }
            }
        }
    }

    /// Logs every player out the way a client does (`Logout`, then the zone's final save), waits
    /// at most `wait` for the confirmations, then ends their sessions and takes them out of the
    /// matchmaking queue.
    pub async fn logout_all(&mut self, wait: Duration) -> LogoutReport {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.collect();
            let step = self.step;
            for p in &mut self.players {
                p.read_notices(step, &self.stats, &self.receipts_tx);
            }
            for p in &mut self.players {
                match p.place {
                    Place::InZone { zone, .. } => {
                        let Some(host) = self.cluster.zone(zone) else {
                            continue;
                        };
                        if host
                            .command(p.seeded.character, PlayerCommand::Logout)
                            .is_ok()
                        {
                            p.place = Place::LoggingOut { since: step };
                        }
                    }
                    Place::Offline { .. } => p.place = Place::Out,
                    _ => {}
                }
            }
            let done = self.players.iter().all(|p| p.place == Place::Out);
            if done || tokio::time::Instant::now() >= deadline {
                break;
            }
            self.step += 1;
            tokio::time::sleep(self.config.step).await;
        }
        let cache = self.cluster.cache().clone();
        for p in &mut self.players {
            if let Some(token) = p.token.take() {
                cache.sessions().revoke(&token).await;
            }
            if std::mem::take(&mut p.queued) {
                crate::stats::dec(&self.stats.queued);
                let _ = cache
                    .matchmaking()
                    .leave(QueueKind::Dungeon, p.seeded.character)
                    .await;
            }
        }
        let logged_out = self
            .players
            .iter()
            .filter(|p| p.place == Place::Out)
            .count();
        LogoutReport {
            logged_out,
            unconfirmed: self.players.len() - logged_out,
        }
    }
}
