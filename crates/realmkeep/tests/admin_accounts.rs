//! Operators on the command line, as one runs them: the first administrator made by
//! `realmkeep admin account create` with its password on stdin (never in argv, never printed);
//! `--operator` names an admin account that must exist, whose role must allow the action, and
//! the action's log row names it.

use realmkeep_domain::{AdminRole, Password};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "first administrator's secret";

fn realmkeep(db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env_remove("REALMKEEP_OPERATOR")
        .env_remove("REALMKEEP_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("realmkeep runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_administrator_is_made_on_the_command_line_and_operators_must_exist() {
    let db = realmkeep_testkit::fresh_db().await;
    let s = &db.store;
    let out = realmkeep(
        &db.url,
        &[
            "admin",
            "account",
            "create",
            "--name",
            "chief",
            "--role",
            "administrator",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD));
    let chief = s
        .admin_login("chief", &Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    assert_eq!(chief.role(), AdminRole::Administrator);
    let out = realmkeep(
        &db.url,
        &[
            "admin",
            "account",
            "create",
            "--name",
            "nopass",
            "--role",
            "moderator",
        ],
        Some(""),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no password"), "{}", text(&out));

    let c = realmkeep_testkit::character(s, "Wallet").await;
    let gold = s.load_character(c).await.unwrap().gold;
    realmkeep_testkit::operator(s, "mod-dora", AdminRole::Moderator).await;
    let gold_by = |op: &'static str| {
        let url = db.url.clone();
        async move {
            realmkeep(
                &url,
                &[
                    "admin",
                    "gold",
                    "Wallet",
                    "25",
                    "--operator",
                    op,
                    "--reason",
                    "refund",
                ],
                None,
            )
        }
    };
    let out = gold_by("ghost").await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("admin account not found"),
        "{}",
        text(&out)
    );
    let out = gold_by("mod-dora").await;
    assert!(!out.status.success());
    assert!(text(&out).contains("game_master role"), "{}", text(&out));
    assert_eq!(
        s.load_character(c).await.unwrap().gold,
        gold,
        "nothing changed"
    );
    let out = gold_by("chief").await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(s.load_character(c).await.unwrap().gold, gold + 25);
    let row = s.logs_of_character(c.0, 1).await.unwrap().remove(0);
    assert_eq!(row.details["operator"], "chief");
    assert_eq!(row.details["operator_id"], chief.id().0);
    assert_eq!(row.details["reason"], "refund");
}
