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
fn redis_starts_with_the_shipped_config_and_restarts_after_kill() {
    let mut r = RedisServer::start(RedisOptions::default()).expect("redis starts");
    let cli = find_binary(Binary::RedisCli).unwrap();
    let port = r.port().to_string();
    let cmd = |args: &[&str]| {
        let out = std::process::Command::new(&cli)
            .args(["-p", port.as_str()])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(cmd(&["PING"]), "PONG");
    assert_eq!(cmd(&["CONFIG", "GET", "save"]), "save\n900 1");
    assert_eq!(
        cmd(&["CONFIG", "GET", "maxmemory-policy"]),
        "maxmemory-policy\nvolatile-lru"
    );
    r.kill();
    r.start_again().expect("redis starts again");
    assert_eq!(cmd(&["PING"]), "PONG");
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
