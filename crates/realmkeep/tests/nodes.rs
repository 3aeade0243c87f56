//! `realmkeep serve` processes on hosts of their own (network namespaces the test made:
//! `realmkeep_testkit::hosts`), against one PostgreSQL and one Redis on the database host (the
//! test process), driven only through their sockets from across the network:
//! - two nodes, each running one zone behind its own gateway on the same port of its own address:
//!   a player registered on the first walks into the second's zone, is redirected with a ticket to
//!   the second host's address, and plays on there under the next claim epoch; a line said there
//!   is heard on the first;
//! - a node whose cable to the database host is pulled (packets lost, not refused) while its
//!   player, on another network, goes on playing: movement goes on, a critical action is answered
//!   after its outcome is known and tells the truth, and once the cable is back everything
//!   commits and nothing acknowledged is lost.

use realmkeep_domain::CharacterId;
use realmkeep_protocol::client::{Http, Incoming, PlainSocket};
use realmkeep_protocol::ws::{Answer, Command, ServerMsg};
use realmkeep_protocol::CloseCode;
use realmkeep_server::limits::STORE_STALL_AFTER;
use realmkeep_testkit::hosts::{Host, Lan};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough password";
/// Long enough for a node process to start on a loaded 2-core machine.
const START_WAIT: Duration = Duration::from_secs(60);
/// Every node's gateway listens on this port of its own host: they are separate machines.
const GATEWAY_PORT: u16 = 7400;

struct Node {
    child: Child,
    http: Http,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long the cable to the database host stays pulled: longer than the node takes to believe
/// PostgreSQL unreachable with calls unanswered (`STORE_STALL_AFTER`) and Redis down (two timed-out
/// checks), shorter than a claim's lease (the node keeps its characters).
const PARTITION: Duration = Duration::from_secs(12);
/// When, into the cut, a critical action is answered "try again" at once and the node's metrics
/// show both servers away.
const STALL_SEEN_AFTER: Duration = Duration::from_secs(8);
/// How soon that critical action is answered.
const ANSWERED_DURING_CUT: Duration = Duration::from_secs(2);
const _: () = assert!(
    STORE_STALL_AFTER.as_millis() + 1_000 < STALL_SEEN_AFTER.as_millis()
        && STALL_SEEN_AFTER.as_millis() + 2_000 < PARTITION.as_millis()
);
/// How soon after the cable is back a critical action commits again.
const RECOVERY_WAIT: Duration = Duration::from_secs(30);

/// The database host's network, where PostgreSQL and Redis listen for the nodes' hosts: made once
/// per test process, with the process's PostgreSQL started on it. (Its bridge outlives the
/// process; the next test process that makes a network removes it.)
fn database_lan() -> &'static Lan {
    static LAN: OnceLock<Lan> = OnceLock::new();
    LAN.get_or_init(|| {
        let lan = Lan::new();
        realmkeep_testkit::postgres_also_on(lan.net());
        lan
    })
}

/// A node named `node` serving `zone` on `host`, its gateway on `public`, connected to the
/// database host's servers.
async fn serve(
    host: &Host,
    public: Ipv4Addr,
    db: &str,
    redis: &str,
    node: &str,
    zone: &str,
) -> Node {
    let at = SocketAddr::from((public, GATEWAY_PORT));
    let log =
        std::env::temp_dir().join(format!("realmkeep-nodes-{}-{node}.log", std::process::id()));
    let child = host
        .command(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["serve", "--database-url", db, "--redis-url", redis])
        .args(["--zones", zone, "--node", node])
        .args(["--listen", &at.to_string()])
        .args(["--public-url", &format!("ws://{at}/v1/ws")])
        .args([
            "--rate-limit",
            "register=1000/60",
            "--rate-limit",
            "login=1000/60",
        ])
        .env(
            "REALMKEEP_SESSION_SECRET",
            "nodes-test-session-secret-0123456789",
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let http = Http::new(&format!("http://{at}"));
    let started = Instant::now();
    loop {
        if let Ok((200, _)) = http.readyz().await {
            break;
        }
        assert!(
            started.elapsed() < START_WAIT,
            "node {node} ready in time (log: {})",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Node { child, http }
}

/// Registers `name` through `http`, makes a ranger and joins with it: its id and socket.
async fn player(http: &Http, name: &str) -> (i64, PlainSocket) {
    let (token, c) = http
        .new_player(name, PASSWORD, "ranger", "veyra")
        .await
        .unwrap();
    let (ws, joined) = PlainSocket::join(http, &token, c).await.unwrap();
    assert_eq!(joined, Answer::Ok);
    (c, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_walks_from_a_node_on_one_host_to_a_node_on_another() {
    let lan = database_lan();
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis_also_on(lan.net());
    let (db_url, redis_url) = (db.game_url_at(lan.address()), redis.url_at(lan.address()));
    let (north_host, south_host) = (Host::new(), Host::new());
    let (north_at, south_at) = (lan.plug(&north_host), lan.plug(&south_host));
    let north = serve(&north_host, north_at, &db_url, &redis_url, "north", "1").await;
    let south = serve(&south_host, south_at, &db_url, &redis_url, "south", "2").await;

    // Bobby plays on the north node; alice too, and then walks south.
    let (alice, mut wa) = player(&north.http, "alice").await;
    let (bobby, mut wb) = player(&north.http, "bobby").await;
    let epoch = db
        .store
        .load_character(CharacterId(alice))
        .await
        .unwrap()
        .claim_epoch;
    assert_eq!(
        wa.request(Command::ChangeZone { to: 2 }).await.unwrap(),
        Answer::Ok
    );
    let mut to = None;
    let code = loop {
        match wa.next().await.unwrap() {
            Incoming::Frame(f) => {
                if let ServerMsg::Redirect { url, ticket, .. } = f.msg {
                    to = Some((url, ticket));
                }
            }
            Incoming::Closed(code) => break code,
        }
    };
    assert_eq!(code, Some(CloseCode::Redirected.code()));
    let (url, ticket) = to.expect("a redirect");
    assert_eq!(url, south.http.ws_url());
    assert_eq!(
        url,
        format!("ws://{south_at}:{GATEWAY_PORT}/v1/ws"),
        "redirected to the other host's address"
    );
    let mut wa = PlainSocket::connect(&url).await.unwrap();
    assert_eq!(
        wa.request(Command::Join { ticket }).await.unwrap(),
        Answer::Ok
    );
    let after = db
        .store
        .load_character(CharacterId(alice))
        .await
        .unwrap()
        .claim_epoch;
    assert_eq!(
        after.0,
        epoch.0 + 1,
        "claimed by the south node with the next epoch"
    );

    let line = Command::Chat {
        channel: "kingdom".into(),
        text: "greetings from the south".into(),
    };
    assert_eq!(wa.request(line).await.unwrap(), Answer::Ok);
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "heard across processes"
        );
        if let Incoming::Frame(f) = wb.next().await.unwrap() {
            if let ServerMsg::Chat(l) = f.msg {
                if l.text == "greetings from the south" {
                    assert_eq!(l.from, alice);
                    break;
                }
            }
        }
    }
    // The spec's zone keys followed the hand-off: alice is listed in the south zone only, bobby
    // in the north one, and both zones count their entities.
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let mut members = Vec::new();
        for zone in [1, 2] {
            let mut m: Vec<i64> = redis::cmd("SMEMBERS")
                .arg(format!("zone:{zone}:players"))
                .query_async(&mut r)
                .await
                .unwrap();
            m.sort_unstable();
            members.push(m);
        }
        if members == [vec![bobby], vec![alice]] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "zone:{{id}}:players follow the hand-off: {members:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for zone in [1, 2] {
        let count: Option<i64> = redis::cmd("GET")
            .arg(format!("zone:{zone}:entity_count"))
            .query_async(&mut r)
            .await
            .unwrap();
        assert!(count.unwrap_or(0) >= 1, "zone {zone} counts its entities");
    }
    // Both log out: saved where they are, one in each zone.
    for ws in [&mut wa, &mut wb] {
        let id = ws.send(Command::Logout).await.unwrap();
        assert_eq!(ws.answer(id).await.unwrap(), Answer::Ok);
    }
    let mut zones = Vec::new();
    for c in [alice, bobby] {
        zones.push(
            db.store
                .load_character(CharacterId(c))
                .await
                .unwrap()
                .position
                .zone
                .0,
        );
    }
    assert_eq!(zones, vec![2, 1]);
    drop(north);
    drop(south);
}

/// The node's gauge `name` on its `/metrics`, as an operator reads it.
async fn gauge(http: &Http, name: &str) -> f64 {
    let (status, body) = http.raw("GET", "/metrics", None, "").await.unwrap();
    assert_eq!(status, 200, "{body}");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} on /metrics"))
}

/// How many of `seller`'s listings hold `item` (the database's word, not the node's).
async fn listed(store: &realmkeep_store::Store, seller: i64, item: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM marketplace_listings WHERE seller_character_id = $1 AND item_id = $2",
    )
    .bind(seller)
    .bind(item)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_its_database_host_keeps_its_player_and_loses_nothing() {
    // The node's host has two cables: to the database host's network, and to the players'.
    let back = database_lan();
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis_also_on(back.net());
    let front = Lan::new();
    let west = Host::new();
    back.plug(&west);
    let public = front.plug(&west);
    let (db_url, redis_url) = (db.game_url_at(back.address()), redis.url_at(back.address()));
    let node = serve(&west, public, &db_url, &redis_url, "west", "1").await;
    let (carol, mut ws) = player(&node.http, "carol").await;
    let welcome = ws
        .backlog
        .iter()
        .find_map(|f| match &f.msg {
            ServerMsg::Welcome(w) => Some((w.bag.clone(), w.x, w.y)),
            _ => None,
        })
        .expect("a welcome");
    let (bag, mut x, y) = welcome;
    let item = bag.first().expect("a starting kit").item;
    ws.backlog.clear();

    back.cut(&west);
    let cut = Instant::now();
    let during = Command::ListItem {
        item,
        price: 10,
        hours: 24,
    };
    let listing = ws.send(during).await.unwrap();
    // Once the node has waited long enough on that call, it believes PostgreSQL unreachable.
    let unequip = Command::Unequip {
        slot: "main_hand".into(),
        to: None,
    };
    let mut refused_in = None;
    let mut moves = 0;
    while cut.elapsed() < PARTITION {
        if refused_in.is_none() && cut.elapsed() > STALL_SEEN_AFTER {
            let asked = Instant::now();
            let a = tokio::time::timeout(ANSWERED_DURING_CUT, ws.request(unequip.clone()))
                .await
                .expect("answered at once, not held behind the call the cut holds")
                .unwrap();
            assert!(
                matches!(a, Answer::TryAgain { .. }),
                "a critical action while PostgreSQL answers nothing: {a:?}"
            );
            refused_in = Some(asked.elapsed());
            assert_eq!(gauge(&node.http, "realmkeep_postgres_up").await, 0.0);
            assert_eq!(gauge(&node.http, "realmkeep_redis_up").await, 0.0);
        }
        x += if x > 100.0 { -1.0 } else { 1.0 };
        let a = ws.request(Command::MoveTo { x, y }).await.unwrap();
        assert_eq!(a, Answer::Ok, "movement goes on without the database host");
        moves += 1;
        // Only answers are kept (the views would pile up).
        ws.backlog
            .retain(|f| matches!(f.msg, ServerMsg::Answer { .. }));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        !ws.backlog
            .iter()
            .any(|f| matches!(&f.msg, ServerMsg::Answer { id, .. } if *id == listing)),
        "the listing's call waits on its connection while the cable is out"
    );
    back.mend(&west);
    let mended = Instant::now();

    // The listing asked for during the cut is answered, and its answer is the truth.
    let first = ws.answer(listing).await.unwrap();
    let answered_after = mended.elapsed();
    match first {
        Answer::Ok => assert_eq!(listed(&db.store, carol, item).await, 1),
        Answer::TryAgain { .. } => assert_eq!(
            listed(&db.store, carol, item).await,
            0,
            "a listing answered try_again was not made"
        ),
        other => panic!("the listing during the cut: {other:?}"),
    }
    let refused_in = refused_in.expect("a critical action asked during the cut");
    // Once the cable is back a critical action commits again: her weapon into her bag.
    loop {
        match ws.request(unequip.clone()).await.unwrap() {
            Answer::Ok => break,
            Answer::TryAgain { .. } if mended.elapsed() < RECOVERY_WAIT => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            other => panic!("an unequip after the cable was back: {other:?}"),
        }
    }
    let wielded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM equipment WHERE character_id = $1 AND slot = 'main_hand'",
    )
    .bind(carol)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(wielded, 0, "the weapon left her hand in the database");
    let committed_after = mended.elapsed();
    // The operator sees both servers back.
    loop {
        let up = (
            gauge(&node.http, "realmkeep_postgres_up").await,
            gauge(&node.http, "realmkeep_redis_up").await,
        );
        if up == (1.0, 1.0) {
            break;
        }
        assert!(
            mended.elapsed() < RECOVERY_WAIT,
            "postgres_up and redis_up back to 1: {up:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "cable pulled {:.1} s: {moves} moves answered ok; an unequip {:.1} s into the cut answered try_again in {:.3} s; the listing sent at the cut answered {first:?} {:.1} s after the cable was back; the unequip committed {:.1} s after it; both servers up on /metrics {:.1} s after it",
        PARTITION.as_secs_f64(),
        STALL_SEEN_AFTER.as_secs_f64(),
        refused_in.as_secs_f64(),
        answered_after.as_secs_f64(),
        committed_after.as_secs_f64(),
        mended.elapsed().as_secs_f64()
    );

    // She logs out where she walked to during the cut: the final save commits it.
    let id = ws.send(Command::Logout).await.unwrap();
    assert_eq!(ws.answer(id).await.unwrap(), Answer::Ok);
    let saved = db
        .store
        .load_character(CharacterId(carol))
        .await
        .unwrap()
        .position;
    assert!(
        (saved.x - x).abs() < 2.0 && (saved.y - y).abs() < 2.0,
        "saved at ({}, {}), last walked to ({x}, {y})",
        saved.x,
        saved.y
    );
    drop(node);
}
