//! Private PostgreSQL and Redis servers for the demo and the benchmarks, started through the
//! launcher on blocking threads so the async runtime keeps running while they boot.

use anyhow::{Context, Result};
use realmkeep_launcher::{PostgresOptions, PostgresServer, RedisOptions, RedisServer};

pub async fn postgres(opts: PostgresOptions) -> Result<PostgresServer> {
    tokio::task::spawn_blocking(move || PostgresServer::start(opts))
        .await
        .context("the PostgreSQL start task")?
        .context("starting a private PostgreSQL")
}

pub async fn redis(opts: RedisOptions) -> Result<RedisServer> {
    tokio::task::spawn_blocking(move || RedisServer::start(opts))
        .await
        .context("the Redis start task")?
        .context("starting a private Redis")
}

/// Creates `name` on the server if it does not exist.
pub async fn create_database(pg: &PostgresServer, name: &str) -> Result<()> {
    let admin = realmkeep_store::Store::connect(&pg.url("postgres"), &Default::default()).await?;
    admin.create_database_if_missing(name).await?;
    admin.close().await;
    Ok(())
}
