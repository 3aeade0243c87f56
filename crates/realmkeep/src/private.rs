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
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(admin.pool())
            .await?;
    if !exists {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(admin.pool())
            .await?;
    }
    admin.close().await;
    Ok(())
}
