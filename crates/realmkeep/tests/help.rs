//! `--help` never shows a secret from the environment: the values of `DATABASE_URL`,
//! `REDIS_URL` and `REALMKEEP_SESSION_SECRET` are hidden on every command that reads them.

use std::process::Command;

const SECRET: &str = "hunter2-do-not-print";

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(args)
        .arg("--help")
        .env(
            "DATABASE_URL",
            format!("postgres://rk:{SECRET}@db:5432/realmkeep"),
        )
        .env(
            "REDIS_URL",
            format!("redis://realmkeep:{SECRET}@cache:6379/"),
        )
        .env("REALMKEEP_SESSION_SECRET", SECRET)
        .output()
        .expect("realmkeep runs");
    assert!(out.status.success(), "{args:?} --help fails");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn help_hides_the_values_of_secret_environment_variables() {
    let commands: &[&[&str]] = &[
        &["migrate"],
        &["seed"],
        &["serve"],
        &["logs", "archive"],
        &["admin", "show"],
        &["admin", "ban"],
        &["admin", "kick"],
        &["backup", "setup"],
        &["backup", "dump"],
        &["backup", "restore-point"],
        &["restore"],
        &["maintain"],
    ];
    for args in commands {
        let text = help(args);
        assert!(
            !text.contains(SECRET),
            "{args:?} --help shows a secret:\n{text}"
        );
        assert!(text.contains("DATABASE_URL"), "{args:?}: {text}");
    }
    for args in [
        &["serve"][..],
        &["admin", "ban"],
        &["admin", "kick"],
        &["maintain"],
    ] {
        assert!(help(args).contains("REDIS_URL"), "{args:?}");
    }
    let text = help(&["backup", "redis"]);
    assert!(
        text.contains("REDIS_URL") && !text.contains(SECRET),
        "{text}"
    );
}
