//! Password hashing: Argon2id with explicit parameters (never below OWASP's 19 MiB, t = 2, p = 1),
//! a hash stored with other parameters rehashed at the next successful login, and a bound on the
//! hashes computed at once (512 logins at once would otherwise take gigabytes).

use realmkeep_domain::{AccountName, Password};
use realmkeep_store::accounts::{PasswordHashing, ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_T_COST};
use realmkeep_store::{Refusal, Store, StoreError, StoreOptions};
use realmkeep_testkit::fresh_db;

async fn stored_hash(s: &Store, name: &str) -> String {
    sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = $1")
        .bind(name)
        .fetch_one(s.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_rehashed_at_the_next_login() {
    let db = fresh_db().await;
    let s = &db.store;
    let pw = Password::parse("correct horse battery").unwrap();
    // An account from an older release: Argon2id with 8 MiB and one pass.
    let weak = {
        use argon2::password_hash::PasswordHasher;
        let params = argon2::Params::new(8 * 1024, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string()
    };
    let name = AccountName::parse("oldtimer").unwrap();
    s.create_account_with_hash(&name, "old@example.test", &weak)
        .await
        .unwrap();
    assert!(weak.contains("m=8192,t=1,p=1"), "{weak}");

    s.login("oldtimer", &pw, None).await.unwrap();
    let now = stored_hash(s, "oldtimer").await;
    let want = format!("$argon2id$v=19$m={ARGON2_M_COST_KIB},t={ARGON2_T_COST},p={ARGON2_P_COST}$");
    assert!(now.starts_with(&want), "rehashed: {now}");
    assert_ne!(now, weak);
    // The new hash answers the same password, and only it.
    s.login("oldtimer", &pw, None).await.unwrap();
    assert_eq!(stored_hash(s, "oldtimer").await, now, "hashed once");
    let wrong = Password::parse("wrong horse battery").unwrap();
    assert!(matches!(
        s.login("oldtimer", &wrong, None).await,
        Err(StoreError::Refused(Refusal::BadCredentials))
    ));
    // A failed login rehashes nothing.
    assert_eq!(stored_hash(s, "oldtimer").await, now);
}

#[tokio::test]
async fn hashes_in_flight_are_bounded_and_weak_settings_are_refused() {
    let db = fresh_db().await;
    let opts = StoreOptions {
        password_hashing: PasswordHashing {
            in_flight_max: 2,
            ..PasswordHashing::default()
        },
        ..StoreOptions::default()
    };
    let s = Store::connect(&db.url, &opts).await.unwrap();
    let pw = Password::parse("a long enough password").unwrap();
    s.create_account(
        &AccountName::parse("crowded").unwrap(),
        "crowd@example.test",
        &pw,
    )
    .await
    .unwrap();
    // Sixteen logins at once, half of them wrong: every one is answered, two hashes at a time.
    let wrong = Password::parse("not the password at all").unwrap();
    let logins = (0..16).map(|i| {
        let (s, pw) = (
            s.clone(),
            if i % 2 == 0 {
                pw.clone()
            } else {
                wrong.clone()
            },
        );
        tokio::spawn(async move { s.login("crowded", &pw, None).await })
    });
    let mut ok = 0;
    for l in logins {
        match l.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Refused(Refusal::BadCredentials)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 8);
    let peak = s.password_hashes_peak();
    assert!((1..=2).contains(&peak), "at most two at once: {peak}");

    // Below OWASP's floor, or no hash at a time: refused before anything connects.
    for weak in [
        PasswordHashing {
            m_cost_kib: 4 * 1024,
            ..PasswordHashing::default()
        },
        PasswordHashing {
            t_cost: 1,
            ..PasswordHashing::default()
        },
        PasswordHashing {
            in_flight_max: 0,
            ..PasswordHashing::default()
        },
    ] {
        let opts = StoreOptions {
            password_hashing: weak,
            ..StoreOptions::default()
        };
        assert!(matches!(
            Store::connect_lazy(&db.url, &opts),
            Err(StoreError::Refused(Refusal::Invalid(_)))
        ));
    }
}
