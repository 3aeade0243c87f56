//! The operator reaches players connected through the gateway, through the binary as an operator
//! runs it: `realmkeep admin ban` closes the player's socket with 4002 within a second of the
//! command's return, after the `kicked` inbox event, and the next login is refused;
//! `realmkeep admin announce` is shown to every connected player; `realmkeep admin gold` changes
//! a connected player's purse through its zone, and the socket shows it.

use realmkeep_cache::{Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::ZoneId;
use realmkeep_gateway::{Gateway, GatewayConfig};
use realmkeep_protocol::client::{Http, PlainSocket};
use realmkeep_protocol::ws::{Answer, InboxEvent, ServerMsg};
use realmkeep_protocol::{CloseCode, Reason};
use realmkeep_server::{Cluster, ClusterConfig};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_ban_closes_the_players_socket_within_a_second() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    realmkeep_testkit::operator(
        &db.store,
        "gm-test",
        realmkeep_domain::AdminRole::GameMaster,
    )
    .await;
    let content = Arc::new(realmkeep_store::seed::bundled_content().unwrap());
    let opts = CacheOptions::new(
        NodeId::parse("gw").unwrap(),
        SessionSecret::new(b"gateway-ban-test-session-secret-0123").unwrap(),
    );
    let cache = Cache::connect(&redis.url(), opts).await.unwrap();
    assert!(cache.wait_until_up(Duration::from_secs(20)).await);
    let cluster = Cluster::start(
        ClusterConfig::new("gw", vec![ZoneId(1)]).with_seed(3),
        content,
        db.store.clone(),
        cache,
    )
    .await
    .unwrap();
    let gateway = Gateway::start(
        cluster.clone(),
        GatewayConfig::new("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let http = Http::new(&gateway.base_url());
    let (token, c) = http
        .new_player("cheater", PASSWORD, "ranger", "korrim")
        .await
        .unwrap();
    let (mut ws, joined) = PlainSocket::join(&http, &token, c).await.unwrap();
    assert_eq!(joined, Answer::Ok);

    let out = Process::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["admin", "announce", "--text", "server restarts at noon"])
        .args(["--operator", "gm-test"])
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", redis.url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    loop {
        if let realmkeep_protocol::client::Incoming::Frame(f) = ws.next().await.unwrap() {
            if let ServerMsg::Announcement(a) = f.msg {
                assert_eq!(
                    a,
                    realmkeep_protocol::ws::Announcement::Text {
                        text: "server restarts at noon".into()
                    }
                );
                break;
            }
        }
    }

    // Gold to a player in the world: without Redis the command cannot reach the zone and
    // changes nothing; with it, the zone runs the change and the socket shows the purse.
    let gold = |redis_url: Option<String>| {
        let mut p = Process::new(env!("CARGO_BIN_EXE_realmkeep"));
        p.args(["admin", "gold", "cheater", "40"])
            .args(["--operator", "gm-test", "--reason", "refund"])
            .env("DATABASE_URL", &db.url)
            .env_remove("REDIS_URL");
        if let Some(u) = redis_url {
            p.env("REDIS_URL", u);
        }
        p.output().unwrap()
    };
    let before: i64 = sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    let out = gold(None);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("did not apply"), "{said}");
    let out = gold(Some(redis.url()));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("now has {} gold", before + 40)),
        "{said}"
    );
    loop {
        if let realmkeep_protocol::client::Incoming::Frame(f) = ws.next().await.unwrap() {
            if let ServerMsg::Event(realmkeep_protocol::ws::GameEvent::GoldChanged { gold }) = f.msg
            {
                assert_eq!(gold, before + 40);
                break;
            }
        }
    }

    let out = Process::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["admin", "ban", "--account", "cheater"])
        .args(["--operator", "gm-test", "--reason", "speed hacking"])
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", redis.url())
        .output()
        .unwrap();
    let returned = Instant::now();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut kicked = None;
    let code = loop {
        match ws.next().await.unwrap() {
            realmkeep_protocol::client::Incoming::Frame(f) => {
                if let ServerMsg::Inbox(InboxEvent::Kicked { reason }) = f.msg {
                    kicked = Some(reason);
                }
            }
            realmkeep_protocol::client::Incoming::Closed(code) => break code,
        }
    };
    let took = returned.elapsed();
    assert_eq!(code, Some(CloseCode::Banned.code()));
    assert!(kicked.is_some_and(|r| r.contains("speed hacking")));
    assert!(
        took < Duration::from_secs(1),
        "closed {took:?} after the ban"
    );
    let e = http.login("cheater", PASSWORD).await.unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Banned));
    gateway.stop();
    cluster.shutdown().await;
}
