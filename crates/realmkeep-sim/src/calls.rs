//! The answers that come back to a population: finished cache calls, joins, and the matchmaker's
//! groups.

use crate::act::{call, Call, Done};
use crate::driver::{Finished, Population};
use crate::limits::REJOIN_AFTER_STEPS;
use crate::player::{Pending, Place};
use crate::stats::{bump, dec};
use realmkeep_cache::QueueKind;
use realmkeep_server::HostError;

impl Population {
    /// Applies the answers of finished calls and joins.
    pub(crate) fn collect(&mut self) {
        while let Ok(f) = self.done_rx.try_recv() {
            match f {
                Finished::Call(i, done) => self.apply(i, done),
                Finished::Join(i, zone, token, r) => {
                    let p = &mut self.players[i];
                    if token.is_some() {
                        p.token = token;
                    }
                    match r {
                        Ok(receipt) => {
                            bump(&self.stats.joins);
                            bump(&self.stats.online);
                            p.notices = Some(receipt.notices);
                            p.entered(zone);
                            p.seeded.home = zone;
                        }
                        Err(e) => {
                            bump(&self.stats.join_failures);
                            tracing::debug!(character = %p.seeded.character, error = %e, "join failed; trying again later");
                            p.place = Place::Offline {
                                retry_at: self.step + REJOIN_AFTER_STEPS,
                            };
                        }
                    }
                }
            }
        }
    }

    fn apply(&mut self, i: usize, done: Done) {
        let s = &self.stats;
        let p = &mut self.players[i];
        if p.pending == Some(Pending::Call) {
            p.pending = None;
        }
        match done {
            Done::Queued => {
                bump(&s.dungeon_queued);
                bump(&s.queued);
                p.queued = true;
            }
            Done::Nothing => {}
            Done::Refused => bump(&s.refused),
        }
    }

    /// Starts a call for player `i` if a slot is free; false if not (it tries another time).
    pub(crate) fn start_call(&mut self, i: usize, c: Call) -> bool {
        let Ok(permit) = self.calls.clone().try_acquire_owned() else {
            return false;
        };
        self.players[i].pending = Some(Pending::Call);
        let cache = self.cluster.cache().clone();
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let done = call(&cache, c).await;
            drop(permit);
            let _ = tx.send(Finished::Call(i, done)).await;
        });
        true
    }

    /// Joins players that are offline and due, as many as the join slots allow.
    pub(crate) fn rejoin(&mut self) {
        for i in 0..self.players.len() {
            let p = &mut self.players[i];
            let due = matches!(p.place, Place::Offline { retry_at } if retry_at <= self.step);
            if !due {
                continue;
            }
            let Ok(permit) = self.joins.clone().try_acquire_owned() else {
                return;
            };
            p.place = Place::Joining;
            let (zone, character, account) = (p.seeded.home, p.seeded.character, p.seeded.account);
            let token = p.token.clone().unwrap_or_default();
            let (cluster, tx, stats) = (
                self.cluster.clone(),
                self.done_tx.clone(),
                self.stats.clone(),
            );
            tokio::spawn(async move {
                // As the gateway will: the session first, then the join. A session that idled
                // out is opened again, as a client logging in again would.
                let sessions = cluster.cache().sessions();
                let mut renewed = None;
                if !sessions.validate(&token).await.is_valid() {
                    let t = sessions.issue(account).await.token.as_str().to_string();
                    renewed = Some(t);
                }
                let valid = match &renewed {
                    Some(t) => sessions.validate(t).await.is_valid(),
                    None => true,
                };
                let r = if valid {
                    bump(&stats.sessions_valid);
                    cluster.join(zone, character).await
                } else {
                    // The session could not be opened (Redis trouble): try again later.
                    Err(HostError::Busy)
                };
                drop(permit);
                let _ = tx.send(Finished::Join(i, zone, renewed, r)).await;
            });
        }
    }

    /// Stands in for the matchmaker: pops full dungeon groups (they leave the queue together).
    pub(crate) async fn matchmake(&mut self) {
        const POPS_PER_ROUND_MAX: usize = 4;
        for _ in 0..POPS_PER_ROUND_MAX {
            let popped = match self
                .cluster
                .cache()
                .matchmaking()
                .pop_group(QueueKind::Dungeon)
                .await
            {
                Ok(p) => p,
                Err(_) => return,
            };
            let mut out = popped.timed_out;
            let formed = popped.group.is_some();
            if let Some(g) = popped.group {
                bump(&self.stats.dungeon_groups);
                out.extend(g);
            }
            for p in self
                .players
                .iter_mut()
                .filter(|p| out.contains(&p.seeded.character))
            {
                if std::mem::take(&mut p.queued) {
                    dec(&self.stats.queued);
                }
            }
            if !formed {
                return;
            }
        }
    }
}
