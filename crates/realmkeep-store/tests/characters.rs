//! Accounts, characters, loading, claims and saves against the real private PostgreSQL.

mod support;

use realmkeep_domain::*;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::Refusal;
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn account_login_and_password_hashing() {
    let db = fresh_db().await;
    let s = &db.store;
    let pw = Password::parse("correct horse").unwrap();
    let acc = s
        .create_account(
            &AccountName::parse("alice").unwrap(),
            "alice@example.test",
            &pw,
        )
        .await
        .unwrap();
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1")
        .bind(acc.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$"),
        "only an Argon2id hash is stored"
    );
    assert!(!stored.contains("correct horse"));
    assert_eq!(s.login("ALICE", &pw, None).await.unwrap().account, acc);
    assert_eq!(
        refusal(
            s.login("alice", &Password::parse("wrong horse").unwrap(), None)
                .await
        ),
        Refusal::BadCredentials
    );
    assert_eq!(
        refusal(s.login("nobody", &pw, None).await),
        Refusal::BadCredentials
    );
    assert_eq!(
        refusal(
            s.create_account(
                &AccountName::parse("Alice").unwrap(),
                "other@example.test",
                &pw
            )
            .await
        ),
        Refusal::NameTaken
    );
    assert!(matches!(
        refusal(
            s.create_account(&AccountName::parse("bob").unwrap(), "not-an-email", &pw)
                .await
        ),
        Refusal::Invalid(_)
    ));
}

#[tokio::test]
async fn a_new_character_has_its_kit_and_loads_in_one_call() {
    let db = fresh_db().await;
    let s = &db.store;
    let acc = account(s, "carol").await;
    let c = s
        .create_character(
            acc,
            &CharacterName::parse("Carol").unwrap(),
            Class::Mage,
            Kingdom::Veyra,
        )
        .await
        .unwrap();
    let loaded = s.load_character(c).await.unwrap();
    assert_eq!(loaded.name.as_str(), "Carol");
    assert_eq!(loaded.class, Class::Mage);
    assert_eq!(loaded.level, 1);
    assert_eq!(loaded.gold, rules::STARTING_GOLD);
    assert_eq!(loaded.equipment.len(), 2, "weapon and armor are equipped");
    assert_eq!(loaded.inventory.len(), 1, "potions are in the bag");
    assert_eq!(loaded.inventory[0].quantity, 5);
    assert_eq!(loaded.position.zone, ZoneId(1));
    assert_eq!((loaded.position.x, loaded.position.y), (256.0, 256.0));
    assert!(loaded.health > 0 && loaded.mana > 0);
    assert_eq!(s.list_characters(acc).await.unwrap().len(), 1);
    assert_eq!(
        refusal(
            s.create_character(
                acc,
                &CharacterName::parse("CAROL").unwrap(),
                Class::Mage,
                Kingdom::Veyra
            )
            .await
        ),
        Refusal::NameTaken,
        "names are unique without regard to case"
    );
    assert_items_placed(s).await;
}

#[tokio::test]
async fn claims_fence_saves_and_only_one_zone_wins() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Dave").await;
    let lease = Duration::from_secs(30);

    // Eight zones race for one character: exactly one wins.
    let mut tasks = Vec::new();
    for z in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.claim_and_load(c, &format!("zone-{z}"), lease).await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((fence, loaded)) => winners.push((fence, loaded)),
            Err(e) => assert_eq!(e.refusal(), Some(&Refusal::ClaimHeld)),
        }
    }
    assert_eq!(winners.len(), 1);
    let (fence, loaded) = winners.remove(0);
    assert_eq!(fence.epoch, loaded.claim_epoch);

    let mut snap = CharacterSnapshot {
        fence,
        position: Position {
            zone: ZoneId(1),
            x: 10.0,
            y: 20.0,
            z: 0.0,
            rotation: 1.5,
        },
        health: 42,
        mana: 7,
        xp: 55,
        level: 1,
    };
    let report = s.save_batch(&[snap]).await.unwrap();
    assert_eq!(report.saved, vec![c]);
    let l = s.load_character(c).await.unwrap();
    assert_eq!(
        (l.position.x, l.position.y, l.health, l.mana, l.xp),
        (10.0, 20.0, 42, 7, 55)
    );

    // Renewal keeps it; a release with a final save frees it.
    assert!(s.renew(&[fence], lease).await.unwrap().is_empty());
    snap.position.x = 11.0;
    s.release(&snap).await.unwrap();
    assert!(!s.claim_info(c).await.unwrap().live);
    assert_eq!(s.load_character(c).await.unwrap().position.x, 11.0);

    // After the release, the old fence is stale everywhere.
    assert_eq!(s.save_batch(&[snap]).await.unwrap().refused, vec![c]);
    assert_eq!(refusal(s.save_full(&snap).await), Refusal::StaleClaim);
    assert_eq!(s.renew(&[fence], lease).await.unwrap(), vec![c]);

    // A new claim bumps the epoch: the old zone's writes are refused, the new zone's go through.
    let (fence2, _) = s.claim_and_load(c, "zone-new", lease).await.unwrap();
    assert!(fence2.epoch > fence.epoch);
    snap.position.x = 99.0;
    assert_eq!(refusal(s.release(&snap).await), Refusal::StaleClaim);
    assert_eq!(
        s.load_character(c).await.unwrap().position.x,
        11.0,
        "a stale save changed nothing"
    );
    let snap2 = CharacterSnapshot {
        fence: fence2,
        ..snap
    };
    s.save_full(&snap2).await.unwrap();
    assert_eq!(s.load_character(c).await.unwrap().position.x, 99.0);
}

#[tokio::test]
async fn an_expired_lease_can_be_taken_over() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Erin").await;
    let old = s
        .claim(c, "zone-crashed", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        refusal(s.claim(c, "zone-b", Duration::from_secs(30)).await),
        Refusal::ClaimHeld
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let new = s.claim(c, "zone-b", Duration::from_secs(30)).await.unwrap();
    assert_eq!(new.epoch.0, old.epoch.0 + 1);
    assert_eq!(
        s.renew(&[old], Duration::from_secs(30)).await.unwrap(),
        vec![c]
    );
}

#[tokio::test]
async fn batch_save_reports_refused_rows_and_rejects_bad_input_whole() {
    let db = fresh_db().await;
    let s = &db.store;
    let mut snaps = Vec::new();
    for i in 0..20 {
        let c = character(s, &format!("Batch{i}")).await;
        let f = s.claim(c, "zone-a", Duration::from_secs(30)).await.unwrap();
        snaps.push(CharacterSnapshot {
            fence: f,
            position: Position {
                zone: ZoneId(1),
                x: i as f32,
                y: 1.0,
                z: 0.0,
                rotation: 0.0,
            },
            health: 10,
            mana: 10,
            xp: i,
            level: 1,
        });
    }
    // Steal two of them.
    for i in [3usize, 7] {
        sqlx::query("UPDATE characters SET claim_epoch = claim_epoch + 1 WHERE id = $1")
            .bind(snaps[i].fence.character.0)
            .execute(s.pool())
            .await
            .unwrap();
    }
    let report = s.save_batch(&snaps).await.unwrap();
    assert_eq!(report.saved.len(), 18);
    assert_eq!(
        report.refused,
        vec![snaps[3].fence.character, snaps[7].fence.character]
    );

    let mut bad = snaps.clone();
    bad[5].position.x = f32::NAN;
    bad[0].health = 1234;
    assert!(matches!(
        refusal(s.save_batch(&bad).await),
        Refusal::Invalid(_)
    ));
    assert_eq!(
        s.load_character(snaps[0].fence.character)
            .await
            .unwrap()
            .health,
        10,
        "nothing written"
    );
}

#[tokio::test]
async fn a_save_never_takes_back_progress_committed_meanwhile() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Quester").await;
    let fence = s.claim(c, "zone-1", Duration::from_secs(30)).await.unwrap();
    let old = CharacterSnapshot {
        fence,
        position: Position {
            zone: ZoneId(1),
            x: 5.0,
            y: 5.0,
            z: 0.0,
            rotation: 0.0,
        },
        health: 30,
        mana: 10,
        xp: 10,
        level: 1,
    };
    // A quest reward commits experience and a level after the zone took its snapshot.
    let reward_xp = rules::xp_to_reach(3);
    sqlx::query("UPDATE characters SET xp = $2, level = 3 WHERE id = $1")
        .bind(c.0)
        .bind(reward_xp)
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(s.save_batch(&[old]).await.unwrap().saved, vec![c]);
    let l = s.load_character(c).await.unwrap();
    assert_eq!(
        (l.xp, l.level, l.health, l.position.x),
        (reward_xp, 3, 30, 5.0)
    );
    s.release(&old).await.unwrap();
    let l = s.load_character(c).await.unwrap();
    assert_eq!(
        (l.xp, l.level),
        (reward_xp, 3),
        "the final save keeps it too"
    );
    assert_eq!(
        l.attributes,
        rules::base_attributes(Class::Warrior, 3),
        "attributes follow the level"
    );
}
