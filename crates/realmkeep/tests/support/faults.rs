//! What the fault tests share: a `realmkeep serve` child on a fixed loopback port (restartable
//! under the same name and port), a `realmkeep bots --ledger` child whose status lines are read
//! as they come, one hand-driven player over its own socket, and the check of a bots ledger
//! against PostgreSQL. Every child is killed when its guard drops, so a failing test leaves no
//! process behind.
#![allow(dead_code)]

use realmkeep_bots::{Acked, Committed, Report};
use realmkeep_protocol::client::{Http, Incoming, PlainSocket};
use realmkeep_protocol::ws::{Answer, Command, ServerMsg};
use realmkeep_store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const SESSION_SECRET: &str = "faults-test-session-secret-0123456789";
pub const PASSWORD: &str = "a long enough password";
/// Long enough for a node process to start on a loaded 2-core machine.
pub const START_WAIT: Duration = Duration::from_secs(60);
/// Every bot has set up its account and joined within this (Argon2id on 2 cores).
pub const SETUP_WAIT: Duration = Duration::from_secs(150);
/// The bots process logs out and reports within this after SIGTERM.
pub const REPORT_WAIT: Duration = Duration::from_secs(60);
/// Rate limits off for the loopback address every bot comes from.
const RATE_LIMIT: &str = "1000000/60";
const RATE_ACTIONS: [&str; 12] = [
    "login", "register", "chat", "whisper", "trade", "market", "mail", "ticket", "ws_join",
    "ws_move", "ws_say", "ws_act",
];
/// A status line comes each second once every bot is started (500 bots take 10 s to start).
const STATUS_WAIT: Duration = Duration::from_secs(30);
/// Connections from the loopback address: every bot and the test's own players.
const CONNECTIONS_PER_IP: usize = 2_000;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills and reaps a child (SIGKILL), ignoring one already gone.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM, then the child's exit within `wait` (SIGKILL after it).
fn terminate(child: &mut Child, wait: Duration) -> bool {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let started = Instant::now();
    while started.elapsed() < wait {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    kill(child);
    false
}

/// The tail of a log file, for a failure's message.
pub fn tail(log: &PathBuf, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let v: Vec<&str> = text.lines().rev().take(lines).collect();
    v.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// One `realmkeep serve` node (zones 1 and 2) on a port of its own, restartable.
pub struct Node {
    child: Option<Child>,
    pub name: String,
    pub port: u16,
    pub db_url: String,
    pub redis_url: String,
    pub log: PathBuf,
    runs: u32,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            kill(c);
        }
    }
}

impl Node {
    pub fn new(db_url: &str, redis_url: &str, name: &str) -> Self {
        let log = std::env::temp_dir().join(format!(
            "realmkeep-faults-{}-{name}.log",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&log);
        Node {
            child: None,
            name: name.to_owned(),
            port: free_port(),
            db_url: db_url.to_owned(),
            redis_url: redis_url.to_owned(),
            log,
            runs: 0,
        }
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process (again, under the same name and port); does not wait.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "the node runs already");
        self.runs += 1;
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Process::new(env!("CARGO_BIN_EXE_realmkeep"));
        cmd.args(["serve", "--database-url", &self.db_url])
            .args(["--redis-url", &self.redis_url])
            .args(["--zones", "1,2", "--node", &self.name])
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args([
                "--public-url",
                &format!("ws://127.0.0.1:{}/v1/ws", self.port),
            ])
            .args(["--connections-per-ip", &CONNECTIONS_PER_IP.to_string()]);
        for a in RATE_ACTIONS {
            cmd.args(["--rate-limit", &format!("{a}={RATE_LIMIT}")]);
        }
        let child = cmd
            .env("REALMKEEP_SESSION_SECRET", SESSION_SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("realmkeep serve starts");
        self.child = Some(child);
    }

    /// Waits until `/readyz` says ready (PostgreSQL, Redis and the zones).
    pub async fn ready(&mut self) -> Duration {
        let http = Http::new(&self.http_url());
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = http.readyz().await {
                return started.elapsed();
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.fail(&format!("the node exited: {status}"));
            }
            if started.elapsed() > START_WAIT {
                self.fail("the node was not ready in time");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no final save, no release.
    pub fn sigkill(&mut self) {
        let mut c = self.child.take().expect("the node runs");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM: everyone saved and released.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            assert!(terminate(&mut c, START_WAIT), "the node stopped in time");
        }
    }

    pub fn fail(&self, why: &str) -> ! {
        panic!("{why}; the node's log ends with:\n{}", tail(&self.log, 40));
    }

    pub fn remove_log(&self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One status line of the bots (`[ 12.0 s] connected 498 | ... | ok 1234 refused ...`), with
/// when the test read it.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    pub at: Instant,
    pub connected: u64,
    pub ok: u64,
    pub try_again: u64,
}

fn number_after(line: &str, word: &str) -> Option<u64> {
    let rest = line.split(word).nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

fn status(line: &str, at: Instant) -> Option<Status> {
    Some(Status {
        at,
        connected: number_after(line, "] connected ")?,
        ok: number_after(line, "| ok ")?,
        try_again: number_after(line, " try_again ")?,
    })
}

/// A `realmkeep bots --ledger` child: its status lines as they come, its report at the end.
pub struct Bots {
    child: Child,
    lines: mpsc::Receiver<Status>,
    stdout: Option<std::thread::JoinHandle<String>>,
    pub last: Option<Status>,
    pub log: PathBuf,
}

impl Drop for Bots {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

impl Bots {
    /// `players` bots named `{prefix}{n}`, deciding every `think_ms`, for at most `seconds`.
    pub fn start(url: &str, players: usize, seed: u64, prefix: &str, seconds: u64) -> Self {
        let log = std::env::temp_dir().join(format!(
            "realmkeep-faults-{}-{prefix}-bots.log",
            std::process::id()
        ));
        let mut child = Process::new(env!("CARGO_BIN_EXE_realmkeep"))
            .args(["bots", "--url", url, "--ledger"])
            .args(["--players", &players.to_string()])
            .args(["--seed", &seed.to_string(), "--prefix", prefix])
            .args(["--seconds", &seconds.to_string()])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("realmkeep bots starts");
        let stderr = child.stderr.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let keep = log.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::File::create(keep).ok();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(f) = file.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(f, "{line}");
                }
                if let Some(s) = status(&line, Instant::now()) {
                    // The receiver may be gone (the test ended): keep reading, or the bots
                    // would block on a full pipe.
                    let _ = tx.send(s);
                }
            }
        });
        let stdout = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        Bots {
            child,
            lines,
            stdout: Some(stdout),
            last: None,
            log,
        }
    }

    /// The next status line (about one a second); panics if none comes in `STATUS_WAIT`.
    pub fn next(&mut self) -> Status {
        match self.lines.recv_timeout(STATUS_WAIT) {
            Ok(s) => {
                self.last = Some(s);
                s
            }
            Err(e) => panic!(
                "no status line from the bots ({e}); their log ends with:\n{}",
                tail(&self.log, 20)
            ),
        }
    }

    /// The latest status line read so far (waits for one if none came yet).
    pub fn latest(&mut self) -> Status {
        while let Ok(s) = self.lines.try_recv() {
            self.last = Some(s);
        }
        match self.last {
            Some(s) => s,
            None => self.next(),
        }
    }

    /// Reads status lines until one satisfies `want`, within `wait`; that line.
    pub fn until(&mut self, wait: Duration, what: &str, want: impl Fn(&Status) -> bool) -> Status {
        let started = Instant::now();
        loop {
            let s = self.next();
            if want(&s) {
                return s;
            }
            assert!(
                started.elapsed() < wait,
                "{what}: not within {wait:?} (last status {s:?})"
            );
        }
    }

    /// SIGTERM: the bots log out and print their report.
    pub fn finish(mut self) -> Report {
        assert!(
            terminate(&mut self.child, REPORT_WAIT),
            "the bots reported in time"
        );
        let out = self.stdout.take().unwrap().join().unwrap();
        let line = out.lines().last().unwrap_or_default();
        let report: Report =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("the bots' report {line:?}: {e}"));
        let _ = std::fs::remove_file(&self.log);
        report
    }
}

/// Accounts `{prefix}0..{prefix}{n-1}` with the bots' password, made with one hash (the bots
/// then pay one Argon2id login each instead of a registration and a login).
pub async fn seed_bot_accounts(store: &Store, prefix: &str, n: usize) {
    use futures::StreamExt;
    let password = realmkeep_bots::BotsConfig::new("", 0, 0, 0).password;
    let password = realmkeep_domain::Password::parse(&password).unwrap();
    let hash = store.hash_password(&password).await.unwrap();
    futures::stream::iter(0..n)
        .map(|i| {
            let (hash, name) = (hash.clone(), format!("{prefix}{i}"));
            async move {
                let account = realmkeep_domain::AccountName::parse(&name).unwrap();
                store
                    .create_account_with_hash(&account, &format!("{name}@bots.invalid"), &hash)
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

/// A player driven by the test over its own socket.
pub struct Player {
    pub character: i64,
    pub ws: PlainSocket,
    pub http: Http,
    /// The bag's item ids and where the player stood, as the last welcome said.
    pub bag: Vec<i64>,
    pub at: (f32, f32),
}

impl Player {
    pub async fn new(url: &str, name: &str) -> Self {
        let http = Http::new(url);
        let (token, character) = http
            .new_player(name, PASSWORD, "warrior", "aldor")
            .await
            .unwrap();
        let ws = Self::join(&http, &token, character).await;
        let mut p = Player {
            character,
            ws,
            http,
            bag: Vec::new(),
            at: (0.0, 0.0),
        };
        p.welcomed();
        p
    }

    /// Takes the bag and position from the backlog's last welcome.
    pub fn welcomed(&mut self) {
        for f in &self.ws.backlog {
            if let ServerMsg::Welcome(w) = &f.msg {
                self.bag = w.bag.iter().map(|b| b.item).collect();
                self.at = (w.x, w.y);
            }
        }
    }

    /// A step of one unit, back and forth.
    pub fn step(&mut self) -> Command {
        self.at.0 += if self.at.0 > 100.0 { -1.0 } else { 1.0 };
        Command::MoveTo {
            x: self.at.0,
            y: self.at.1,
        }
    }

    async fn join(http: &Http, token: &str, character: i64) -> PlainSocket {
        let (ws, joined) = PlainSocket::join(http, token, character).await.unwrap();
        assert_eq!(joined, Answer::Ok, "{character} joins");
        ws
    }

    /// Sends `cmd` and waits for its answer, dropping what came before it.
    pub async fn ask(&mut self, cmd: Command) -> Answer {
        let a = self.ws.request(cmd).await.unwrap();
        self.welcomed();
        self.ws.backlog.clear();
        a
    }

    /// Reads until a message satisfies `want` or `wait` passes; whether one did.
    pub async fn heard(&mut self, wait: Duration, want: impl Fn(&ServerMsg) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            match next {
                Err(_) => return false,
                Ok(Ok(Incoming::Frame(f))) => {
                    if let ServerMsg::Welcome(w) = &f.msg {
                        // A zone change: the position (and bag) start over from here.
                        self.bag = w.bag.iter().map(|b| b.item).collect();
                        self.at = (w.x, w.y);
                    }
                    if want(&f.msg) {
                        return true;
                    }
                }
                Ok(Ok(Incoming::Closed(code))) => panic!("{} closed: {code:?}", self.character),
                Ok(Err(e)) => panic!("{}: {e}", self.character),
            }
        }
    }
}

/// What the ledger check found, for the test's report.
#[derive(Debug, Default)]
pub struct Checked {
    pub by_kind: BTreeMap<&'static str, usize>,
}

async fn logged(store: &Store, event: &str, key: &str, id: &str, actor: i64) -> bool {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM game_logs
          WHERE event_type = $1 AND details->>$2 = $3 AND actor_character_id = $4",
    )
    .bind(event)
    .bind(key)
    .bind(id)
    .bind(actor)
    .fetch_one(store.pool())
    .await
    .unwrap();
    n > 0
}

/// Every acknowledged critical action of the ledger is in PostgreSQL, by the durable id the
/// player was told: a trade's log rows (either side may be the logged `a`), the listing's,
/// purchase's and cancellation's log row, the mail's sending and claim; a pickup's stack exists
/// and no character was told of more pickups than its committed pickup rows.
pub async fn check_ledger(store: &Store, ledger: &[Acked]) -> Checked {
    let mut checked = Checked::default();
    let mut pickups: BTreeMap<i64, i64> = BTreeMap::new();
    let mut stacks: BTreeSet<i64> = BTreeSet::new();
    for a in ledger {
        let c = a.character;
        let (kind, found) = match &a.what {
            Committed::Trade { trade, with } => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM game_logs WHERE event_type = 'trade'
                      AND details->>'trade' = $1 AND ((actor_character_id = $2
                      AND target_character_id = $3) OR (actor_character_id = $3
                      AND target_character_id = $2))",
                )
                .bind(trade)
                .bind(c)
                .bind(with)
                .fetch_one(store.pool())
                .await
                .unwrap();
                ("trade", !trade.is_empty() && n == 1)
            }
            Committed::Listed { listing, .. } => (
                "listed",
                logged(store, "market_list", "listing_id", &listing.to_string(), c).await,
            ),
            Committed::Bought { listing, .. } => (
                "bought",
                logged(store, "market_buy", "listing_id", &listing.to_string(), c).await,
            ),
            Committed::ListingCancelled { listing, .. } => (
                "listing_cancelled",
                logged(
                    store,
                    "market_cancel",
                    "listing_id",
                    &listing.to_string(),
                    c,
                )
                .await,
            ),
            Committed::MailSent { mail } => (
                "mail_sent",
                logged(store, "mail_send", "mail_id", &mail.to_string(), c).await,
            ),
            Committed::MailClaimed { mail } => (
                "mail_claimed",
                logged(store, "mail_claim", "mail_id", &mail.to_string(), c).await,
            ),
            Committed::Looted { item, .. } => {
                *pickups.entry(c).or_default() += 1;
                stacks.extend(item);
                ("looted", true)
            }
        };
        assert!(found, "acknowledged but not in PostgreSQL: {a:?}");
        *checked.by_kind.entry(kind).or_default() += 1;
    }
    for (c, told) in pickups {
        let rows: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM game_logs WHERE event_type = 'loot_pickup'
              AND actor_character_id = $1",
        )
        .bind(c)
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!(
            rows >= told,
            "character {c} was told of {told} pickups; {rows} committed"
        );
    }
    let ids: Vec<i64> = stacks.iter().copied().collect();
    let found: i64 = sqlx::query_scalar("SELECT count(*) FROM item_instances WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(found, ids.len() as i64, "every looted stack exists");
    checked
}

/// A small deterministic generator (splitmix64): the fault moments follow the test's seed.
pub struct Moments(u64);

impl Moments {
    pub fn new(seed: u64) -> Self {
        Moments(seed)
    }

    /// A duration in `[lo, hi)`.
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let span = (hi - lo).as_millis() as u64;
        lo + Duration::from_millis(z % span.max(1))
    }
}
