//! The guild wars every zone of the node fights by. Read from Redis (`GuildWars::in_force`, the
//! `guild_wars` index of `guild_war:{guild1}:{guild2}`) off the tick, every
//! `WARS_REFRESH_INTERVAL` (a war also ends by its key's TTL, which nobody announces) and at once
//! when a war is declared or ended anywhere (`Cluster::wars_changed`: the gateway hears it on
//! `server_events`); then sent to each zone as `ZoneInput::Wars` on its bounded control lane.
//! While Redis is away the zones keep the wars they know.

use crate::host::ZoneHost;
use crate::limits::WARS_REFRESH_INTERVAL;
use realmkeep_cache::Cache;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(
    cache: Cache,
    hosts: Vec<ZoneHost>,
    changed: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        match cache.guild_wars().in_force().await {
            Ok(wars) => {
                let pairs: Vec<_> = wars.iter().map(|w| (w.first(), w.second())).collect();
                for h in &hosts {
                    if let Err(e) = h.set_wars(pairs.clone()).await {
                        tracing::debug!(zone = %h.zone(), error = %e, "wars not sent: the next refresh will");
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "wars not read: zones keep the ones they know"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = changed.notified() => {}
            _ = tokio::time::sleep(WARS_REFRESH_INTERVAL) => {}
        }
    }
}
