//! `realmkeep demo`, the main job: a living world on this machine. Private PostgreSQL and Redis
//! keep their data under `.realmkeep/` (so the world persists between runs), a node runs two
//! zones and its gateway, and a few hundred players play through that gateway as socket bots
//! (`realmkeep-bots`, over loopback: registered once, then logging in, joining over a
//! WebSocket, playing). A status line is printed every second. Ctrl-C (or SIGTERM) makes every
//! player stop where it stands and log out, saves every character and stops; the next run finds
//! everyone where they were left, and says so after comparing a sample of the positions the
//! players last saw with what loads.

mod backups;
mod players;
mod resume;
mod status;

use anyhow::{Context, Result};
use clap::Args;
use realmkeep_domain::ZoneId;
use realmkeep_launcher::{PostgresOptions, RedisOptions};
use realmkeep_server::{Cluster, ClusterConfig, Endpoints};
use realmkeep_store::{Store, StoreOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The demo's node name and database.
const NODE: &str = "demo";
const DATABASE: &str = "realmkeep";
/// The zones the demo runs (Greenvale and Ashen Reach).
const ZONES: [ZoneId; 2] = [ZoneId(1), ZoneId(2)];
/// A short lease, so that after a crash (kill -9) the next run can claim everyone within it.
const LEASE: Duration = Duration::from_secs(20);
/// How long the players get to join before the status lines start without the stragglers (they
/// keep trying; a claim left by a crashed run expires with its lease). A first run registers
/// everyone: three Argon2id hashes a player, a few hundred a minute on two cores.
const JOIN_WAIT: Duration = Duration::from_secs(90);
/// How long the players may take to stop and log out before the node saves the rest itself.
const BOTS_STOP_WAIT: Duration = Duration::from_secs(30);
const STEPS: usize = 7;

#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Players, each a bot playing through the gateway over a WebSocket.
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
    if args.players > players::PLAYERS_MAX {
        anyhow::bail!("--players: at most {}", players::PLAYERS_MAX);
    }
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
    // The demo's own connections (schema, backups, look-ups); the node has its pool.
    let store = Store::connect(&pg.url(DATABASE), &StoreOptions::default()).await?;
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
            "looking up {} players (the bots register the missing ones through the gateway)",
            args.players
        ),
    );
    let found = players::existing(&store, args.players).await?;
    done(
        t,
        &format!(
            "{} found, {} to register",
            found.len(),
            args.players - found.len()
        ),
    );
    println!(
        "      {}",
        resume::check(&store, &args.dir, found.len()).await?
    );
    let held = resume::still_claimed(&store, &found).await?;
    if held > 0 {
        println!(
            "      {held} characters are still claimed by a run that did not stop cleanly: this node, started under the same name, takes them back"
        );
    }

    let t = step(6, "starting zones 1 (Greenvale) and 2 (Ashen Reach)");
    let endpoints = Endpoints {
        database_url: pg.url(DATABASE),
        redis_url: redis.url(),
        session_secret: (0..32).map(|_| rand::random::<u8>()).collect(),
    };
    let config = ClusterConfig::new(NODE, ZONES.to_vec())
        .with_lease(LEASE)
        .with_seed(args.seed)
        .with_rate_limits(players::rate_limits(args.players));
    let cluster = Cluster::connect(
        config,
        &endpoints,
        &StoreOptions::default(),
        content.clone(),
    )
    .await?;
    let gateway = realmkeep_gateway::Gateway::start(
        cluster.clone(),
        realmkeep_gateway::GatewayConfig::new(args.listen)
            .with_connections_per_ip(players::connections_per_ip(args.players)),
    )
    .await?;
    done(
        t,
        &format!("ticking at 20 Hz; gateway on {}", gateway.base_url()),
    );

    let t = step(
        7,
        &format!(
            "{} players connecting as bots to {} (Argon2id on the server, {} at a time: three hashes for a player who registers, one for a login)",
            args.players,
            gateway.base_url(),
            realmkeep_bots::LOGINS_IN_FLIGHT_MAX
        ),
    );
    let zones: Vec<i32> = ZONES.iter().map(|z| z.0).collect();
    let bots = players::start(&gateway.base_url(), args.players, args.seed, &zones);
    // Ctrl-C while the players join stops as cleanly as later.
    let signal = realmkeep_server::shutdown_signal();
    tokio::pin!(signal);
    let joined = tokio::select! {
        n = bots.joined(JOIN_WAIT) => Ok(n),
        s = &mut signal => Err(s),
    };
    let why = match joined {
        Ok(n) => {
            done(
                t,
                &format!("{n} connected over WebSockets and in the world"),
            );
            play(&cluster, &bots, args.seconds, signal).await
        }
        Err(s) => s,
    };
    stop(&cluster, &gateway, &args.dir, bots, why).await?;
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
/// why it stopped.
async fn play(
    cluster: &Cluster,
    bots: &players::Players,
    seconds: Option<u64>,
    mut signal: std::pin::Pin<&mut impl std::future::Future<Output = &'static str>>,
) -> &'static str {
    println!(
        "running: Ctrl-C saves everyone and stops{}",
        seconds
            .map(|s| format!(" (or after {s} s)"))
            .unwrap_or_default()
    );
    println!("{}", status::HEADER);
    let started = Instant::now();
    let timer = async {
        match seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.tick().await;
    // The first window counts from here, not from the joins.
    bots.stats.take_window();
    loop {
        tokio::select! {
            s = signal.as_mut() => return s,
            _ = &mut timer => return "time is up",
            _ = every.tick() => {
                let s = cluster.status().await;
                let w = bots.stats.take_window();
                println!("{}", status::line(started.elapsed(), &s, &w));
            }
        }
    }
}

/// The players stop in place and log out over their sockets (each saved and released by its
/// zone); the gateway stops; the node saves and releases whoever is left (`Cluster::shutdown`);
/// where the players stood is written for the next run's check.
async fn stop(
    cluster: &Cluster,
    gateway: &realmkeep_gateway::Gateway,
    dir: &std::path::Path,
    bots: players::Players,
    why: &'static str,
) -> Result<()> {
    println!("stopping ({why}): the players stop where they stand and log out");
    let t = Instant::now();
    let report = bots.stop(BOTS_STOP_WAIT).await;
    match &report {
        Some(r) => println!(
            "      {} of {} logged out where they stood ({:.1} s)",
            r.stood.len(),
            r.players,
            t.elapsed().as_secs_f64()
        ),
        None => println!(
            "      the players did not all log out within {} s: the node saves the rest",
            BOTS_STOP_WAIT.as_secs()
        ),
    }
    gateway.stop();
    println!("      saving every character");
    let t = Instant::now();
    let reports = cluster.shutdown().await;
    let complete = reports.iter().all(|r| r.complete);
    let held: usize = reports.iter().map(|r| r.still_held).sum();
    if complete {
        println!(
            "      every character saved and released ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        if let Some(r) = &report {
            resume::write(dir, &resume::sample(&r.stood))?;
        }
    } else {
        println!(
            "      {held} characters were not saved in time: they keep their last periodic save"
        );
    }
    if let Some(r) = &report {
        for line in players::report_lines(r, dir)? {
            println!("      {line}");
        }
    }
    Ok(())
}
