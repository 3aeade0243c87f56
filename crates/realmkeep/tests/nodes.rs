//! Two `realmkeep serve` processes against one PostgreSQL and one Redis, each running one zone
//! behind its own gateway, driven only through their sockets as a client would: a player
//! registered on the first walks into the second's zone, is redirected with a ticket, and
//! plays on there under the next claim epoch; a line said there is heard on the first.

use realmkeep_domain::CharacterId;
use realmkeep_protocol::client::{Http, Incoming, PlainSocket};
use realmkeep_protocol::ws::{Answer, Command, ServerMsg};
use realmkeep_protocol::CloseCode;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough password";
/// Long enough for a node process to start on a loaded 2-core machine.
const START_WAIT: Duration = Duration::from_secs(60);

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(db: &str, redis: &str, node: &str, zone: &str) -> Node {
    let port = free_port();
    let log =
        std::env::temp_dir().join(format!("realmkeep-nodes-{}-{node}.log", std::process::id()));
    let child = Process::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["serve", "--database-url", db, "--redis-url", redis])
        .args(["--zones", zone, "--node", node])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--public-url", &format!("ws://127.0.0.1:{port}/v1/ws")])
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
    let http = Http::new(&format!("http://127.0.0.1:{port}"));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_walks_from_one_serving_process_to_another() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let north = serve(&db.game_url, &redis.url(), "north", "1").await;
    let south = serve(&db.game_url, &redis.url(), "south", "2").await;

    // Bobby plays on the north node; alice too, and then walks south.
    let mut players = Vec::new();
    for name in ["alice", "bobby"] {
        north
            .http
            .register(name, &format!("{name}@example.com"), PASSWORD)
            .await
            .unwrap();
        let token = north.http.login(name, PASSWORD).await.unwrap().token;
        let c = north
            .http
            .create_character(&token, name, "ranger", "veyra")
            .await
            .unwrap()
            .id;
        let t = north.http.ticket(&token, c).await.unwrap();
        let mut ws = PlainSocket::connect(&north.http.ws_url()).await.unwrap();
        assert_eq!(
            ws.request(Command::Join { ticket: t.ticket })
                .await
                .unwrap(),
            Answer::Ok
        );
        players.push((c, ws));
    }
    let (bobby, mut wb) = players.pop().unwrap();
    let (alice, mut wa) = players.pop().unwrap();
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
