//! `realmkeep demo`, the main job: a living world on this machine. Private PostgreSQL and Redis
//! keep their data under `.realmkeep/` (so the world persists between runs), two zones run with a
//! few hundred simulated players, and a status line is printed every second. Ctrl-C (or SIGTERM)
//! saves every character and stops; the next run finds everyone where they were left, and says
//! so after comparing a sample of positions recorded at the last shutdown with what loads.

mod backups;
mod resume;
mod status;

use anyhow::{Context, Result};
use clap::Args;
use realmkeep_cache::{Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::ZoneId;
use realmkeep_launcher::{PostgresOptions, RedisOptions};
use realmkeep_server::{Cluster, ClusterConfig};
use realmkeep_sim::{Population, SimConfig};
use realmkeep_store::{Store, StoreOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The demo's node name and database.
const NODE: &str = "demo";
const DATABASE: &str = "realmkeep";
/// The zones the demo runs (Greenvale and Ashen Reach).
const ZONES: [ZoneId; 2] = [ZoneId(1), ZoneId(2)];
/// Name prefix of the demo's players.
const PREFIX: &str = "demo";
/// A short lease, so that after a crash (kill -9) the next run can claim everyone within it.
const LEASE: Duration = Duration::from_secs(20);
/// How long the simulated players get to join before the world starts without the stragglers
/// (they keep trying; a claim left by a crashed run expires with its lease).
const JOIN_WAIT: Duration = Duration::from_secs(60);
/// How long the final logout of the simulated players may take before the cluster saves the
/// rest itself.
const SETTLE: Duration = Duration::from_millis(500);
const STEPS: usize = 7;

#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Simulated players.
    #[arg(long, default_value_t = 300)]
    pub players: usize,
    /// Stop after this many seconds (default: run until Ctrl-C or SIGTERM).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Where PostgreSQL and Redis keep their data.
    #[arg(long, default_value = ".realmkeep")]
    pub dir: PathBuf,
    /// Seeds the players' decisions and the zones.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the gateway (HTTP API and WebSocket) listens: a client can join the demo's world.
    #[arg(long, default_value = realmkeep_gateway::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,
}

fn step(n: usize, what: &str) -> Instant {
    println!("[{n}/{STEPS}] {what}");
    Instant::now()
}

fn done(started: Instant, what: &str) {
    println!("      {what} ({:.1} s)", started.elapsed().as_secs_f64());
}

pub async fn run(args: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let t = step(
        1,
        &format!(
            "starting PostgreSQL (data in {})",
            args.dir.join("postgres").display()
        ),
    );
    let archive = backups::archiving(&args.dir)?;
    let archiving = archive.is_some();
    let pg_opts = PostgresOptions {
        data_dir: Some(args.dir.join("postgres")),
        durable: true,
        archive,
        ..PostgresOptions::default()
    };
    let pg = crate::private::postgres(pg_opts).await?;
    done(t, &format!("PostgreSQL answers on 127.0.0.1:{}", pg.port()));
    let t = step(
        2,
        &format!(
            "starting Redis (data in {})",
            args.dir.join("redis").display()
        ),
    );
    let redis_opts = RedisOptions {
        data_dir: Some(args.dir.join("redis")),
        ..RedisOptions::default()
    };
    let redis = crate::private::redis(redis_opts).await?;
    done(t, &format!("Redis answers on 127.0.0.1:{}", redis.port()));

    let t = step(3, "migrating the database");
    crate::private::create_database(&pg, DATABASE).await?;
    // The node's lanes, and room beside them for the simulated players' market and mail calls.
    let store_opts = StoreOptions {
        pool_connections_max: realmkeep_server::limits::pool_connections_for(ZONES.len()) + 8,
        ..StoreOptions::default()
    };
    let store = Store::connect(&pg.url(DATABASE), &store_opts).await?;
    store.migrate().await.context("applying migrations")?;
    store.ensure_log_partitions(1, 3).await?;
    done(t, "schema up to date");
    // Backups are there to try a restore; the world runs without them.
    match backups::prepare(&store, &args.dir, archiving).await {
        Ok(line) => println!("      {line}"),
        Err(e) => println!("      no base backup this run ({e:#}); the world runs without one"),
    }
    let t = step(4, "seeding game content");
    let content = Arc::new(realmkeep_store::seed::bundled_content()?);
    store.seed_content(&content).await?;
    done(
        t,
        &format!(
            "{} items, {} monsters, {} zones",
            content.items.len(),
            content.monsters.len(),
            content.zones.len()
        ),
    );

    let t = step(
        5,
        &format!(
            "seeding {} players (accounts and characters; only missing ones are created)",
            args.players
        ),
    );
    let seeded = realmkeep_sim::seed::ensure_players(&store, PREFIX, args.players).await?;
    let created = seeded.iter().filter(|p| p.created).count();
    done(
        t,
        &format!("{created} created, {} found", seeded.len() - created),
    );
    println!(
        "      {}",
        resume::check(&store, &args.dir, seeded.len() - created).await?
    );
    let ids: Vec<_> = seeded.iter().map(|p| p.character).collect();
    let held = resume::still_claimed(&store, &ids).await?;
    if held > 0 {
        println!(
            "      {held} characters are still claimed by a run that did not stop cleanly: this node, started under the same name, takes them back"
        );
    }

    let t = step(6, "starting zones 1 (Greenvale) and 2 (Ashen Reach)");
    let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    let cache = Cache::connect(
        &redis.url(),
        CacheOptions::new(NodeId::parse(NODE)?, SessionSecret::new(&secret)?),
    )
    .await?;
    let config = ClusterConfig::new(NODE, ZONES.to_vec())
        .with_lease(LEASE)
        .with_seed(args.seed);
    let cluster = Cluster::start(config, content.clone(), store.clone(), cache).await?;
    let gateway = realmkeep_gateway::Gateway::start(
        cluster.clone(),
        realmkeep_gateway::GatewayConfig::new(args.listen),
    )
    .await?;
    done(
        t,
        &format!("ticking at 20 Hz; gateway on {}", gateway.base_url()),
    );

    let t = step(
        7,
        &format!("logging in and joining {} simulated players", args.players),
    );
    let mut pop = Population::new(
        cluster.clone(),
        &content,
        SimConfig::new(PREFIX, args.seed, ZONES.to_vec()),
    );
    let spawned = pop.spawn_seeded(seeded, JOIN_WAIT).await?;
    done(
        t,
        &format!(
            "{} in the world ({} real password checks, the rest trusted)",
            spawned.joined,
            pop.stats().real_logins
        ),
    );

    let stopped_by = play(&cluster, pop, args.seconds).await?;
    gateway.stop();
    stop(&cluster, &args.dir, stopped_by).await?;
    store.close().await;
    drop(redis);
    drop(pg);
    println!(
        "PostgreSQL and Redis stopped; data kept in {}",
        args.dir.display()
    );
    Ok(())
}

/// Runs the world with a status line every second until a signal or the end of `seconds`;
/// returns the simulated players (stopped) and why it stopped.
async fn play(
    cluster: &Cluster,
    mut pop: Population,
    seconds: Option<u64>,
) -> Result<(Population, &'static str)> {
    println!(
        "running: Ctrl-C saves everyone and stops{}",
        seconds
            .map(|s| format!(" (or after {s} s)"))
            .unwrap_or_default()
    );
    println!("{}", status::HEADER);
    let stats = pop.stats_handle();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let sim = tokio::spawn(async move {
        pop.run_until(stop_rx).await;
        pop
    });
    let started = Instant::now();
    let timer = async {
        match seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    let signal = realmkeep_server::shutdown_signal();
    tokio::pin!(timer, signal);
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.tick().await;
    let why = loop {
        tokio::select! {
            s = &mut signal => break s,
            _ = &mut timer => break "time is up",
            _ = every.tick() => {
                let s = cluster.status().await;
                println!("{}", status::line(started.elapsed(), &s, &stats.snapshot()));
            }
        }
    };
    let _ = stop_tx.send(());
    let pop = sim.await.context("the simulated players' task")?;
    Ok((pop, why))
}

/// Stops everyone in place, records a sample of positions, saves and releases every character
/// (`Cluster::shutdown`), and writes the sample for the next run's check.
async fn stop(
    cluster: &Cluster,
    dir: &std::path::Path,
    (pop, why): (Population, &'static str),
) -> Result<()> {
    println!("stopping ({why}): saving every character");
    let t = Instant::now();
    pop.stop_moving();
    tokio::time::sleep(SETTLE).await;
    let sample = resume::sample(&pop.positions().await);
    let reports = cluster.shutdown().await;
    let complete = reports.iter().all(|r| r.complete);
    let held: usize = reports.iter().map(|r| r.still_held).sum();
    if complete {
        println!(
            "      every character saved and released ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        resume::write(dir, &sample)?;
    } else {
        println!(
            "      {held} characters were not saved in time: they keep their last periodic save"
        );
    }
    let s = pop.stats();
    println!(
        "      played: {} actions, {} kills, {} level-ups, {} trades, {} market buys, {} mails claimed, {} zone changes",
        s.actions, s.kills, s.level_ups, s.trades, s.market_buys, s.mail_claims, s.zone_changes
    );
    Ok(())
}
