//! Sessions over HTTP and their hold on live sockets: refresh revokes the old token, logout and
//! a password change revoke and close the socket, a ban kicks a connected player within a
//! second, one live connection per account, login backoff and rate limits.

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
