//! The launcher against the real binaries: start, answer, stop, start again.

use realmkeep_launcher::*;

#[test]
fn postgres_starts_stops_and_starts_again_with_its_data() {
    let mut pg = PostgresServer::start(PostgresOptions::for_tests()).expect("postgres starts");
    assert!(pg.is_running());
    let psql = find_binary(Binary::Psql).unwrap();
    let url = pg_url(&pg);
    let run = |sql: &str| {
        let out = std::process::Command::new(&psql)
            .args([url.as_str(), "-tAc", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    run("CREATE TABLE t (v int); INSERT INTO t VALUES (42)");
    pg.stop();
    assert!(!pg.is_running());
    pg.start_again().expect("postgres starts again");
    assert_eq!(run("SELECT v FROM t"), "42");
    let dir = pg.data_dir().to_path_buf();
    drop(pg);
    assert!(!dir.exists(), "the scratch directory is removed");
}

fn pg_url(pg: &PostgresServer) -> String {
    pg.url("postgres")
}

#[test]
fn redis_starts_with_the_shipped_config_and_its_acl_and_restarts_after_kill() {
    let mut r = RedisServer::start(RedisOptions::default()).expect("redis starts");
    let cli = find_binary(Binary::RedisCli).unwrap();
    let port = r.port().to_string();
    // redis-cli as `user` with `password` from the environment (never on its command line).
    let as_user = |user: Option<&str>, password: &str, args: &[&str]| {
        let mut c = std::process::Command::new(&cli);
        c.args(["-p", port.as_str()]);
        if let Some(u) = user {
            c.args(["--user", u]).env("REDISCLI_AUTH", password);
        }
        let out = c.args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        text.trim().to_string()
    };
    let password = r.password().to_string();
    let cmd = |args: &[&str]| as_user(Some(REDIS_USER), &password, args);
    assert_eq!(cmd(&["PING"]), "PONG");
    assert!(
        r.url()
            .starts_with(&format!("redis://{REDIS_USER}:{password}@127.0.0.1:")),
        "the URL carries the credentials"
    );
    let refused = |r: &RedisServer| {
        let anonymous = as_user(None, "", &["PING"]);
        assert!(anonymous.contains("NOAUTH"), "{anonymous}");
        let wrong = as_user(Some(REDIS_USER), "not-the-password", &["PING"]);
        assert!(wrong.contains("WRONGPASS"), "{wrong}");
        let default = as_user(Some("default"), "", &["PING"]);
        assert!(default.contains("WRONGPASS"), "{default}");
        let conf = std::fs::read_to_string(r.dir().join("redis.conf")).unwrap();
        assert!(!conf.contains(r.password()), "the password is not on disk");
    };
    refused(&r);
    assert_eq!(cmd(&["CONFIG", "GET", "save"]), "save\n900 1");
    assert_eq!(
        cmd(&["CONFIG", "GET", "maxmemory-policy"]),
        "maxmemory-policy\nvolatile-lru"
    );
    r.kill();
    r.start_again().expect("redis starts again");
    assert_eq!(cmd(&["PING"]), "PONG", "the same user and password");
    refused(&r);
}

#[test]
fn a_missing_binary_names_its_package() {
    let err = LaunchError::MissingBinary {
        binary: "redis-server",
        package: "redis-server",
        searched: "PATH".into(),
    };
    assert!(err.to_string().contains("apt-get install -y redis-server"));
}
