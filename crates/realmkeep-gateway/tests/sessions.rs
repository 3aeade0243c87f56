//! Sessions over HTTP and their hold on live sockets: refresh revokes the old token, logout and
//! a password change revoke and close the socket, a ban kicks a connected player within a
//! second, one live connection per account, login backoff and rate limits (moves' counted in
//! Redis without waiting).

mod support;

use realmkeep_cache::options::RateLimitConfig;
use realmkeep_cache::{PlayerEvent, RateAction};
use realmkeep_domain::{AccountId, CharacterId};
use realmkeep_gateway::GatewayConfig;
use realmkeep_protocol::ws::{Answer, Command, InboxEvent, ServerMsg};
use realmkeep_protocol::{CloseCode, Reason};
use realmkeep_store::bans::BanTarget;
use std::time::{Duration, Instant};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_revokes_the_old_token_and_logout_closes_the_sessions_socket() {
    let env = Env::new().await;
    let (token, c) = env.player("alice").await;
    let fresh = env.http.refresh(&token).await.unwrap();
    assert_ne!(fresh.token, token);
    assert_eq!(
        env.http.characters(&token).await.unwrap_err().reason(),
        Some(Reason::Unauthorized),
        "the renewed token is revoked"
    );
    let (mut ws, _) = env.join(&fresh.token, c).await;
    env.http.logout(&fresh.token).await.unwrap();
    assert_eq!(
        ws.closed().await.unwrap(),
        Some(CloseCode::SessionRevoked.code())
    );
    assert_eq!(
        env.http.ticket(&fresh.token, c).await.unwrap_err().reason(),
        Some(Reason::Unauthorized)
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_revokes_every_session_and_closes_the_socket() {
    let env = Env::new().await;
    let (token, c) = env.player("alice").await;
    let other = env.http.login("alice", PASSWORD).await.unwrap().token;
    let (mut ws, _) = env.join(&token, c).await;
    let weak = env
        .http
        .change_password(&token, PASSWORD, "alice")
        .await
        .unwrap_err();
    assert_eq!(weak.reason(), Some(Reason::WeakPassword));
    let wrong = env
        .http
        .change_password(&token, "not the password", "brand new secret")
        .await
        .unwrap_err();
    assert_eq!(wrong.reason(), Some(Reason::BadCredentials));
    env.http
        .change_password(&token, PASSWORD, "brand new secret")
        .await
        .unwrap();
    assert_eq!(
        ws.closed().await.unwrap(),
        Some(CloseCode::SessionRevoked.code())
    );
    for t in [&token, &other] {
        assert_eq!(
            env.http.characters(t).await.unwrap_err().reason(),
            Some(Reason::Unauthorized)
        );
    }
    assert_eq!(
        env.http
            .login("alice", PASSWORD)
            .await
            .unwrap_err()
            .reason(),
        Some(Reason::BadCredentials)
    );
    env.http.login("alice", "brand new secret").await.unwrap();
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_kicks_a_connected_player_within_a_second_and_refuses_the_next_login() {
    let env = Env::new().await;
    let (token, c) = env.player("alice").await;
    let (mut ws, _) = env.join(&token, c).await;
    let account: AccountId = env
        .db
        .store
        .account_id_by_name("alice")
        .await
        .unwrap()
        .unwrap();
    // What `realmkeep admin ban` does: the ban in PostgreSQL, the sessions revoked, a kick.
    env.db
        .store
        .ban(
            BanTarget::Account(account),
            "cheating",
            "test-operator",
            None,
        )
        .await
        .unwrap();
    let started = Instant::now();
    env.cluster
        .cache()
        .sessions()
        .revoke_account(account)
        .await
        .unwrap();
    env.cluster
        .cache()
        .events()
        .notify_player(
            CharacterId(c),
            PlayerEvent::Kicked {
                reason: "banned: cheating".into(),
            },
        )
        .await
        .unwrap();
    let kicked = next_msg(&mut ws, |m| match m {
        ServerMsg::Inbox(InboxEvent::Kicked { reason }) => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(kicked.contains("cheating"));
    assert_eq!(ws.closed().await.unwrap(), Some(CloseCode::Banned.code()));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "kicked in {took:?}");
    assert_eq!(
        env.http
            .login("alice", PASSWORD)
            .await
            .unwrap_err()
            .reason(),
        Some(Reason::Banned)
    );
    assert_eq!(
        env.http.characters(&token).await.unwrap_err().reason(),
        Some(Reason::Unauthorized)
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_of_an_account_closes_the_first_and_takes_the_character_over() {
    let env = Env::new().await;
    let (token, c) = env.player("alice").await;
    let (mut first, w1) = env.join(&token, c).await;
    let (mut second, w2) = env.join(&token, c).await;
    assert_eq!(
        first.closed().await.unwrap(),
        Some(CloseCode::LoggedInElsewhere.code())
    );
    assert!(
        w2.resumed && w2.net_id == w1.net_id,
        "the same entity, resumed"
    );
    assert_eq!(second.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_back_off_per_account_and_rate_limits_answer_429() {
    let limits = generous(vec![RateLimitConfig {
        action: RateAction::Register,
        limit: 3,
        window: Duration::from_secs(3_600),
    }]);
    let env = Env::with(limits, GatewayConfig::new("127.0.0.1:0".parse().unwrap())).await;
    env.player("alice").await;
    for _ in 0..realmkeep_cache::LOGIN_FAILURES_FREE {
        let e = env
            .http
            .login("alice", "wrong password!")
            .await
            .unwrap_err();
        assert_eq!(e.reason(), Some(Reason::BadCredentials));
    }
    let e = env.http.login("alice", PASSWORD).await.unwrap_err();
    assert_eq!(
        e.reason(),
        Some(Reason::LoginBackoff),
        "even the right password waits"
    );
    // Another account is not slowed down by alice's failures.
    env.http
        .register("bobby", "bobby@example.com", PASSWORD)
        .await
        .unwrap();
    env.http.login("bobby", PASSWORD).await.unwrap();
    // Registrations: 3 per hour from this address (alice and bobby used two).
    env.http
        .register("carol", "carol@example.com", PASSWORD)
        .await
        .unwrap();
    let e = env
        .http
        .register("dave1", "dave@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::RateLimited));
    match e {
        realmkeep_protocol::client::ClientError::Api { status, error } => {
            assert_eq!(status, 429);
            assert!(error.retry_after_ms.is_some());
        }
        other => panic!("{other}"),
    }
    env.stop().await;
}

/// A gateway whose sweep looks every 200 ms (5 s in service).
async fn swept() -> Env {
    let mut config = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    config.sweep_every = Duration::from_millis(200);
    Env::with(generous(vec![]), config).await
}

/// Another node's Redis client: what it writes reaches this gateway only through Redis itself,
/// never through a pub/sub notice (as when the notice was published while the subscriber was
/// reconnecting).
async fn redis_behind_the_gateways_back(env: &Env) -> redis::aio::MultiplexedConnection {
    redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_closes_a_socket_whose_session_was_revoked_without_a_notice() {
    let env = swept().await;
    let (token, c) = env.player("alice").await;
    let (mut ws, _) = env.join(&token, c).await;
    let (token_b, bob) = env.player("bobby").await;
    let account = env
        .db
        .store
        .account_id_by_name("alice")
        .await
        .unwrap()
        .unwrap();
    // A password change on another node: the account's revocation time in Redis, no kick.
    let mut r = redis_behind_the_gateways_back(&env).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let _: () = redis::cmd("SET")
        .arg(realmkeep_cache::keys::session_revoked_before(account))
        .arg(now + 1)
        .query_async(&mut r)
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        ws.closed().await.unwrap(),
        Some(CloseCode::SessionRevoked.code())
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "closed by the sweep in {:?}",
        started.elapsed()
    );
    let (status, metrics) = env.http.raw("GET", "/metrics", None, "").await.unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("realmkeep_gateway_sweep_found_total{what=\"revoked\"} ")),
        "the sweep counts what it found:\n{metrics}"
    );
    // Only alice's: another player's connection is left alone.
    let (mut other, _) = env.join(&token_b, bob).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(other.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_delivers_an_inbox_event_whose_wake_up_was_lost() {
    let env = swept().await;
    let (token, c) = env.player("alice").await;
    let (mut ws, _) = env.join(&token, c).await;
    // A mail notice written to the inbox, its pub/sub wake-up lost.
    let payload = serde_json::to_string(&realmkeep_cache::ChannelMessage::Player(
        PlayerEvent::MailArrived {
            mail: realmkeep_domain::MailId(77),
        },
    ))
    .unwrap();
    let mut r = redis_behind_the_gateways_back(&env).await;
    let _: String = redis::cmd("XADD")
        .arg(realmkeep_cache::keys::player_inbox(CharacterId(c)))
        .arg("*")
        .arg("m")
        .arg(payload)
        .query_async(&mut r)
        .await
        .unwrap();
    let started = Instant::now();
    let mail = next_msg(&mut ws, |m| match m {
        ServerMsg::Inbox(InboxEvent::MailArrived { mail }) => Some(*mail),
        _ => None,
    })
    .await;
    assert_eq!(mail, 77);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "delivered by the sweep in {:?}",
        started.elapsed()
    );
    // Once: the next sweeps find nothing newer.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let id = ws.send(Command::Stop).await.unwrap();
    let again = ws.answer(id).await.unwrap();
    assert_eq!(again, Answer::Ok);
    assert!(
        !ws.backlog
            .iter()
            .any(|f| matches!(f.msg, ServerMsg::Inbox(_))),
        "delivered once"
    );
    env.stop().await;
}

/// Moves are tallied on the node against the address's limit and counted in Redis a flush later:
/// exactly the limit is answered, the rest refused until the window has passed, and the count
/// is in Redis (`rate_limit:{ip}:ws_move`) for the other nodes to see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_over_the_address_limit_are_refused_and_counted_in_redis() {
    let window = Duration::from_secs(3);
    let moves = RateLimitConfig {
        action: RateAction::WsMove,
        limit: 5,
        window,
    };
    let config = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    let env = Env::with(generous(vec![moves]), config).await;
    let (t, c) = env.player("alice").await;
    let (mut ws, _) = env.join(&t, c).await;
    let started = Instant::now();
    let mut answers = Vec::new();
    for _ in 0..12 {
        answers.push(ws.request(Command::Stop).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started.elapsed() < window, "all within one window");
    assert!(
        answers[..5].iter().all(|a| *a == Answer::Ok),
        "the first five are within it: {answers:?}"
    );
    assert!(
        answers[5..].iter().all(
            |a| matches!(a, Answer::RateLimited { retry_after_ms } if *retry_after_ms <= 3_000)
        ),
        "the rest are refused until the window passes: {answers:?}"
    );
    // The tally reached Redis: the address's window holds the five let through.
    let mut r = redis_behind_the_gateways_back(&env).await;
    let counted = async {
        loop {
            let n: Option<u64> = redis::cmd("GET")
                .arg("rate_limit:127.0.0.1:ws_move")
                .query_async(&mut r)
                .await
                .unwrap();
            if n == Some(5) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(2), counted)
        .await
        .expect("the five counted in Redis");
    // The window passes: answered again.
    tokio::time::sleep(window + Duration::from_millis(200)).await;
    assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}
