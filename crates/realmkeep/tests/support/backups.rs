//! What the backup tests share: a private PostgreSQL that archives its WAL into a repository made
//! by `realmkeep backup setup`, the `realmkeep` binary run to completion or as a restored server,
//! and a workload of trades and market buys from several connections through the store's own
//! functions, each under an idempotency key so the test knows which ones were acknowledged.
#![allow(dead_code)]

use realmkeep_domain::*;
use realmkeep_launcher::{PostgresOptions, PostgresServer, WalArchiving};
use realmkeep_store::archiving::WorldTotals;
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreOptions};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const DATABASE: &str = "realmkeep";
/// Concurrent traders, each on its own connection with its own pair of characters.
pub const TRADERS: usize = 4;
/// Gold each character starts the drill with.
pub const START_GOLD: i64 = 100_000;
/// Items each side of a pair starts with (Wolf Pelts, definition 200).
pub const ITEMS_PER_SIDE: usize = 4;
const ITEM_DEF: ItemDefId = ItemDefId(200);
/// A market listing's price and duration.
pub const PRICE: i64 = 1_000;
const LISTING_HOURS: i64 = 24;
/// Longer than any test: only the tests' own WAL switches (backups, restore points) finish a
/// segment, so what the archive holds is known.
const ARCHIVE_TIMEOUT_S: u32 = 3600;
/// Long enough for the slowest restore on a loaded 2-core machine.
pub const WAIT: Duration = Duration::from_secs(180);

/// A private PostgreSQL archiving into a repository, with the migrated and seeded database.
pub struct Archived {
    pub pg: PostgresServer,
    pub repo: PathBuf,
    pub dir: PathBuf,
    pub url: String,
    pub store: Store,
    _tmp: tempfile::TempDir,
}

pub async fn archived_server() -> Archived {
    realmkeep_testkit::init_tracing();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let repo = dir.join("repo");
    let archive = WalArchiving {
        command: format!(
            "pgbackrest --config={}/pgbackrest.conf --stanza=realmkeep archive-push %p",
            repo.display()
        ),
        timeout_s: ARCHIVE_TIMEOUT_S,
    };
    let data = dir.join("source");
    let pg = tokio::task::spawn_blocking(move || {
        PostgresServer::start(PostgresOptions {
            data_dir: Some(data),
            // Acknowledged means on disk: the SIGKILL drill relies on it.
            durable: true,
            archive: Some(archive),
            ..PostgresOptions::default()
        })
    })
    .await
    .unwrap()
    .expect("an archiving PostgreSQL starts");
    let admin = Store::connect(&pg.url("postgres"), &StoreOptions::default())
        .await
        .unwrap();
    admin.create_database_if_missing(DATABASE).await.unwrap();
    admin.close().await;
    let url = pg.url(DATABASE);
    let store = Store::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
        .seed_content(&realmkeep_store::seed::bundled_content().unwrap())
        .await
        .unwrap();
    let out = realmkeep(&[
        "backup",
        "setup",
        "--repo",
        repo.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    assert!(out.contains("works"), "{out}");
    Archived {
        pg,
        repo,
        dir,
        url,
        store,
        _tmp: tmp,
    }
}

/// Runs `realmkeep ARGS` to completion; panics with its output if it fails. Returns stdout.
pub fn realmkeep(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(args)
        .output()
        .expect("realmkeep runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "realmkeep {} failed: {}\n{stdout}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `realmkeep restore ...` running: the restored server lives until this is dropped (SIGTERM).
pub struct Restored {
    child: Child,
    pub url: String,
    pub output: String,
}

impl Drop for Restored {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// Starts `realmkeep restore ARGS` and waits for the line that tells where to point nodes.
pub fn restore(args: &[&str]) -> Restored {
    let mut child = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .arg("restore")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("realmkeep restore starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Read to the end even when nobody listens any more: a closed pipe would kill the
        // restore (and its server) at its next line.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut output = String::new();
    loop {
        match rx.recv_timeout(WAIT) {
            Ok(line) => {
                output.push_str(&line);
                output.push('\n');
                if let Some(url) = line.strip_prefix("DATABASE_URL=") {
                    return Restored {
                        child,
                        url: url.to_owned(),
                        output,
                    };
                }
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "realmkeep restore {} gave no DATABASE_URL ({e}):\n{output}",
                    args.join(" ")
                );
            }
        }
    }
}

/// Two characters that trade with each other, and the items each holds.
#[derive(Clone)]
pub struct Pair {
    pub n: usize,
    pub a: CharacterId,
    pub b: CharacterId,
    pub a_items: Vec<ItemId>,
    pub b_items: Vec<ItemId>,
}

pub async fn pairs(store: &Store) -> Vec<Pair> {
    let note = realmkeep_testkit::note(store, "drill", "restore drill setup").await;
    let mut out = Vec::new();
    for n in 0..TRADERS {
        let a = realmkeep_testkit::character(store, &format!("DrillA{n}")).await;
        let b = realmkeep_testkit::character(store, &format!("DrillB{n}")).await;
        let mut items = [Vec::new(), Vec::new()];
        for (side, c) in [a, b].into_iter().enumerate() {
            let offline = realmkeep_domain::Actor::Offline(c);
            let gold = realmkeep_domain::AdminChange::Gold { delta: START_GOLD };
            store
                .admin_change(offline, &gold, &note, None)
                .await
                .unwrap();
            for _ in 0..ITEMS_PER_SIDE {
                let grant = realmkeep_domain::AdminChange::Grant {
                    def: ITEM_DEF,
                    quantity: Quantity::new(1).unwrap(),
                };
                let r = store
                    .admin_change(offline, &grant, &note, None)
                    .await
                    .unwrap();
                items[side].push(r.item.expect("a grant creates an item"));
            }
        }
        let [a_items, b_items] = items;
        out.push(Pair {
            n,
            a,
            b,
            a_items,
            b_items,
        });
    }
    out
}

/// What one trader's round tried and what it was told.
#[derive(Default, Debug)]
pub struct Keys {
    pub attempted: BTreeSet<String>,
    pub acknowledged: BTreeSet<String>,
}

/// One trader: `rounds` trades (an item and gold each way), and every other round a market
/// listing that the partner buys. Each action under its own key; stops at the first error
/// (the server went away) and says what was acknowledged until then.
pub async fn trade_rounds(store: Store, mut p: Pair, phase: &str, rounds: usize) -> (Pair, Keys) {
    let mut keys = Keys::default();
    let gold = |v| Gold::new(v).unwrap();
    for r in 0..rounds {
        let key = format!("{phase}-trade-{}-{r}", p.n);
        keys.attempted.insert(key.clone());
        let give_a = p.a_items.pop().unwrap();
        let give_b = p.b_items.pop().unwrap();
        let a = TradeSide {
            actor: Actor::Offline(p.a),
            items: vec![give_a],
            gold: gold(10 + r as i64),
        };
        let b = TradeSide {
            actor: Actor::Offline(p.b),
            items: vec![give_b],
            gold: gold(3),
        };
        if store.trade_keyed(&a, &b, &key).await.is_err() {
            return (p, keys);
        }
        keys.acknowledged.insert(key);
        p.a_items.insert(0, give_b);
        p.b_items.insert(0, give_a);
        if r % 2 == 1 {
            // Sellers take turns, so neither side runs out of items.
            let a_sells = (r / 2) % 2 == 0;
            let (seller, buyer) = if a_sells { (p.a, p.b) } else { (p.b, p.a) };
            let item = if a_sells {
                p.a_items.pop()
            } else {
                p.b_items.pop()
            }
            .unwrap();
            let list_key = format!("{phase}-list-{}-{r}", p.n);
            keys.attempted.insert(list_key.clone());
            let Ok(listing) = store
                .list_item_keyed(
                    Actor::Offline(seller),
                    item,
                    gold(PRICE),
                    LISTING_HOURS,
                    &list_key,
                )
                .await
            else {
                return (p, keys);
            };
            keys.acknowledged.insert(list_key);
            let buy_key = format!("{phase}-buy-{}-{r}", p.n);
            keys.attempted.insert(buy_key.clone());
            if store
                .buy_listing_keyed(Actor::Offline(buyer), listing, &buy_key)
                .await
                .is_err()
            {
                return (p, keys);
            }
            keys.acknowledged.insert(buy_key);
            if a_sells {
                p.b_items.insert(0, item);
            } else {
                p.a_items.insert(0, item);
            }
        }
    }
    (p, keys)
}

/// Every trader at once, each on its own connection; returns the pairs and the keys.
pub async fn phase(url: &str, pairs: Vec<Pair>, phase: &str, rounds: usize) -> (Vec<Pair>, Keys) {
    let mut tasks = tokio::task::JoinSet::new();
    for p in pairs {
        let store = Store::connect(
            url,
            &StoreOptions {
                pool_connections_max: 1,
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap();
        let phase = phase.to_owned();
        tasks.spawn(async move { trade_rounds(store, p, &phase, rounds).await });
    }
    let mut all = Keys::default();
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (p, k) = r.unwrap();
        all.attempted.extend(k.attempted);
        all.acknowledged.extend(k.acknowledged);
        out.push(p);
    }
    out.sort_by_key(|p| p.n);
    (out, all)
}

/// What a database holds, as the drill compares it.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    /// Idempotency keys of committed actions (trades, listings, buys).
    pub keys: BTreeSet<String>,
    /// `trade` rows of game_logs, by the trade's reference.
    pub trades: BTreeSet<String>,
    pub market_buys: i64,
    pub totals: WorldTotals,
    pub misplaced: i64,
}

pub async fn state(store: &Store) -> State {
    let keys: Vec<String> = sqlx::query_scalar("SELECT action_key FROM action_keys")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let trades: Vec<String> =
        sqlx::query_scalar("SELECT details->>'trade' FROM game_logs WHERE event_type = 'trade'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let market_buys: i64 =
        sqlx::query_scalar("SELECT count(*) FROM game_logs WHERE event_type = 'market_buy'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    State {
        keys: keys.into_iter().collect(),
        trades: trades.into_iter().collect(),
        market_buys,
        totals: store.world_totals().await.unwrap(),
        misplaced: store.misplaced_items().await.unwrap(),
    }
}

pub async fn state_at(url: &str) -> State {
    let store = Store::connect(url, &StoreOptions::default()).await.unwrap();
    let s = state(&store).await;
    store.close().await;
    s
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}
