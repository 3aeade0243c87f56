//! `Population`: simulated players driven through a cluster's public API, one step at a time on
//! the Tokio runtime, while the zones tick on their own threads.
//!
//! One step: finished calls and joins are applied, every player's notices are read, offline
//! players join again, each zone is read once (`observe`), then up to `ACTIONS_PER_STEP_MAX`
//! players decide (`Mind::decide`) and act (`turn.rs`): zone commands go to `ZoneHost::command`
//! without waiting, store and cache calls run as tasks (bounded) whose answers arrive at a later
//! step.

use crate::act::Done;
use crate::limits::*;
use crate::mind::Behaviour;
use crate::observe::{look, Seen};
use crate::player::SimPlayer;
use crate::seed::{ensure_players, SeededPlayer, SIM_PASSWORD};
use crate::stats::{bump, SimStats, StatsSnapshot, TradeReceipt};
use crate::SimError;
use realmkeep_domain::content::Content;
use realmkeep_domain::{CharacterId, ItemDefId, Password, ZoneId};
use realmkeep_server::{Cluster, HostError, JoinReceipt};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// How a population plays.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Names of accounts and characters: `{prefix}_accNNNNN`, `{prefix}NNNNN`.
    pub prefix: String,
    /// Seeds every player's decisions (player `i` gets `Mind::new(seed, i)`).
    pub seed: u64,
    /// Time between two steps.
    pub step: Duration,
    /// Each player decides every this many steps (players take turns by index).
    pub think_every_steps: u64,
    pub behaviour: Behaviour,
    /// Players logged in with the real password check (the rest: see `seed`).
    pub real_logins: usize,
}

impl SimConfig {
    /// A calm population over the cluster's zones, a step every 100 ms.
    pub fn new(prefix: &str, seed: u64, zones: Vec<ZoneId>) -> Self {
        Self {
            prefix: prefix.to_string(),
            seed,
            step: STEP_DEFAULT,
            think_every_steps: 2,
            behaviour: Behaviour::calm(zones),
            real_logins: REAL_LOGINS_MAX,
        }
    }
}

/// What `spawn` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpawnReport {
    pub created: usize,
    pub found: usize,
    pub joined: usize,
}

/// What `logout_all` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogoutReport {
    pub logged_out: usize,
    /// Players whose logout was not confirmed within the wait.
    pub unconfirmed: usize,
}

pub(crate) enum Finished {
    Call(usize, Done),
    /// A join, and the new session token if the old one had to be replaced.
    Join(
        usize,
        ZoneId,
        Option<String>,
        Result<JoinReceipt, HostError>,
    ),
}

/// Simulated players of one cluster.
pub struct Population {
    pub(crate) cluster: Cluster,
    pub(crate) config: SimConfig,
    pub(crate) prices: HashMap<ItemDefId, i64>,
    pub(crate) players: Vec<SimPlayer>,
    pub(crate) stats: Arc<SimStats>,
    pub(crate) step: u64,
    pub(crate) cursor: usize,
    pub(crate) calls: Arc<Semaphore>,
    pub(crate) joins: Arc<Semaphore>,
    pub(crate) done_tx: mpsc::Sender<Finished>,
    pub(crate) done_rx: mpsc::Receiver<Finished>,
    pub(crate) receipts_tx: mpsc::Sender<TradeReceipt>,
    receipts_rx: Option<mpsc::Receiver<TradeReceipt>>,
}

impl Population {
    pub fn new(cluster: Cluster, content: &Content, config: SimConfig) -> Self {
        let (done_tx, done_rx) = mpsc::channel(STORE_CALLS_IN_FLIGHT_MAX + JOINS_IN_FLIGHT_MAX);
        let (receipts_tx, receipts_rx) = mpsc::channel(RECEIPTS_QUEUE_MAX);
        Self {
            cluster,
            prices: content.items.iter().map(|i| (i.id, i.price)).collect(),
            config,
            players: Vec::new(),
            stats: Arc::new(SimStats::default()),
            step: 0,
            cursor: 0,
            calls: Arc::new(Semaphore::new(STORE_CALLS_IN_FLIGHT_MAX)),
            joins: Arc::new(Semaphore::new(JOINS_IN_FLIGHT_MAX)),
            done_tx,
            done_rx,
            receipts_tx,
            receipts_rx: Some(receipts_rx),
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The counters, for a task that reports while the population runs elsewhere.
    pub fn stats_handle(&self) -> Arc<SimStats> {
        self.stats.clone()
    }

    /// Every acknowledged trade, once (taken by the first caller).
    pub fn receipts(&mut self) -> Option<mpsc::Receiver<TradeReceipt>> {
        self.receipts_rx.take()
    }

    pub fn len(&self) -> usize {
        self.players.len()
    }

    pub fn is_empty(&self) -> bool {
        self.players.is_empty()
    }

    /// The characters of the population and the zone each is in, if any.
    pub fn characters(&self) -> Vec<(CharacterId, Option<ZoneId>)> {
        self.players
            .iter()
            .map(|p| (p.seeded.character, p.zone()))
            .collect()
    }

    /// Adds `n` players: finds or creates their accounts and characters (`seed`), then
    /// `spawn_seeded`.
    pub async fn spawn(&mut self, n: usize, wait: Duration) -> Result<SpawnReport, SimError> {
        let first = self.players.len();
        let store = self.cluster.store().clone();
        let seeded = ensure_players(&store, &self.config.prefix, first + n).await?;
        self.spawn_seeded(seeded.into_iter().skip(first).collect(), wait)
            .await
    }

    /// Adds players seeded already: logs them in (a sample with the real password check), opens
    /// their sessions in the cache, and joins them into zones (the zone they were saved in, if
    /// this cluster runs it; new characters spread over the zones), stepping until they are in
    /// or `wait` ran out (the others keep trying).
    pub async fn spawn_seeded(
        &mut self,
        seeded: Vec<SeededPlayer>,
        wait: Duration,
    ) -> Result<SpawnReport, SimError> {
        let first = self.players.len();
        if first + seeded.len() > PLAYERS_MAX {
            return Err(SimError::Invalid(format!(
                "at most {PLAYERS_MAX} simulated players"
            )));
        }
        let zones: Vec<ZoneId> = self.cluster.zones().map(|z| z.zone()).collect();
        let mut report = SpawnReport::default();
        let password = Password::parse(SIM_PASSWORD).expect("the simulator's password is valid");
        for mut s in seeded {
            if s.created {
                report.created += 1;
            } else {
                report.found += 1;
            }
            if s.created || self.cluster.zone(s.home).is_none() {
                s.home = zones[s.index % zones.len()];
            }
            self.login(&s, &password).await?;
            let mut p = SimPlayer::new(s, self.config.seed);
            let session = self
                .cluster
                .cache()
                .sessions()
                .issue(p.seeded.account)
                .await;
            p.token = Some(session.token.as_str().to_string());
            self.players.push(p);
        }
        let target = self.players.len();
        let _ = tokio::time::timeout(wait, async {
            while self.players.iter().filter(|p| p.zone().is_some()).count() < target {
                self.step().await;
                tokio::time::sleep(self.config.step).await;
            }
        })
        .await;
        report.joined = self.players[first..]
            .iter()
            .filter(|p| p.zone().is_some())
            .count();
        Ok(report)
    }

    async fn login(&self, s: &SeededPlayer, password: &Password) -> Result<(), SimError> {
        bump(&self.stats.logins);
        if s.index >= self.config.real_logins {
            // Trusted: the seeding returned the account id (see `seed`).
            return Ok(());
        }
        let store = self.cluster.store();
        let logged = store.login(&s.username, password, None).await?;
        if logged.account != s.account {
            return Err(SimError::Invalid(format!(
                "{} logged into account {} instead of {}",
                s.username, logged.account, s.account
            )));
        }
        bump(&self.stats.real_logins);
        Ok(())
    }

    /// Steps every `config.step` until `stop` resolves.
    pub async fn run_until<F: Future>(&mut self, stop: F) {
        tokio::pin!(stop);
        let mut every = tokio::time::interval(self.config.step);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = every.tick() => self.step().await,
            }
        }
    }

    pub async fn run_for(&mut self, d: Duration) {
        self.run_until(tokio::time::sleep(d)).await
    }

    /// One step of every player.
    pub async fn step(&mut self) {
        self.step += 1;
        self.collect();
        let step = self.step;
        for p in &mut self.players {
            p.read_notices(step, &self.stats, &self.receipts_tx);
            p.expire(step, &self.stats);
        }
        self.rejoin();
        let seen = self.look().await;
        self.take_turns(&seen);
        if step.is_multiple_of(MATCHMAKING_POP_EVERY_STEPS) {
            self.matchmake().await;
        }
    }

    /// Reads every zone once: what each player in it sees.
    pub(crate) async fn look(&self) -> HashMap<CharacterId, Seen> {
        let mut by_zone: HashMap<ZoneId, Vec<CharacterId>> = HashMap::new();
        for p in &self.players {
            if let Some(z) = p.zone() {
                by_zone.entry(z).or_default().push(p.seeded.character);
            }
        }
        let reads = by_zone.into_iter().filter_map(|(z, who)| {
            let host = self.cluster.zone(z)?.clone();
            Some(async move { look(&host, who).await })
        });
        let mut seen = HashMap::new();
        for r in futures::future::join_all(reads).await {
            match r {
                Ok(v) => seen.extend(v),
                Err(e) => tracing::debug!(error = %e, "zone read skipped this step"),
            }
        }
        seen
    }
}
