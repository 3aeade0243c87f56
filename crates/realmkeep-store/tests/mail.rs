//! Mail against the real private PostgreSQL: sending gold and items, reading, claiming, deleting,
//! system mail and fencing; every refusal changes nothing. Expiry and races are in `mail_jobs.rs`.

mod support;

use realmkeep_domain::limits::{
    GOLD_MAX, MAILBOX_MAILS_MAX, MAIL_ATTACHMENTS_MAX, MAIL_BODY_CHARS_MAX, MAIL_SUBJECT_CHARS_MAX,
};
use realmkeep_domain::*;
use realmkeep_store::mail::MailKind;
use realmkeep_store::Refusal;
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

fn gold(v: i64) -> Gold {
    Gold::new(v).unwrap()
}

#[tokio::test]
async fn send_read_claim_delete() {
    let db = fresh_db().await;
    let s = &db.store;
    let alice = character(s, "Alice").await;
    let bob = character(s, "Bobby").await;
    let sword = grant_bag_item(s, alice, 5, 1).await;
    let silk = grant_bag_item(s, alice, 202, 12).await;
    let gold_before = total_gold(s).await;
    let totals = item_totals(s).await;

    let m = s
        .send_mail(
            off(alice),
            bob,
            "Gifts",
            "For you.\nEnjoy!",
            gold(40),
            &[sword, silk],
        )
        .await
        .unwrap();
    assert_eq!(support::gold(s, alice).await, 60);
    let alice_bag: Vec<i64> = bag_items(s, alice).await.iter().map(|r| r.0).collect();
    assert!(!alice_bag.contains(&sword.0) && !alice_bag.contains(&silk.0));
    assert_eq!(total_gold(s).await, gold_before, "the mail holds the gold");
    assert_items_placed(s).await;
    assert_eq!(log_count(s, "mail_send").await, 1);
    assert_eq!(log_count(s, "mail_send_item").await, 2);

    let inbox = s.list_mail(bob).await.unwrap();
    assert_eq!(inbox.len(), 1);
    let line = &inbox[0];
    assert_eq!(line.id, m);
    assert_eq!(line.kind, MailKind::Player);
    assert_eq!(
        (line.sender, line.sender_name.as_deref()),
        (Some(alice), Some("Alice"))
    );
    assert_eq!(
        (line.gold, line.items, line.read, line.claimed),
        (40, 2, false, false)
    );
    assert!(s.list_mail(alice).await.unwrap().is_empty());

    let view = s.read_mail(off(bob), m).await.unwrap();
    assert_eq!(view.subject, "Gifts");
    assert_eq!(view.body, "For you.\nEnjoy!");
    assert_eq!(view.recipient, bob);
    assert!(view.read_at.is_some() && view.claimed_at.is_none());
    let att: Vec<(i64, i32, i32, i16)> = view
        .attachments
        .iter()
        .map(|a| (a.item_id, a.item_def_id, a.quantity, a.position))
        .collect();
    assert_eq!(att, vec![(sword.0, 5, 1, 0), (silk.0, 202, 12, 1)]);
    assert_eq!(view.attachments[1].item_name, "Spider Silk");
    let days = (view.expires_at - view.sent_at).num_days();
    assert_eq!(days, limits::MAIL_EXPIRY_DAYS);
    assert!(s.list_mail(bob).await.unwrap()[0].read);

    // Only the recipient may read, claim or delete.
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.read_mail(off(alice), m).await),
        Refusal::NotFound("mail")
    );
    assert_eq!(
        refusal(s.claim_attachments(off(alice), m).await),
        Refusal::NotFound("mail")
    );
    assert_eq!(
        refusal(s.delete_mail(off(alice), m).await),
        Refusal::NotFound("mail")
    );
    assert_eq!(
        refusal(s.delete_mail(off(bob), m).await),
        Refusal::NotAllowed("mail still has attachments")
    );
    assert_eq!(economy_snapshot(s).await, w);

    let got = s.claim_attachments(off(bob), m).await.unwrap();
    assert_eq!(got.gold, gold(40));
    assert_eq!(got.items, vec![sword, silk]);
    assert_eq!(support::gold(s, bob).await, 140);
    let bob_bag: Vec<i64> = bag_items(s, bob).await.iter().map(|r| r.0).collect();
    assert!(bob_bag.contains(&sword.0) && bob_bag.contains(&silk.0));
    assert_eq!(total_gold(s).await, gold_before);
    assert_eq!(item_totals(s).await, totals);
    assert_items_placed(s).await;
    assert_eq!(log_count(s, "mail_claim").await, 1);
    assert_eq!(log_count(s, "mail_claim_item").await, 2);

    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.claim_attachments(off(bob), m).await),
        Refusal::NotFound("attachments"),
        "a second claim gets nothing"
    );
    assert_eq!(economy_snapshot(s).await, w);
    let line = &s.list_mail(bob).await.unwrap()[0];
    assert_eq!((line.gold, line.items, line.claimed), (0, 0, true));

    s.delete_mail(off(bob), m).await.unwrap();
    assert!(s.list_mail(bob).await.unwrap().is_empty());
    assert_eq!(log_count(s, "mail_delete").await, 1);
    assert_eq!(
        refusal(s.read_mail(off(bob), m).await),
        Refusal::NotFound("mail")
    );

    // A plain letter carries nothing to claim and can be deleted at once.
    let letter = s
        .send_mail(off(alice), bob, "Hi", "", Gold::ZERO, &[])
        .await
        .unwrap();
    assert_eq!(
        refusal(s.claim_attachments(off(bob), letter).await),
        Refusal::NotFound("attachments")
    );
    s.delete_mail(off(bob), letter).await.unwrap();
    assert_eq!(total_gold(s).await, gold_before);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn send_refusals_change_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    let alice = character(s, "Alice").await;
    let bob = character(s, "Bobby").await;
    let mut mine = Vec::new();
    for _ in 0..=MAIL_ATTACHMENTS_MAX {
        mine.push(grant_bag_item(s, alice, 200, 1).await);
    }
    let bobs = grant_bag_item(s, bob, 201, 1).await;
    let equipped: i64 =
        sqlx::query_scalar("SELECT item_id FROM equipment WHERE character_id = $1 LIMIT 1")
            .bind(alice.0)
            .fetch_one(s.pool())
            .await
            .unwrap();
    let w = economy_snapshot(s).await;
    let send = |to: CharacterId, subject: String, body: String, g: i64, items: Vec<ItemId>| {
        let s = s.clone();
        async move {
            s.send_mail(off(alice), to, &subject, &body, gold(g), &items)
                .await
        }
    };
    let ok_subject = || "Hello".to_string();

    assert_eq!(
        refusal(send(alice, ok_subject(), String::new(), 0, vec![]).await),
        Refusal::NotAllowed("mailing yourself")
    );
    assert_eq!(
        refusal(send(CharacterId(999_999), ok_subject(), String::new(), 0, vec![]).await),
        Refusal::NotFound("character")
    );
    let invalid = [
        (String::new(), String::new(), vec![]),
        ("   ".to_string(), String::new(), vec![]),
        (
            "x".repeat(MAIL_SUBJECT_CHARS_MAX + 1),
            String::new(),
            vec![],
        ),
        (ok_subject(), "y".repeat(MAIL_BODY_CHARS_MAX + 1), vec![]),
        ("bell\u{7}".to_string(), String::new(), vec![]),
        (ok_subject(), "nul\0".to_string(), vec![]),
        (ok_subject(), String::new(), mine.clone()),
        (ok_subject(), String::new(), vec![mine[0], mine[0]]),
    ];
    for (subject, body, items) in invalid {
        assert!(matches!(
            refusal(send(bob, subject, body, 0, items).await),
            Refusal::Invalid(_)
        ));
    }
    assert_eq!(
        refusal(send(bob, ok_subject(), String::new(), 101, vec![]).await),
        Refusal::NotEnoughGold
    );
    assert_eq!(
        refusal(send(bob, ok_subject(), String::new(), 10, vec![mine[0], bobs]).await),
        Refusal::ItemNotOwned,
        "one bad item refuses the whole mail"
    );
    assert_eq!(
        refusal(send(bob, ok_subject(), String::new(), 0, vec![ItemId(equipped)]).await),
        Refusal::ItemNotOwned
    );
    assert_eq!(economy_snapshot(s).await, w);

    // A full mailbox refuses player mail.
    sqlx::query(
        "INSERT INTO mail (recipient_character_id, kind, subject, expires_at)
         SELECT $1, 'system', 'filler', now() + interval '1 day' FROM generate_series(1, $2)",
    )
    .bind(bob.0)
    .bind(MAILBOX_MAILS_MAX as i32)
    .execute(s.pool())
    .await
    .unwrap();
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(send(bob, ok_subject(), String::new(), 5, vec![mine[0]]).await),
        Refusal::MailboxFull
    );
    assert_eq!(economy_snapshot(s).await, w);
    // The subject limit counts characters, not bytes.
    let accents = "é".repeat(MAIL_SUBJECT_CHARS_MAX);
    let other = character(s, "Carla").await;
    send(other, accents, String::new(), 0, vec![])
        .await
        .unwrap();
    assert_items_placed(s).await;
}

#[tokio::test]
async fn claim_refusals_change_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    let alice = character(s, "Alice").await;
    let bob = character(s, "Bobby").await;
    let ore = grant_bag_item(s, alice, 203, 40).await;
    let m = s
        .send_mail(off(alice), bob, "Ore", "", gold(50), &[ore])
        .await
        .unwrap();

    fill_bag(s, bob).await;
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.claim_attachments(off(bob), m).await),
        Refusal::InventoryFull,
        "all or nothing: not even the gold moves"
    );
    assert_eq!(economy_snapshot(s).await, w);

    let filler = bag_items(s, bob).await.last().unwrap().0;
    sqlx::query("WITH d AS (DELETE FROM inventories WHERE item_id = $1) DELETE FROM item_instances WHERE id = $1")
        .bind(filler)
        .execute(s.pool())
        .await
        .unwrap();
    set_gold(s, bob, GOLD_MAX - 10).await;
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.claim_attachments(off(bob), m).await),
        Refusal::TooMuchGold
    );
    assert_eq!(economy_snapshot(s).await, w);

    set_gold(s, bob, 0).await;
    let got = s.claim_attachments(off(bob), m).await.unwrap();
    assert_eq!((got.gold, got.items), (gold(50), vec![ore]));
    assert_eq!(
        refusal(s.claim_attachments(off(bob), MailId(777_777)).await),
        Refusal::NotFound("mail")
    );
    assert_items_placed(s).await;
}

#[tokio::test]
async fn system_mail_creates_what_it_carries() {
    let db = fresh_db().await;
    let s = &db.store;
    let bob = character(s, "Bobby").await;
    let gold_before = total_gold(s).await;
    let w = economy_snapshot(s).await;
    let bad = [
        (
            vec![(ItemDefId(9_999), 1)],
            MailKind::System,
            "unknown definition",
        ),
        (
            vec![(ItemDefId(100), 21)],
            MailKind::System,
            "over the stack",
        ),
        (vec![(ItemDefId(100), 0)], MailKind::System, "empty stack"),
        (vec![(ItemDefId(100), 1)], MailKind::Player, "player kind"),
        (
            vec![(ItemDefId(100), 1); MAIL_ATTACHMENTS_MAX + 1],
            MailKind::System,
            "too many",
        ),
    ];
    for (items, kind, why) in bad {
        let e = s
            .send_system_mail(bob, "Reward", "", gold(10), &items, kind)
            .await
            .expect_err(why);
        assert!(
            matches!(
                e.refusal(),
                Some(Refusal::Invalid(_)) | Some(Refusal::NotFound("item definition"))
            ),
            "{why}: {e}"
        );
    }
    assert_eq!(
        refusal(
            s.send_system_mail(
                CharacterId(999_999),
                "Reward",
                "",
                gold(1),
                &[],
                MailKind::System
            )
            .await
        ),
        Refusal::NotFound("character")
    );
    assert_eq!(economy_snapshot(s).await, w);

    let m = s
        .send_system_mail(
            bob,
            "Quest reward",
            "Well done.",
            gold(250),
            &[(ItemDefId(100), 20), (ItemDefId(6), 1)],
            MailKind::System,
        )
        .await
        .unwrap();
    assert_eq!(
        total_gold(s).await,
        gold_before + 250,
        "system mail mints gold"
    );
    assert_items_placed(s).await;
    let view = s.read_mail(off(bob), m).await.unwrap();
    assert_eq!(
        (view.kind, view.sender, view.gold),
        (MailKind::System, None, 250)
    );
    let defs: Vec<(i32, i32)> = view
        .attachments
        .iter()
        .map(|a| (a.item_def_id, a.quantity))
        .collect();
    assert_eq!(defs, vec![(100, 20), (6, 1)]);
    let got = s.claim_attachments(off(bob), m).await.unwrap();
    assert_eq!(got.items.len(), 2);
    assert_eq!(support::gold(s, bob).await, 350);
    assert_eq!(log_count(s, "mail_system_send").await, 1);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn mail_actions_are_fenced() {
    let db = fresh_db().await;
    let s = &db.store;
    let alice = character(s, "Alice").await;
    let bob = character(s, "Bobby").await;
    let m = s
        .send_mail(off(alice), bob, "Coins", "", gold(20), &[])
        .await
        .unwrap();
    let afence = s
        .claim(alice, "zone-1/a", Duration::from_secs(60))
        .await
        .unwrap();
    let bfence = s
        .claim(bob, "zone-2/b", Duration::from_secs(60))
        .await
        .unwrap();
    let stale = |f: Fence| {
        Actor::Zone(Fence {
            character: f.character,
            epoch: ClaimEpoch(f.epoch.0 - 1),
        })
    };
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(
            s.send_mail(stale(afence), bob, "Hi", "", gold(1), &[])
                .await
        ),
        Refusal::StaleClaim
    );
    assert_eq!(
        refusal(s.send_mail(off(alice), bob, "Hi", "", gold(1), &[]).await),
        Refusal::ClaimHeld
    );
    assert_eq!(
        refusal(s.claim_attachments(stale(bfence), m).await),
        Refusal::StaleClaim
    );
    assert_eq!(
        refusal(s.claim_attachments(off(bob), m).await),
        Refusal::ClaimHeld
    );
    assert_eq!(refusal(s.read_mail(off(bob), m).await), Refusal::ClaimHeld);
    assert_eq!(
        refusal(s.delete_mail(stale(bfence), m).await),
        Refusal::StaleClaim
    );
    assert_eq!(economy_snapshot(s).await, w);

    // Sending to a character that is online needs no fence of theirs.
    s.send_mail(Actor::Zone(afence), bob, "Hi", "", gold(1), &[])
        .await
        .unwrap();
    let got = s.claim_attachments(Actor::Zone(bfence), m).await.unwrap();
    assert_eq!(got.gold, gold(20));
    assert_items_placed(s).await;
}
