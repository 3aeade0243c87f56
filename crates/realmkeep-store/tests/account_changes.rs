//! What the gateway asks of accounts and characters besides login: a password change (the old
//! one checked) and a character's deletion (kept and marked; refused while claimed; never
//! claimed again; not counted; not another account's).

mod support;

use realmkeep_domain::*;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::Refusal;
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_password_changes_only_with_the_old_one() {
    let db = fresh_db().await;
    let s = &db.store;
    let old = Password::parse("correct horse battery").unwrap();
    let new = Password::parse("brand new secret words").unwrap();
    let acc = s
        .create_account(
            &AccountName::parse("alice").unwrap(),
            "a@example.test",
            &old,
        )
        .await
        .unwrap();
    let wrong = s.change_password(acc, &new, &new).await.unwrap_err();
    assert_eq!(wrong.refusal(), Some(&Refusal::BadCredentials));
    assert!(
        s.login("alice", &old, None).await.is_ok(),
        "unchanged after a refusal"
    );
    s.change_password(acc, &old, &new).await.unwrap();
    let e = s.login("alice", &old, None).await.unwrap_err();
    assert_eq!(e.refusal(), Some(&Refusal::BadCredentials));
    assert_eq!(s.login("alice", &new, None).await.unwrap().account, acc);
    assert_eq!(s.account_name(acc).await.unwrap(), "alice");
    let taken = s
        .create_account(
            &AccountName::parse("bobby").unwrap(),
            "A@example.test",
            &old,
        )
        .await
        .unwrap_err();
    assert!(matches!(taken.refusal(), Some(Refusal::Invalid(m)) if m.contains("email")));
}

#[tokio::test]
async fn a_deleted_character_is_kept_but_never_listed_claimed_or_counted() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = realmkeep_testkit::character(s, "Doomed").await;
    let account = s.account_id_by_name("acc_Doomed").await.unwrap().unwrap();
    let other = realmkeep_testkit::account(s, "someone").await;
    let items_before = row_count(s, "item_instances").await;

    // Not while a zone holds it; not by another account.
    let (fence, loaded) = s.claim_and_load(c, "zone-1/test/1", LEASE).await.unwrap();
    let held = s.delete_character(account, c).await.unwrap_err();
    assert_eq!(held.refusal(), Some(&Refusal::ClaimHeld));
    let snap = CharacterSnapshot {
        fence,
        position: loaded.position,
        health: loaded.health,
        mana: loaded.mana,
        xp: loaded.xp,
        level: loaded.level,
    };
    s.release(&snap).await.unwrap();
    let theirs = s.delete_character(other, c).await.unwrap_err();
    assert_eq!(theirs.refusal(), Some(&Refusal::NotFound("character")));

    s.delete_character(account, c).await.unwrap();
    assert!(s.list_characters(account).await.unwrap().is_empty());
    let again = s.delete_character(account, c).await.unwrap_err();
    assert_eq!(again.refusal(), Some(&Refusal::NotFound("character")));
    let claim = s
        .claim_and_load(c, "zone-1/test/2", LEASE)
        .await
        .unwrap_err();
    assert_eq!(claim.refusal(), Some(&Refusal::NotFound("character")));
    // Kept with everything it owned, and logged.
    assert_eq!(row_count(s, "item_instances").await, items_before);
    assert_eq!(log_count(s, "character_deleted").await, 1);
    // Its place in the account's limit is free again.
    for i in 0..realmkeep_domain::limits::CHARACTERS_PER_ACCOUNT_MAX {
        let name = CharacterName::parse(&format!("Fresh{i}")).unwrap();
        s.create_character(account, &name, Class::Mage, Kingdom::Aldor)
            .await
            .unwrap();
    }
}
