//! A node as an operator runs it: `realmkeep serve --config realmkeep.toml` (database, Redis,
//! secret and every option from the file), JSON logs, and the SIGTERM an orchestrator sends:
//! readiness turns false first while players still play, then the sockets close, everyone is
//! saved and released, and the process exits 0. A wrong file is refused with the key's name.

use realmkeep_protocol::client::{Http, Incoming, PlainSocket};
use realmkeep_protocol::ws::{Answer, Command, ServerMsg};
use realmkeep_protocol::CloseCode;
use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough password";
/// Long enough for a node process to start on a loaded 2-core machine.
const START_WAIT: Duration = Duration::from_secs(60);
const DRAIN_SECONDS: u64 = 3;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn bin() -> Process {
    let mut p = Process::new(env!("CARGO_BIN_EXE_realmkeep"));
    // The test's own environment must not stand in for the file.
    for k in [
        "DATABASE_URL",
        "REDIS_URL",
        "REALMKEEP_SESSION_SECRET",
        "RUST_LOG",
        "REALMKEEP_CONFIG",
    ] {
        p.env_remove(k);
    }
    p
}

#[test]
fn a_wrong_configuration_is_refused_with_the_key_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[gateway]\nlisten = \"nowhere\"\n", "gateway.listen"),
        ("[node]\nzones = [1]\nsave_every = 3\n", "save_every"),
        ("[node]\nlease_seconds = 0\n", "node.lease_seconds"),
    ] {
        let path = dir.path().join("realmkeep.toml");
        std::fs::write(&path, text).unwrap();
        let out = bin()
            .args(["serve", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "refused: {err}");
        assert!(err.contains(key), "names `{key}`: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_readiness_off_then_saves_everyone_and_exits() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("realmkeep.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[node]
name = "ops1"
zones = [1]
save_interval_ms = 500
drain_seconds = {DRAIN_SECONDS}
session_secret = "operate-test-session-secret-0123456789"

[database]
url = "{db}"

[redis]
url = "{redis}"

[gateway]
listen = "127.0.0.1:{port}"
rate_limits = ["register=1000/60", "login=1000/60"]

[log]
format = "json"
filter = "info,realmkeep_server=debug"
"#,
            db = db.game_url,
            redis = redis.url()
        ),
    )
    .unwrap();
    let mut child = bin()
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Every line on stderr is a JSON object (the one plain line the node prints on purpose,
    // its listening address, aside).
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let http = Http::new(&format!("http://127.0.0.1:{port}"));
    let started = Instant::now();
    while !matches!(http.readyz().await, Ok((200, _))) {
        assert!(started.elapsed() < START_WAIT, "ready in time");
        assert!(child.try_wait().unwrap().is_none(), "the node runs");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let (token, c) = http
        .new_player("alice", PASSWORD, "ranger", "veyra")
        .await
        .unwrap();
    let (mut ws, joined) = PlainSocket::join(&http, &token, c).await.unwrap();
    assert_eq!(joined, Answer::Ok);
    let welcome = ws
        .backlog
        .iter()
        .find_map(|f| match &f.msg {
            ServerMsg::Welcome(w) => Some((**w).clone()),
            _ => None,
        })
        .expect("a welcome before the answer");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    // Not ready at once, and saying why, while the player still plays.
    let started = Instant::now();
    loop {
        let (status, r) = http.readyz().await.unwrap();
        if status == 503 {
            assert!(r.stopping && !r.ready, "{r:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "readiness turns false first"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let to = (welcome.x + 4.0, welcome.y);
    assert_eq!(
        ws.request(Command::MoveTo { x: to.0, y: to.1 })
            .await
            .unwrap(),
        Answer::Ok,
        "players play on while the node drains"
    );
    // Then the socket closes (1001), after the drain.
    let code = loop {
        if let Incoming::Closed(code) = ws.next().await.unwrap() {
            break code;
        }
    };
    assert_eq!(code, Some(CloseCode::GoingAway.code()));
    assert!(
        started.elapsed() >= Duration::from_secs(DRAIN_SECONDS) - Duration::from_millis(500),
        "the sockets stay open for the drain"
    );
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < START_WAIT, "the node exits");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "exit status {status:?}");

    // Saved and released: where she walked, no holder.
    let (holder, x, y): (Option<String>, f32, f32) = sqlx::query_as(
        "SELECT c.claim_holder, p.x, p.y FROM characters c \
         JOIN character_positions p ON p.character_id = c.id WHERE c.id = $1",
    )
    .bind(c)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert!(holder.is_none(), "released");
    let moved = ((x - welcome.x).powi(2) + (y - welcome.y).powi(2)).sqrt();
    assert!(moved > 0.5, "the walk during the drain was saved: {moved}");

    let lines = lines.join().unwrap();
    let json: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| !l.starts_with("gateway listening") && !l.starts_with("zone "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        json.iter().any(|v| v["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("draining"))),
        "the drain is logged: {lines:?}"
    );
    // Store calls run in spans logged at their close with their duration.
    let timed_store_call = json
        .iter()
        .any(|v| v["span"]["name"] == "store" && v["fields"]["time.busy"].is_string());
    assert!(timed_store_call, "a store span with its duration");
}
