//! Two nodes against one PostgreSQL and one Redis, each running one zone with its own gateway:
//! a player who changes zone to the other node is saved and released, sent there with a ticket
//! (`redirect`, close 4007), and claimed there with the next epoch; a player who logs into the
//! wrong node is sent to the right one; chat crosses nodes; the spec's zone sets stay right; a
//! logout at one node closes the session's socket on the other.

mod support;

use realmkeep_cache::{keys, Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_gateway::{Gateway, GatewayConfig};
use realmkeep_protocol::client::{Http, Incoming, PlainSocket};
use realmkeep_protocol::ws::{Answer, Command, ServerMsg};
use realmkeep_protocol::{CloseCode, Reason};
use realmkeep_server::{Cluster, ClusterConfig};
use std::sync::Arc;
use std::time::Duration;
use support::*;

struct Node {
    cluster: Cluster,
    gateway: Gateway,
    http: Http,
}

async fn node(env_db: &realmkeep_testkit::TestDb, redis_url: &str, name: &str, zone: i32) -> Node {
    let content = Arc::new(realmkeep_store::seed::bundled_content().unwrap());
    let mut opts = CacheOptions::new(
        NodeId::parse(name).unwrap(),
        SessionSecret::new(b"test-secret-test-secret-test-secret").unwrap(),
    );
    opts.rate_limits = generous(vec![]);
    let cache = Cache::connect(redis_url, opts).await.unwrap();
    assert!(cache.wait_until_up(WAIT).await);
    let config = ClusterConfig::new(name, vec![ZoneId(zone)])
        .with_lease(Duration::from_secs(3))
        .with_save_interval(Duration::from_secs(1))
        .with_seed(5);
    let cluster = Cluster::start(config, content, env_db.store.clone(), cache)
        .await
        .unwrap();
    let gateway = Gateway::start(
        cluster.clone(),
        GatewayConfig::new("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let http = Http::new(&gateway.base_url());
    Node {
        cluster,
        gateway,
        http,
    }
}

async fn in_zone_set(redis_url: &str, zone: i32, c: i64) -> bool {
    let mut r = redis::Client::open(redis_url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("SISMEMBER")
        .arg(keys::zone_players(ZoneId(zone)))
        .arg(c)
        .query_async(&mut r)
        .await
        .unwrap()
}

async fn eventually(what: &str, mut f: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !f().await {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads until the redirect and the close: the redirect's URL and ticket.
async fn redirected(ws: &mut PlainSocket) -> (String, String, i32) {
    let mut to = None;
    let mut kept = Vec::new();
    loop {
        match ws.next().await.unwrap() {
            Incoming::Frame(f) => match f.msg {
                ServerMsg::Redirect { url, ticket, zone } => to = Some((url, ticket, zone)),
                _ => kept.push(f),
            },
            Incoming::Closed(code) => {
                assert_eq!(code, Some(CloseCode::Redirected.code()));
                ws.backlog.extend(kept);
                return to.expect("a redirect before the close");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_change_to_another_node_hands_the_player_over() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let one = node(&db, &redis.url(), "north", 1).await;
    let two = node(&db, &redis.url(), "south", 2).await;

    one.http
        .register("alice", "alice@example.com", PASSWORD)
        .await
        .unwrap();
    let token = one.http.login("alice", PASSWORD).await.unwrap().token;
    let c = one
        .http
        .create_character(&token, "alice", "mage", "aldor")
        .await
        .unwrap()
        .id;
    // A player of node two listens to global chat.
    two.http
        .register("bobby", "bobby@example.com", PASSWORD)
        .await
        .unwrap();
    let tb = two.http.login("bobby", PASSWORD).await.unwrap().token;
    let b = two
        .http
        .create_character(&tb, "bobby", "mage", "aldor")
        .await
        .unwrap()
        .id;
    // Bobby starts in zone 1 (node one): logging in at node two sends him to node one.
    let t = two.http.ticket(&tb, b).await.unwrap();
    let mut wb = PlainSocket::connect(&two.http.ws_url()).await.unwrap();
    let id = wb.send(Command::Join { ticket: t.ticket }).await.unwrap();
    let (url, ticket, zone) = redirected(&mut wb).await;
    assert_eq!((url.as_str(), zone), (one.gateway.public_url(), 1));
    assert!(matches!(
        wb.backlog.iter().find_map(|f| match &f.msg {
            ServerMsg::Answer { id: i, result } if *i == id => Some(result.clone()),
            _ => None,
        }),
        Some(Answer::Refused {
            reason: Reason::ZoneElsewhere,
            ..
        })
    ));
    let mut wb = PlainSocket::connect(&url).await.unwrap();
    assert_eq!(
        wb.request(Command::Join { ticket }).await.unwrap(),
        Answer::Ok
    );

    // Alice plays on node one, then walks into zone 2 (node two).
    let t = one.http.ticket(&token, c).await.unwrap();
    let mut wa = PlainSocket::connect(&one.http.ws_url()).await.unwrap();
    assert_eq!(
        wa.request(Command::Join { ticket: t.ticket })
            .await
            .unwrap(),
        Answer::Ok
    );
    let epoch = db
        .store
        .load_character(CharacterId(c))
        .await
        .unwrap()
        .claim_epoch;
    eventually("alice in zone 1's set", async || {
        in_zone_set(&redis.url(), 1, c).await
    })
    .await;
    assert_eq!(
        wa.request(Command::ChangeZone { to: 2 }).await.unwrap(),
        Answer::Ok
    );
    let (url, ticket, zone) = redirected(&mut wa).await;
    assert_eq!((url.as_str(), zone), (two.gateway.public_url(), 2));
    // Saved and released on node one, at zone 2's entry: no owner for a moment, never two.
    let saved = db.store.load_character(CharacterId(c)).await.unwrap();
    assert_eq!(saved.position.zone, ZoneId(2));
    assert!(!one.cluster.zones().any(|z| z.holds(CharacterId(c))));
    let mut wa = PlainSocket::connect(&url).await.unwrap();
    let id = wa.send(Command::Join { ticket }).await.unwrap();
    assert_eq!(wa.answer(id).await.unwrap(), Answer::Ok);
    let welcome = wa
        .backlog
        .iter()
        .find_map(|f| match &f.msg {
            ServerMsg::Welcome(w) => Some((**w).clone()),
            _ => None,
        })
        .expect("a welcome");
    assert_eq!((welcome.zone, welcome.character), (2, c));
    let after = db
        .store
        .load_character(CharacterId(c))
        .await
        .unwrap()
        .claim_epoch;
    assert_eq!(after.0, epoch.0 + 1, "claimed there with the next epoch");
    assert!(two.cluster.zones().any(|z| z.holds(CharacterId(c))));
    eventually("zone sets follow", async || {
        in_zone_set(&redis.url(), 2, c).await && !in_zone_set(&redis.url(), 1, c).await
    })
    .await;

    // Chat crosses nodes: alice (node two) says, bobby (node one) hears.
    let line = Command::Chat {
        channel: "global".into(),
        text: "hello from the south".into(),
    };
    assert_eq!(wa.request(line).await.unwrap(), Answer::Ok);
    next_msg(&mut wb, |m| {
        matches!(m, ServerMsg::Chat(l) if l.text == "hello from the south" && l.from == c)
            .then_some(())
    })
    .await;

    // An operator on node one changes alice's purse on node two: the order crosses nodes on
    // her `player_events` channel and her zone there runs it.
    realmkeep_testkit::operator(&db.store, "gm-nia", realmkeep_domain::AdminRole::GameMaster).await;
    let body =
        serde_json::json!({ "name": "gm-nia", "password": realmkeep_testkit::OPERATOR_PASSWORD });
    let (s, b) = one
        .http
        .raw("POST", "/v1/admin/sessions", None, &body.to_string())
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let op: realmkeep_protocol::admin::AdminSessionIssued = serde_json::from_str(&b).unwrap();
    let before = saved.gold;
    let path = format!("/v1/admin/characters/{c}/gold");
    let (s, b) = one
        .http
        .raw(
            "POST",
            &path,
            Some(&op.token),
            r#"{"delta":77,"reason":"cross-node refund"}"#,
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    next_msg(&mut wa, |m| {
        matches!(m, ServerMsg::Event(realmkeep_protocol::ws::GameEvent::GoldChanged { gold }) if *gold == before + 77)
            .then_some(())
    })
    .await;

    // Bobby's session (logged in at node two, playing on node one) ends at node two: a renewal
    // there revokes the old token, not the session, so his socket holds through a sweep; his
    // logout there closes it, by node one's sweep (4005).
    let fresh = two.http.refresh(&tb).await.unwrap();
    tokio::time::sleep(realmkeep_gateway::limits::SWEEP_EVERY + Duration::from_secs(1)).await;
    assert_eq!(wb.request(Command::Stop).await.unwrap(), Answer::Ok);
    two.http.logout(&fresh.token).await.unwrap();
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(WAIT, wb.closed())
        .await
        .expect("the logout at node two closes the socket on node one");
    assert_eq!(closed.unwrap(), Some(CloseCode::SessionRevoked.code()));
    assert!(
        started.elapsed() < realmkeep_gateway::limits::SWEEP_EVERY + Duration::from_secs(2),
        "closed by node one's sweep in {:?}",
        started.elapsed()
    );

    one.gateway.stop();
    two.gateway.stop();
    one.cluster.shutdown().await;
    two.cluster.shutdown().await;
}
