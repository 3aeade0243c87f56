//! `realmkeep serve`: zones against a configured PostgreSQL and Redis, no private servers, with
//! the gateway (HTTP API and WebSocket, `--listen`, optional TLS) in front of them. Runs the
//! server crate's `serve` (status in the log every 10 s, SIGTERM or Ctrl-C saves everyone).
//!
//! `--sim-players N` also runs N simulated players inside the process and prints one JSON line
//! on stdout per acknowledged trade (`{"event":"trade","a":..,"b":..,"a_items":[..],..}`), after
//! a `{"event":"ready",..}` line once they have joined. The crash test reads these lines.

use anyhow::{bail, Context, Result};
use clap::Args;
use realmkeep_domain::ZoneId;
use realmkeep_gateway::{Gateway, GatewayConfig, MetricsAccess, TlsFiles};
use realmkeep_server::{Cluster, ClusterConfig, Endpoints};
use realmkeep_sim::{Behaviour, Population, SimConfig};
use realmkeep_store::accounts::PasswordHashing;
use realmkeep_store::StoreOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The default drain: long enough for a load balancer's health check to see `/readyz` fail
/// (typically every 1-2 s), short against an orchestrator's usual 30 s stop grace.
pub const DRAIN_SECONDS: u64 = 5;

/// How long simulated players get to join before the node reports ready.
const SIM_JOIN_WAIT: Duration = Duration::from_secs(60);

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// PostgreSQL URL (or `[database] url`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Connections of the node's PostgreSQL pool at the most (default: enough for its zones).
    #[arg(long)]
    pub pool_connections_max: Option<u32>,
    /// Redis URL (or `[redis] url`).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Zones to run, by id, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub zones: Vec<i32>,
    /// The node's name: part of every claim it holds. ASCII letters, digits, '-' and '_'.
    #[arg(long, default_value = "node1")]
    pub node: String,
    /// Claim lease in seconds, renewed every third of it: a crashed node's characters can be
    /// claimed elsewhere this long after its last renewal.
    #[arg(long, default_value_t = 60)]
    pub lease_seconds: u64,
    /// How often a zone saves its changed characters, in milliseconds (default: the server's).
    #[arg(long)]
    pub save_interval_ms: Option<u64>,
    /// At a stop, how long zones wait for the final saves before they leave claims to expire
    /// (default: the server's).
    #[arg(long)]
    pub shutdown_wait_seconds: Option<u64>,
    /// The HMAC key of session tokens, at least 32 bytes (default: a random one for this process).
    #[arg(long, env = "REALMKEEP_SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<String>,
    /// A directory laid out like the repository's content/ (default: the bundled content).
    #[arg(long)]
    pub content: Option<PathBuf>,
    /// The dungeon queue's instance zone: this node's matchmaker pops full groups of
    /// `matchmaking:queue:dungeon` and sends them there together (it may run on another node).
    /// Unset: this node forms no dungeon groups.
    #[arg(long)]
    pub dungeon_zone: Option<i32>,
    /// Run this many simulated players inside the node (see above).
    #[arg(long, default_value_t = 0)]
    pub sim_players: usize,
    /// Name prefix of the simulated players' accounts and characters.
    #[arg(long, default_value = "sim")]
    pub sim_prefix: String,
    /// Seed of the simulated players' decisions and of the zones.
    #[arg(long, default_value_t = 1)]
    pub sim_seed: u64,
    /// At SIGTERM, seconds during which `/readyz` answers 503 while players still play, before
    /// the sockets close and everyone is saved (a second signal cuts it short).
    #[arg(long, default_value_t = DRAIN_SECONDS)]
    pub drain_seconds: u64,
    /// For the gateway benchmark: each line read on stdin prints one JSON line on stdout (per
    /// zone its players and the tick durations since the previous line; open connections).
    #[arg(long, hide = true)]
    pub stats_on_stdin: bool,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// The gateway in front of the node, and how passwords are hashed.
#[derive(Args, Clone, Debug)]
pub struct GatewayArgs {
    /// Where the HTTP API and the WebSocket listen.
    #[arg(long, default_value = realmkeep_gateway::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// PEM certificate chain: serve HTTPS and WSS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The WebSocket URL players are sent to from other nodes for this node's zones (default:
    /// ws:// or wss:// and --listen, right only if that address is reachable as it is).
    #[arg(long)]
    pub public_url: Option<String>,
    /// A rate limit other than the default, `ACTION=LIMIT/SECONDS` (e.g. `register=100000/3600`
    /// for a benchmark whose bots all come from one address). Repeatable.
    #[arg(long = "rate-limit", value_parser = parse_rate_limit)]
    pub rate_limits: Vec<realmkeep_cache::options::RateLimitConfig>,
    /// Open connections from one address at the most.
    #[arg(long, default_value_t = realmkeep_gateway::limits::CONNECTIONS_PER_IP_MAX)]
    pub connections_per_ip: usize,
    /// Argon2id memory cost in KiB (at least OWASP's 19456).
    #[arg(long, default_value_t = realmkeep_store::accounts::ARGON2_M_COST_KIB)]
    pub argon2_memory_kib: u32,
    /// Argon2id passes (at least 2).
    #[arg(long, default_value_t = realmkeep_store::accounts::ARGON2_T_COST)]
    pub argon2_passes: u32,
    /// Argon2id lanes (at least 1).
    #[arg(long, default_value_t = realmkeep_store::accounts::ARGON2_P_COST)]
    pub argon2_lanes: u32,
    /// Who may scrape `/metrics`: `private` (loopback and private networks) or `any`.
    #[arg(long, value_enum, default_value_t = MetricsAccessArg::Private)]
    pub metrics_access: MetricsAccessArg,
    /// Password hashes computed at once; more logins wait their turn.
    #[arg(long, default_value_t = realmkeep_store::accounts::PASSWORD_HASHES_IN_FLIGHT_MAX)]
    pub password_hashes_at_once: usize,
}

/// `--metrics-access`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccessArg {
    Private,
    Any,
}

impl GatewayArgs {
    pub fn gateway_config(&self) -> GatewayConfig {
        let access = match self.metrics_access {
            MetricsAccessArg::Private => MetricsAccess::Private,
            MetricsAccessArg::Any => MetricsAccess::Any,
        };
        let mut c = GatewayConfig::new(self.listen)
            .with_connections_per_ip(self.connections_per_ip)
            .with_metrics_access(access);
        if let Some(url) = &self.public_url {
            c = c.with_public_url(url.clone());
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            c = c.with_tls(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            });
        }
        c
    }

    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            password_hashing: PasswordHashing {
                m_cost_kib: self.argon2_memory_kib,
                t_cost: self.argon2_passes,
                p_cost: self.argon2_lanes,
                in_flight_max: self.password_hashes_at_once,
            },
            ..StoreOptions::default()
        }
    }
}

fn secret(given: Option<&str>) -> Vec<u8> {
    match given {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            tracing::warn!("no session secret given: sessions of this node are valid on it alone");
            (0..32).map(|_| rand::random::<u8>()).collect()
        }
    }
}

pub async fn run(args: ServeArgs) -> Result<()> {
    let content = Arc::new(match &args.content {
        Some(d) => realmkeep_store::seed::read_content_dir(d)?,
        None => realmkeep_store::seed::bundled_content()?,
    });
    let zones: Vec<ZoneId> = args.zones.iter().copied().map(ZoneId).collect();
    if zones.is_empty() {
        bail!("--zones names no zone");
    }
    for z in &zones {
        if !content.zones.iter().any(|d| d.id == *z) {
            bail!("zone {z} is not in the content");
        }
    }
    let mut config = ClusterConfig::new(args.node.clone(), zones.clone())
        .with_rate_limits(args.gateway.rate_limits.clone())
        .with_lease(Duration::from_secs(args.lease_seconds))
        .with_seed(args.sim_seed);
    if let Some(z) = args.dungeon_zone {
        if !content.zones.iter().any(|d| d.id == ZoneId(z)) {
            bail!("dungeon zone {z} is not in the content");
        }
        config = config.with_instance_zone(realmkeep_cache::QueueKind::Dungeon, ZoneId(z));
    }
    if let Some(ms) = args.save_interval_ms {
        config = config.with_save_interval(Duration::from_millis(ms));
    }
    if let Some(s) = args.shutdown_wait_seconds {
        config = config.with_shutdown_wait(Duration::from_secs(s));
    }
    // Refused here, before anything connects, with what is wrong.
    config.host.check().context("the node's options")?;
    let endpoints = Endpoints {
        database_url: args
            .database_url
            .clone()
            .context("no database: --database-url, DATABASE_URL or [database] url")?,
        redis_url: args
            .redis_url
            .clone()
            .context("no Redis: --redis-url, REDIS_URL or [redis] url")?,
        session_secret: secret(args.session_secret.as_deref()),
    };
    let mut opts = args.gateway.store_options();
    if let Some(n) = args.pool_connections_max {
        opts.pool_connections_max = n;
    }
    let cluster = Cluster::connect(config, &endpoints, &opts, content.clone())
        .await
        .context("starting the node")?;
    warn_if_privileged(&cluster).await;
    let gateway = Gateway::start(cluster.clone(), args.gateway.gateway_config())
        .await
        .context("opening the gateway")?;
    eprintln!("gateway listening on {}", gateway.base_url());
    let stop = drained(gateway.clone(), Duration::from_secs(args.drain_seconds));
    if args.stats_on_stdin {
        tokio::spawn(stats_on_stdin(cluster.clone(), gateway.clone()));
    }
    if args.sim_players == 0 {
        let reports = realmkeep_server::serve(cluster, stop).await;
        gateway.stop();
        for r in reports {
            eprintln!(
                "zone {}: {} ({} still held) in {:.1} s",
                r.zone,
                if r.complete {
                    "everyone saved"
                } else {
                    "shutdown wait ran out"
                },
                r.still_held,
                r.elapsed.as_secs_f64()
            );
        }
        return Ok(());
    }
    let mut sim = SimConfig::new(&args.sim_prefix, args.sim_seed, zones.clone());
    sim.behaviour = Behaviour::lively(zones);
    sim.think_every_steps = 1;
    let mut pop = Population::new(cluster.clone(), &content, sim);
    let mut receipts = pop.receipts().expect("receipts are taken once");
    let spawned = pop.spawn(args.sim_players, SIM_JOIN_WAIT).await?;
    println!(
        "{}",
        serde_json::json!({"event": "ready", "players": spawned.joined, "created": spawned.created})
    );
    let printer = tokio::spawn(async move {
        while let Some(r) = receipts.recv().await {
            let mut line = serde_json::to_value(&r).expect("a receipt serializes");
            line["event"] = "trade".into();
            println!("{line}");
        }
    });
    pop.run_until(stop).await;
    tracing::info!(node = %cluster.node(), "stopping: saving every character");
    gateway.stop();
    let reports = cluster.shutdown().await;
    drop(pop);
    let _ = printer.await;
    let complete = reports.iter().all(|r| r.complete);
    eprintln!(
        "node stopped: {}",
        if complete {
            "everyone saved"
        } else {
            "some claims left to expire"
        }
    );
    Ok(())
}

/// The graceful stop an orchestrator relies on: at SIGTERM (or Ctrl-C) `/readyz` turns 503 at
/// once while players go on playing for `drain` (a second signal cuts it short); then every
/// socket is closed (1001) and the caller saves and releases everyone before the process exits.
async fn drained(gateway: Gateway, drain: Duration) {
    let signal = realmkeep_server::shutdown_signal().await;
    gateway.drain();
    tracing::info!(
        signal,
        drain_s = drain.as_secs(),
        "stopping: not ready, draining"
    );
    tokio::select! {
        _ = tokio::time::sleep(drain) => {}
        again = realmkeep_server::shutdown_signal() => {
            tracing::info!(signal = again, "second signal: drain cut short");
        }
    }
    gateway.stop();
}

/// A node should connect as a login role that is a member of `realmkeep_game` only, which cannot
/// rewrite, empty or drop `game_logs` (docs/OPERATIONS.md, "The game servers' database role").
async fn warn_if_privileged(cluster: &Cluster) {
    match cluster.store().game_logs_rewritable().await {
        Ok(false) => {}
        Ok(true) => tracing::warn!(
            "connected to PostgreSQL as a role that can rewrite or drop game_logs: connect as a \
             login role in realmkeep_game instead (docs/OPERATIONS.md)"
        ),
        Err(e) => tracing::warn!(error = %e, "the database role's privileges were not checked"),
    }
}

/// One JSON line on stdout for each line on stdin, until stdin closes: what the benchmark
/// measures inside the node over a window.
async fn stats_on_stdin(cluster: Cluster, gateway: Gateway) {
    let mut lines = crate::stdin::lines();
    while lines.recv().await.is_some() {
        let zones: Vec<_> = cluster
            .zones()
            .map(|z| {
                let w = z.take_tick_window();
                let (tick, cpu) = (w.wall, w.cpu);
                let m = z.metrics();
                serde_json::json!({
                    "zone": z.zone().0,
                    "players": m.players,
                    "ticks": tick.count,
                    "tick_p50_us": tick.p50_us,
                    "tick_p99_us": tick.p99_us,
                    "tick_max_us": tick.max_us,
                    "tick_cpu_p50_us": cpu.p50_us,
                    "tick_cpu_p99_us": cpu.p99_us,
                    "tick_cpu_max_us": cpu.max_us,
                    "commands": w.command_wait.count,
                    "command_wait_p50_us": w.command_wait.p50_us,
                    "command_wait_p99_us": w.command_wait.p99_us,
                    "command_wait_max_us": w.command_wait.max_us,
                    "told_busy": m.told_busy,
                    "views_computed": m.views_computed,
                    "views_skipped": m.views_skipped,
                    "views_crowded": m.views_crowded,
                    "view_stretch": m.view_stretch,
                    "ticks_stretched": m.ticks_stretched,
                    "ticks_stretched_max": m.ticks_stretched_max,
                    "tick_wait_us": m.tick_wait_us,
                })
            })
            .collect();
        let answers = gateway.take_answer_window();
        let reply_waits = gateway.take_reply_wait_window();
        let redis = cluster.cache().metrics();
        let line = serde_json::json!({
            "event": "stats",
            "connections": gateway.open_connections(),
            "answers": answers.count,
            "answer_p50_us": answers.p50_us,
            "answer_p99_us": answers.p99_us,
            "reply_wait_p50_us": reply_waits.p50_us,
            "reply_wait_p99_us": reply_waits.p99_us,
            "reply_wait_max_us": reply_waits.max_us,
            "redis_timeouts": redis.command_timeouts,
            "redis_degraded_answers": redis.degraded_answers,
            "runtime_lag_us": cluster.runtime_lag().as_micros() as u64,
            "runtime_lag_worst_us": cluster.runtime_lag_worst().as_micros() as u64,
            "zones": zones,
        });
        println!("{line}");
    }
}

/// `ACTION=LIMIT/SECONDS`, ACTION one of the cache's rate actions (`login`, `register`, ...).
pub(crate) fn parse_rate_limit(
    s: &str,
) -> Result<realmkeep_cache::options::RateLimitConfig, String> {
    let usage = || format!("`{s}`: ACTION=LIMIT/SECONDS expected");
    let (action, rest) = s.split_once('=').ok_or_else(usage)?;
    let (limit, secs) = rest.split_once('/').ok_or_else(usage)?;
    let action = realmkeep_cache::RateAction::ALL
        .iter()
        .find(|a| a.as_str() == action)
        .ok_or_else(|| {
            let known: Vec<_> = realmkeep_cache::RateAction::ALL
                .iter()
                .map(|a| a.as_str())
                .collect();
            format!("`{action}` is not a rate action ({})", known.join(", "))
        })?;
    let limit: u32 = limit.parse().map_err(|_| usage())?;
    let secs: u64 = secs.parse().map_err(|_| usage())?;
    if limit == 0 || secs == 0 {
        return Err(usage());
    }
    Ok(realmkeep_cache::options::RateLimitConfig {
        action: *action,
        limit,
        window: Duration::from_secs(secs),
    })
}
