//! SIGKILL a node and start it again under the same name: the new process takes its characters
//! back at once (with a higher epoch), instead of leaving its players locked out until the dead
//! process's leases run out, and the dead process's epoch is refused by the fence.
//!
//! The lease is ten minutes, so its expiry cannot be why the characters come back.

use realmkeep_domain::{Actor, CharacterId, ClaimEpoch, Fence};
use realmkeep_store::{Refusal, StoreError};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PLAYERS: usize = 6;
const PREFIX: &str = "phoenix";
const NODE: &str = "phoenix";
/// Far longer than the test: a character claimed again was not freed by its lease running out.
const LEASE_SECONDS: u64 = 600;
/// Long enough for the slowest step on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(120);

/// A serving node; killed if the test ends early.
struct Node {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: std::path::PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db_url: &str, redis_url: &str, run: &str) -> Node {
    let log = std::env::temp_dir().join(format!(
        "realmkeep-restart-{}-{run}.log",
        std::process::id()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["serve", "--database-url", db_url, "--redis-url", redis_url])
        .args(["--zones", "1,2", "--node", NODE])
        .args(["--listen", "127.0.0.1:0"])
        .args(["--lease-seconds", &LEASE_SECONDS.to_string()])
        .args([
            "--sim-players",
            &PLAYERS.to_string(),
            "--sim-prefix",
            PREFIX,
        ])
        .env(
            "REALMKEEP_SESSION_SECRET",
            "restart-test-session-secret-0123456789",
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("realmkeep serve starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Node { child, lines, log }
}

impl Node {
    /// Waits for the `ready` line; returns how many players joined.
    fn ready(&self) -> u64 {
        let started = Instant::now();
        loop {
            let left = WAIT.checked_sub(started.elapsed()).unwrap_or_default();
            let Ok(line) = self.lines.recv_timeout(left) else {
                self.fail("no ready line");
            };
            let v: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| self.fail(&format!("{line:?}: {e}")));
            if v["event"] == "ready" {
                return v["players"].as_u64().unwrap_or(0);
            }
        }
    }

    fn fail(&self, why: &str) -> ! {
        let tail = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(40).collect();
        panic!(
            "{why}; the node's log ends with:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_after_sigkill_takes_its_characters_back_at_once() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let store = db.store.clone();
    let seeded = realmkeep_sim::seed::ensure_players(&store, PREFIX, PLAYERS)
        .await
        .unwrap();

    let mut first = serve(&db.game_url, &redis.url(), "first");
    assert_eq!(first.ready(), PLAYERS as u64, "every player joined");
    let mut before: BTreeMap<CharacterId, (String, i64)> = BTreeMap::new();
    for p in &seeded {
        let info = store.claim_info(p.character).await.unwrap();
        assert!(info.live, "{} is held", p.character);
        before.insert(p.character, (info.holder.unwrap(), info.epoch));
    }

    // SIGKILL: no shutdown, no release. The claims stay live for ten minutes.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    for c in before.keys() {
        assert!(store.claim_info(*c).await.unwrap().live);
    }

    let restarted_at = Instant::now();
    let second = serve(&db.game_url, &redis.url(), "second");
    assert_eq!(second.ready(), PLAYERS as u64, "every player joined again");
    let took = restarted_at.elapsed();
    for (c, (old_holder, old_epoch)) in &before {
        let info = store.claim_info(*c).await.unwrap();
        let holder = info.holder.clone().unwrap_or_default();
        assert!(info.live, "{c} is held again: {info:?}");
        assert!(
            holder.split('/').nth(1) == Some(NODE) && holder != *old_holder,
            "{c} is held by the new process of {NODE}: {holder} (was {old_holder})"
        );
        assert!(
            info.epoch > *old_epoch,
            "{c}: epoch {} after {old_epoch}",
            info.epoch
        );
        // The dead process's fence is refused.
        let stale = Fence {
            character: *c,
            epoch: ClaimEpoch(*old_epoch),
        };
        let r = store.loot_gold(Actor::Zone(stale), 1, None).await;
        assert!(
            matches!(r, Err(StoreError::Refused(Refusal::StaleClaim))),
            "{c}: a write under the dead process's epoch: {r:?}"
        );
    }
    eprintln!("every character played again {took:?} after the restart began");
    let logs = [first.log.clone(), second.log.clone()];
    drop(second);
    for log in logs {
        let _ = std::fs::remove_file(log);
    }
}
