//! A ban bites at the claim: the claiming statement refuses a character whose account has a ban
//! in force (`Refusal::Banned`, no claim taken, nothing changed), and only such a ban.

mod support;

use realmkeep_domain::{AccountId, CharacterId};
use realmkeep_store::bans::BanTarget;
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);

async fn account_of(store: &Store, c: CharacterId) -> AccountId {
    AccountId(
        sqlx::query_scalar("SELECT account_id FROM characters WHERE id = $1")
            .bind(c.0)
            .fetch_one(store.pool())
            .await
            .unwrap(),
    )
}

/// The claim columns of a character, to show a refusal changed nothing.
async fn claim_row(store: &Store, c: CharacterId) -> (Option<String>, i64) {
    sqlx::query_as("SELECT claim_holder, claim_epoch FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_banned_accounts_character_cannot_be_claimed_and_nothing_changes() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = support::character(&store, "Outlaw").await;
    let account = account_of(&store, c).await;
    store
        .ban(BanTarget::Account(account), "botting", "gm", None)
        .await
        .unwrap();
    let before = claim_row(&store, c).await;

    let refused = store.claim_and_load(c, "zone-1/n/p", LEASE).await;
    assert_eq!(support::refusal(refused), Refusal::Banned);
    assert_eq!(
        support::refusal(store.claim(c, "zone-1/n/p", LEASE).await),
        Refusal::Banned
    );
    assert_eq!(claim_row(&store, c).await, before, "no claim was taken");
    assert!(store
        .claimed_characters_of_account(account)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_unbanned_account_can_be_claimed_again() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = support::character(&store, "Pardoned").await;
    let account = account_of(&store, c).await;
    store
        .ban(BanTarget::Account(account), "a mistake", "gm", None)
        .await
        .unwrap();
    assert_eq!(
        support::refusal(store.claim_and_load(c, "zone-1/n/p", LEASE).await),
        Refusal::Banned
    );
    store
        .unban(BanTarget::Account(account), "gm", "appeal granted")
        .await
        .unwrap();
    let (fence, loaded) = store.claim_and_load(c, "zone-1/n/p", LEASE).await.unwrap();
    assert_eq!(fence.character, c);
    assert_eq!(loaded.id, c);
    assert_eq!(
        store.claimed_characters_of_account(account).await.unwrap(),
        vec![c]
    );
}

#[tokio::test]
async fn an_expired_ban_does_not_block_and_other_accounts_are_not_touched() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = support::character(&store, "Served").await;
    let bystander = support::character(&store, "Bystander").await;
    let account = account_of(&store, c).await;
    store
        .ban(
            BanTarget::Account(account),
            "a week off",
            "gm",
            Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        )
        .await
        .unwrap();
    assert_eq!(
        support::refusal(store.claim_and_load(c, "zone-1/n/p", LEASE).await),
        Refusal::Banned
    );
    store
        .claim_and_load(bystander, "zone-1/n/p", LEASE)
        .await
        .expect("another account's character is not banned");
    // The week passes.
    sqlx::query(
        "UPDATE bans SET created_at = now() - interval '8 days',
                         expires_at = now() - interval '1 day' WHERE account_id = $1",
    )
    .bind(account.0)
    .execute(store.pool())
    .await
    .unwrap();
    store
        .claim_and_load(c, "zone-1/n/p", LEASE)
        .await
        .expect("an expired ban does not block the claim");
}

#[tokio::test]
async fn a_ban_refuses_before_a_held_claim_is_reported() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = support::character(&store, "Caught").await;
    let account = account_of(&store, c).await;
    store.claim_and_load(c, "zone-1/n/p", LEASE).await.unwrap();
    store
        .ban(BanTarget::Account(account), "caught in the act", "gm", None)
        .await
        .unwrap();
    assert_eq!(
        store.claimed_characters_of_account(account).await.unwrap(),
        vec![c],
        "the ban does not end a claim by itself: the kick does"
    );
    assert_eq!(
        support::refusal(store.claim_and_load(c, "zone-2/n/p", LEASE).await),
        Refusal::Banned
    );
}
