//! The launcher's Redis lets nobody in without the password of its ACL user: an unauthenticated
//! connection is refused (NOAUTH), a wrong password too (WRONGPASS), and the URL the launcher
//! hands out works, for a plain client and for the cache, before and after a restart.

mod common;

use common::*;
use realmkeep_launcher::{RedisServer, REDIS_USER};

async fn ping(url: &str) -> Result<String, redis::RedisError> {
    let mut c = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    redis::cmd("PING").query_async(&mut c).await
}

async fn assert_refused(server: &RedisServer) {
    let port = server.port();
    let anonymous = ping(&format!("redis://127.0.0.1:{port}/"))
        .await
        .expect_err("an unauthenticated connection is refused");
    assert_eq!(anonymous.code(), Some("NOAUTH"), "{anonymous}");
    let wrong = ping(&format!("redis://{REDIS_USER}:not-it@127.0.0.1:{port}/"))
        .await
        .expect_err("a wrong password is refused");
    // The client reads the server's WRONGPASS as a failed authentication.
    assert_eq!(
        wrong.kind(),
        redis::ErrorKind::AuthenticationFailed,
        "{wrong}"
    );
    let default = ping(&format!("redis://:{}@127.0.0.1:{port}/", server.password()))
        .await
        .expect_err("the default user is off, whatever the password");
    assert_eq!(
        default.kind(),
        redis::ErrorKind::AuthenticationFailed,
        "{default}"
    );
}

#[tokio::test]
async fn only_the_urls_credentials_get_in_and_a_restart_keeps_them() {
    let mut server = redis();
    assert_refused(&server).await;
    assert_eq!(ping(&server.url()).await.unwrap(), "PONG");
    let cache = connect(&server, options("acl")).await;
    let issued = cache.sessions().issue(realmkeep_domain::AccountId(1)).await;
    assert_eq!(issued.served, realmkeep_cache::Served::Redis);

    server.kill();
    server.start_again().expect("Redis starts again");
    assert_refused(&server).await;
    assert_eq!(ping(&server.url()).await.unwrap(), "PONG");
    cache.close().await;
}
