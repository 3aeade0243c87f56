//! Friends and blocks, against the real private PostgreSQL.

mod support;

use realmkeep_domain::limits::FRIENDS_MAX;
use realmkeep_domain::*;
use realmkeep_store::social::{Friend, FriendStatus, BLOCKED_MAX};
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

/// Every friendship row, as (holder, other, status), in order.
async fn rows(s: &Store) -> Vec<(i64, i64, String)> {
    sqlx::query_as(
        "SELECT character_id, other_id, status FROM friendships ORDER BY character_id, other_id",
    )
    .fetch_all(s.pool())
    .await
    .unwrap()
}

fn row(a: CharacterId, b: CharacterId, status: &str) -> (i64, i64, String) {
    (a.0, b.0, status.to_string())
}

async fn statuses(s: &Store, c: CharacterId) -> Vec<(CharacterId, FriendStatus)> {
    s.friends_of(c)
        .await
        .unwrap()
        .into_iter()
        .map(|f: Friend| (f.id, f.status))
        .collect()
}

/// Many characters at once, by SQL (test setup only): `n` accounts with one character each.
async fn bulk_characters(s: &Store, prefix: &str, n: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "WITH a AS (
             INSERT INTO accounts (username, email, password_hash)
             SELECT $1 || g, $1 || g || '@example.test', 'x' FROM generate_series(1, $2) g
             RETURNING id, username)
         INSERT INTO characters (account_id, name, class, kingdom, strength, agility, intellect,
                                 stamina, health, mana, zone_id)
         SELECT id, username, 'warrior', 'aldor', 12, 8, 4, 12, 100, 50, 1 FROM a RETURNING id",
    )
    .bind(prefix)
    .bind(n)
    .fetch_all(s.pool())
    .await
    .unwrap()
}

/// Gives `c` `n` rows of `status` toward new characters (test setup only).
async fn fill_list(s: &Store, c: CharacterId, prefix: &str, n: i64, status: &str) {
    let others = bulk_characters(s, prefix, n).await;
    sqlx::query(
        "INSERT INTO friendships (character_id, other_id, status)
         SELECT $1, o, $3 FROM UNNEST($2::int8[]) o",
    )
    .bind(c.0)
    .bind(&others)
    .bind(status)
    .execute(s.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_request_is_accepted_listed_and_removed() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = character(s, "Ann").await;
    let bob = character(s, "Bob").await;
    let gold_before = total_gold(s).await;

    assert!(matches!(
        refusal(s.request_friend(off(ann), ann).await),
        Refusal::Invalid(_)
    ));
    assert_eq!(
        refusal(s.request_friend(off(ann), CharacterId(999_999)).await),
        Refusal::NotFound("character")
    );
    assert_eq!(
        refusal(s.accept_friend(off(bob), ann).await),
        Refusal::NotFound("friend request")
    );
    assert_eq!(
        s.request_friend(off(ann), bob).await.unwrap(),
        FriendStatus::Requested
    );
    assert_eq!(
        rows(s).await,
        vec![row(ann, bob, "requested"), row(bob, ann, "pending")]
    );
    assert_eq!(
        s.friends_of(ann).await.unwrap(),
        vec![Friend {
            id: bob,
            name: "Bob".into(),
            status: FriendStatus::Requested
        }]
    );
    assert_eq!(statuses(s, bob).await, vec![(ann, FriendStatus::Pending)]);
    assert!(matches!(
        refusal(s.request_friend(off(ann), bob).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(
        refusal(s.accept_friend(off(ann), bob).await),
        Refusal::NotFound("friend request"),
        "only the one asked accepts"
    );

    s.accept_friend(off(bob), ann).await.unwrap();
    assert_eq!(
        rows(s).await,
        vec![row(ann, bob, "accepted"), row(bob, ann, "accepted")]
    );
    assert!(matches!(
        refusal(s.request_friend(off(bob), ann).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(
        refusal(s.accept_friend(off(bob), ann).await),
        Refusal::NotFound("friend request")
    );

    s.remove_friend(off(bob), ann).await.unwrap();
    assert!(rows(s).await.is_empty());
    assert_eq!(
        refusal(s.remove_friend(off(bob), ann).await),
        Refusal::NotFound("friend")
    );

    // Removing also withdraws and declines requests.
    s.request_friend(off(ann), bob).await.unwrap();
    s.remove_friend(off(ann), bob).await.unwrap();
    assert!(rows(s).await.is_empty());
    s.request_friend(off(ann), bob).await.unwrap();
    s.remove_friend(off(bob), ann).await.unwrap();
    assert!(rows(s).await.is_empty());
    assert_eq!(total_gold(s).await, gold_before);
    let logged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM game_logs WHERE event_type LIKE 'friend_%'")
            .fetch_one(s.pool())
            .await
            .unwrap();
    assert_eq!(logged, 7);
}

#[tokio::test]
async fn asking_back_accepts() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = character(s, "Ann").await;
    let bob = character(s, "Bob").await;
    s.request_friend(off(ann), bob).await.unwrap();
    assert_eq!(
        s.request_friend(off(bob), ann).await.unwrap(),
        FriendStatus::Accepted
    );
    assert_eq!(
        rows(s).await,
        vec![row(ann, bob, "accepted"), row(bob, ann, "accepted")]
    );
}

#[tokio::test]
async fn a_block_ends_the_friendship_and_stays_secret() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = character(s, "Ann").await;
    let bob = character(s, "Bob").await;
    let cat = character(s, "Cat").await;
    s.request_friend(off(ann), bob).await.unwrap();
    s.accept_friend(off(bob), ann).await.unwrap();

    s.block(off(bob), ann).await.unwrap();
    assert_eq!(rows(s).await, vec![row(bob, ann, "blocked")]);
    assert!(statuses(s, ann).await.is_empty());
    assert_eq!(statuses(s, bob).await, vec![(ann, FriendStatus::Blocked)]);
    s.block(off(bob), ann).await.unwrap();
    assert_eq!(
        rows(s).await,
        vec![row(bob, ann, "blocked")],
        "twice is once"
    );

    // The blocked side hears a generic no that does not name the block.
    let r = refusal(s.request_friend(off(ann), bob).await);
    assert!(matches!(r, Refusal::NotAllowed(_)));
    assert!(!r.to_string().contains("block"), "{r}");
    assert_eq!(rows(s).await, vec![row(bob, ann, "blocked")]);
    assert!(matches!(
        refusal(s.request_friend(off(bob), ann).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(
        refusal(s.remove_friend(off(bob), ann).await),
        Refusal::NotFound("friend"),
        "a block is lifted by unblock only"
    );
    assert_eq!(
        refusal(s.unblock(off(ann), bob).await),
        Refusal::NotFound("block")
    );

    // Blocking back keeps both blocks; unblocking lifts only one's own.
    s.block(off(ann), bob).await.unwrap();
    assert_eq!(
        rows(s).await,
        vec![row(ann, bob, "blocked"), row(bob, ann, "blocked")]
    );
    s.unblock(off(bob), ann).await.unwrap();
    assert_eq!(rows(s).await, vec![row(ann, bob, "blocked")]);
    s.unblock(off(ann), bob).await.unwrap();
    assert!(rows(s).await.is_empty());
    s.request_friend(off(ann), bob).await.unwrap();

    // A block cancels a pending request of either direction.
    s.request_friend(off(cat), ann).await.unwrap();
    s.block(off(ann), cat).await.unwrap();
    assert_eq!(statuses(s, cat).await, vec![]);
    assert_eq!(
        statuses(s, ann).await,
        vec![(bob, FriendStatus::Requested), (cat, FriendStatus::Blocked)]
    );
}

#[tokio::test]
async fn friend_lists_and_block_lists_are_bounded() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = character(s, "Ann").await;
    let bob = character(s, "Bob").await;
    fill_list(s, ann, "pal", FRIENDS_MAX, "accepted").await;
    let before = rows(s).await.len();
    assert_eq!(
        refusal(s.request_friend(off(ann), bob).await),
        Refusal::LimitReached("friends")
    );
    assert_eq!(
        refusal(s.request_friend(off(bob), ann).await),
        Refusal::LimitReached("friends"),
        "the other side's list is full"
    );
    assert_eq!(rows(s).await.len(), before, "nothing written");
    // Blocks do not count as friends.
    s.block(off(bob), ann).await.unwrap();
    s.unblock(off(bob), ann).await.unwrap();

    let cat = character(s, "Cat").await;
    fill_list(s, cat, "foe", BLOCKED_MAX, "blocked").await;
    assert_eq!(
        refusal(s.block(off(cat), bob).await),
        Refusal::LimitReached("blocked characters")
    );
    assert_eq!(s.friends_of(cat).await.unwrap().len() as i64, BLOCKED_MAX);
    s.request_friend(off(cat), bob).await.unwrap();
}

#[tokio::test]
async fn friend_actions_are_fenced_by_the_claim() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = character(s, "Ann").await;
    let bob = character(s, "Bob").await;
    let fence = s
        .claim(ann, "zone-a", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        s.request_friend(Actor::Zone(fence), bob).await.unwrap(),
        FriendStatus::Requested
    );
    assert_eq!(
        refusal(s.remove_friend(off(ann), bob).await),
        Refusal::ClaimHeld
    );
    sqlx::query("UPDATE characters SET claim_epoch = claim_epoch + 1 WHERE id = $1")
        .bind(ann.0)
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(
        refusal(s.remove_friend(Actor::Zone(fence), bob).await),
        Refusal::StaleClaim
    );
    assert_eq!(
        refusal(s.block(Actor::Zone(fence), bob).await),
        Refusal::StaleClaim
    );
    assert_eq!(
        rows(s).await,
        vec![row(ann, bob, "requested"), row(bob, ann, "pending")]
    );
    // The other side is not held by a zone and acts offline.
    s.accept_friend(off(bob), ann).await.unwrap();
}
