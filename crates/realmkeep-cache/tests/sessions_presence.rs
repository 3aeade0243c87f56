//! Sessions, presence and zone membership: behaviour, and TTLs read back with TTL/PTTL.

mod common;

use common::*;
use realmkeep_cache::keys::{self, PRESENCE_TTL, SESSION_TTL};
use realmkeep_cache::*;
use realmkeep_domain::{AccountId, CharacterId, ZoneId};
use std::time::Duration;

fn near(ms: i64, expected: Duration) -> bool {
    let e = expected.as_millis() as i64;
    ms > e - 60_000.min(e / 2) && ms <= e
}

#[tokio::test]
async fn sessions_validate_refresh_and_revoke() {
    let server = redis();
    let cache = connect(&server, options("n1")).await;
    let mut r = raw(&server).await;

    let s = cache.sessions().issue(AccountId(5)).await;
    assert_eq!(s.served, Served::Redis);
    let key = keys::session(s.token.as_str());
    assert!(near(pttl(&mut r, &key).await, SESSION_TTL));
    // Redis holds no bearer token: not in a key, not in a value.
    let all: Vec<String> = cmd(&mut r, &["KEYS", "*"]).await;
    let (_, signature) = s.token.as_str().rsplit_once('.').unwrap();
    for k in &all {
        assert!(!k.contains(signature), "a token in key {k}");
        let kind: String = cmd(&mut r, &["TYPE", k]).await;
        if kind == "string" {
            let v: String = cmd(&mut r, &["GET", k]).await;
            assert!(!v.contains(signature), "a token in the value of {k}");
        }
    }
    assert!(
        !format!("{:?}", s.token).contains(signature),
        "Debug shows no token"
    );

    // Use refreshes the TTL (GETEX): shorten it, validate, and it is back to 30 minutes.
    cmd::<()>(&mut r, &["EXPIRE", &key, "10"]).await;
    let check = cache.sessions().validate(s.token.as_str()).await;
    assert!(matches!(
        check,
        SessionCheck::Valid {
            account: AccountId(5),
            degraded: false,
            ..
        }
    ));
    assert!(near(pttl(&mut r, &key).await, SESSION_TTL));

    // Forged, expired, unknown.
    let forged = s.token.as_str().replacen(".5.", ".6.", 1);
    assert_eq!(
        cache.sessions().validate(&forged).await,
        SessionCheck::Invalid(InvalidSession::BadSignature)
    );
    let signer = TokenSigner::new(secret());
    let expired = signer.sign(SessionClaims {
        account: AccountId(5),
        session: SessionId(1),
        started_unix_s: 0,
        expires_unix_s: 1,
        nonce: 0,
    });
    assert_eq!(
        cache.sessions().validate(expired.as_str()).await,
        SessionCheck::Invalid(InvalidSession::Expired)
    );
    let unknown = signer.sign(SessionClaims {
        account: AccountId(5),
        session: SessionId(2),
        started_unix_s: now_s(),
        expires_unix_s: now_s() + 60,
        nonce: 0,
    });
    assert_eq!(
        cache.sessions().validate(unknown.as_str()).await,
        SessionCheck::Invalid(InvalidSession::Unknown)
    );

    // Logout revokes one session; the tombstone lives as long as the token could.
    assert_eq!(
        cache.sessions().revoke(s.token.as_str()).await,
        Served::Redis
    );
    assert_eq!(
        cache.sessions().validate(s.token.as_str()).await,
        SessionCheck::Invalid(InvalidSession::Revoked)
    );
    assert_eq!(cmd::<String>(&mut r, &["GET", &key]).await, "revoked");
    // The same token spelled otherwise (its signature re-cased) is not another, live session.
    let (payload, sig) = s.token.as_str().rsplit_once('.').unwrap();
    let recased = format!("{payload}.{}", sig.to_uppercase());
    assert!(!cache.sessions().validate(&recased).await.is_valid());
    assert!(pttl(&mut r, &key).await > 0);

    // A ban revokes every session of the account with one key (no scan, however many there
    // are), seen from another node too.
    let other_node = connect(&server, options("n2")).await;
    let mut many = Vec::new();
    for _ in 0..1_500 {
        many.push(cache.sessions().issue(AccountId(9)).await);
    }
    let (a, b) = (&many[0], &many[1_499]);
    let keep = cache.sessions().issue(AccountId(10)).await;
    cache.sessions().revoke_account(AccountId(9)).await.unwrap();
    let before: i64 = cmd(&mut r, &["GET", "session_revoked_before:9"]).await;
    let lifetime = realmkeep_cache::token::SESSION_TOKEN_LIFETIME.as_secs() as i64;
    assert!(before >= a.claims.expires_unix_s - lifetime);
    for t in many.iter().map(|s| &s.token) {
        assert_eq!(
            other_node.sessions().validate(t.as_str()).await,
            SessionCheck::Invalid(InvalidSession::Revoked)
        );
    }
    for t in [&a.token, &b.token] {
        assert_eq!(
            other_node.sessions().validate(t.as_str()).await,
            SessionCheck::Invalid(InvalidSession::Revoked)
        );
    }
    assert!(other_node
        .sessions()
        .validate(keep.token.as_str())
        .await
        .is_valid());

    // Renewal keeps the session id, issues a new token and revokes the old one (a token
    // renewed within the second it was issued is the same token: wait for the next second).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let renewed = cache.sessions().renew(keep.token.as_str()).await.unwrap();
    assert_eq!(renewed.claims.session, keep.claims.session);
    assert_eq!(
        other_node.sessions().validate(keep.token.as_str()).await,
        SessionCheck::Invalid(InvalidSession::Revoked)
    );
    assert!(renewed.claims.expires_unix_s >= keep.claims.expires_unix_s);
    assert!(cache
        .sessions()
        .validate(renewed.token.as_str())
        .await
        .is_valid());
}

#[tokio::test]
async fn presence_zone_sets_and_entity_counts() {
    let server = redis();
    let a = connect(&server, options("node-a")).await;
    let b = connect(&server, options("node-b")).await;
    let mut r = raw(&server).await;
    let (z1, z2) = (ZoneId(1), ZoneId(2));

    a.presence().enter_zone(CharacterId(1), z1).await.unwrap();
    a.presence().enter_zone(CharacterId(2), z1).await.unwrap();
    b.presence().enter_zone(CharacterId(3), z1).await.unwrap();

    let key = keys::presence(CharacterId(1));
    let v: String = cmd(&mut r, &["GET", &key]).await;
    assert_eq!(v, r#"{"zone":1,"node":"node-a"}"#);
    assert!(near(pttl(&mut r, &key).await, PRESENCE_TTL));
    assert_eq!(
        pttl(&mut r, &keys::zone_players(z1)).await,
        -1,
        "zone sets have no TTL"
    );

    // Heartbeat refreshes the TTL.
    cmd::<()>(&mut r, &["PEXPIRE", &key, "5000"]).await;
    assert_eq!(a.presence().heartbeat(CharacterId(1)).await, Served::Redis);
    assert!(near(pttl(&mut r, &key).await, PRESENCE_TTL));

    let seen = b.presence().zone_players(z1).await;
    assert!(!seen.degraded);
    assert_eq!(
        seen.value,
        vec![CharacterId(1), CharacterId(2), CharacterId(3)]
    );
    assert_eq!(b.presence().entity_count(z1).await.value, 3);

    // The zone reports its monsters too: a's share is 2 players + 10 others.
    a.presence().set_entity_count(z1, 12).await.unwrap();
    assert_eq!(b.presence().entity_count(z1).await.value, 13);

    // A transfer: 1 moves to z2 on the same node.
    a.presence().enter_zone(CharacterId(1), z2).await.unwrap();
    assert_eq!(
        a.presence().zone_players(z1).await.value,
        vec![CharacterId(2), CharacterId(3)]
    );
    assert_eq!(
        a.presence().zone_players(z2).await.value,
        vec![CharacterId(1)]
    );
    assert_eq!(a.presence().entity_count(z1).await.value, 12);
    let where_is = b.presence().lookup(CharacterId(1)).await;
    assert_eq!(where_is.value.unwrap().zone, z2);

    // Leave: out of the set and offline.
    assert_eq!(a.presence().leave_zone(CharacterId(1)).await, Served::Redis);
    assert!(b.presence().lookup(CharacterId(1)).await.value.is_none());
    assert!(b.presence().zone_players(z2).await.value.is_empty());
    assert_eq!(b.presence().entity_count(z2).await.value, 0);
}

#[tokio::test]
async fn a_dead_node_leaves_no_ghosts() {
    let server = redis();
    let survivor = connect(&server, options("survivor")).await;
    let mut opts = options("doomed");
    opts.node_sweep_interval = Duration::from_secs(3_600);
    let doomed = connect(&server, opts).await;
    let z = ZoneId(4);
    doomed
        .presence()
        .enter_zone(CharacterId(1), z)
        .await
        .unwrap();
    doomed
        .presence()
        .enter_zone(CharacterId(2), z)
        .await
        .unwrap();
    doomed.presence().set_entity_count(z, 7).await.unwrap();
    survivor
        .presence()
        .enter_zone(CharacterId(3), z)
        .await
        .unwrap();
    assert_eq!(survivor.presence().entity_count(z).await.value, 8);

    // Player 2 reconnects through the survivor before the doomed node is swept.
    drop(doomed); // the node dies: its lease is no longer refreshed
    survivor
        .presence()
        .enter_zone(CharacterId(2), z)
        .await
        .unwrap();

    eventually("the survivor's sweep", || async {
        survivor.presence().zone_players(z).await.value == vec![CharacterId(2), CharacterId(3)]
    })
    .await;
    assert!(survivor
        .presence()
        .lookup(CharacterId(1))
        .await
        .value
        .is_none());
    assert_eq!(
        survivor
            .presence()
            .lookup(CharacterId(2))
            .await
            .value
            .unwrap()
            .node
            .as_str(),
        "survivor"
    );
    eventually("the dead node's share to go", || async {
        survivor.presence().entity_count(z).await.value == 2
    })
    .await;
    let mut r = raw(&server).await;
    eventually("the dead node to be forgotten", || {
        let mut r = r.clone();
        async move {
            !cmd::<Vec<String>>(&mut r, &["SMEMBERS", keys::NODES_KNOWN])
                .await
                .contains(&"doomed".to_string())
        }
    })
    .await;
    assert_eq!(
        cmd::<i64>(
            &mut r,
            &["EXISTS", "node:doomed:members", "node:doomed:zones"]
        )
        .await,
        0
    );
    assert!(survivor.metrics().ghosts_removed >= 1);
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn held(s: &realmkeep_cache::IssuedSession, issued_unix_s: i64) -> HeldSession {
    HeldSession {
        account: s.claims.account,
        session: s.claims.session,
        issued_unix_s,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_are_checked_for_revocation_in_one_round_trip() {
    let server = redis();
    let cache = connect(&server, options("n1")).await;
    let other_node = connect(&server, options("n2")).await;
    let old = cache.sessions().issue(AccountId(1)).await;
    let kept = cache.sessions().issue(AccountId(2)).await;
    let out = cache.sessions().issue(AccountId(3)).await;
    let renewed = cache.sessions().issue(AccountId(4)).await;
    // Revoked and logged out on the other node: seen here through Redis alone.
    other_node
        .sessions()
        .revoke_account(AccountId(1))
        .await
        .unwrap();
    other_node.sessions().end(out.token.as_str()).await;
    // A renewal revokes the old token, not the session: its connection holds.
    other_node
        .sessions()
        .renew(renewed.token.as_str())
        .await
        .unwrap();
    let ask = [
        held(&old, issued_at(&old.claims)),
        held(&kept, issued_at(&kept.claims)),
        // A session of account 1 issued after the revocation is not revoked.
        held(&old, issued_at(&old.claims) + 3_600),
        held(&out, issued_at(&out.claims)),
        held(&renewed, issued_at(&renewed.claims)),
    ];
    assert_eq!(
        cache.sessions().sessions_revoked(&ask).await.unwrap(),
        [true, false, false, true, false]
    );
    assert!(cache.sessions().session_revoked(ask[3]).await);
    assert!(!cache.sessions().session_revoked(ask[4]).await);
    let too_many = vec![ask[0]; REVOKED_CHECK_MAX + 1];
    assert!(matches!(
        cache.sessions().sessions_revoked(&too_many).await,
        Err(CacheError::Limit { .. })
    ));
    // Redis gone: this node's own revocations and logouts still answer.
    cache.sessions().revoke_account(AccountId(2)).await.unwrap();
    cache.sessions().end(renewed.token.as_str()).await;
    drop(server);
    let revoked = cache.sessions().sessions_revoked(&ask).await.unwrap();
    assert_eq!(
        revoked,
        [false, true, false, false, true],
        "only what this node revoked"
    );
}
