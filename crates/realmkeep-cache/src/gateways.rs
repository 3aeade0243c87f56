//! Where each zone is served: `zone:{id}:gateway`, the public WebSocket URL of the gateway
//! whose node runs the zone, written by that gateway and refreshed before it expires. A player
//! who walks into (or logs into) a zone of another node is sent there with a ticket. Redis down:
//! no address is known, and the player is told to try again (nothing is lost: the character is
//! saved where it was going).

use crate::core::Core;
use crate::error::CacheError;
use crate::keys;
use realmkeep_domain::ZoneId;

/// Longest URL kept (a longer one is refused when announced).
pub const GATEWAY_URL_CHARS_MAX: usize = 256;

/// Zone gateways. Get it from [`crate::Cache::gateways`].
#[derive(Debug, Clone, Copy)]
pub struct Gateways<'a> {
    core: &'a Core,
}

impl<'a> Gateways<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }

    /// Says (again) that `url` serves `zones`, for [`keys::ZONE_GATEWAY_TTL`].
    pub async fn announce(&self, zones: &[ZoneId], url: &str) -> Result<(), CacheError> {
        if url.is_empty() || url.len() > GATEWAY_URL_CHARS_MAX {
            return Err(CacheError::Invalid {
                what: "gateway url",
                detail: format!("1 to {GATEWAY_URL_CHARS_MAX} characters"),
            });
        }
        let mut pipe = redis::pipe();
        for z in zones {
            pipe.cmd("SET")
                .arg(keys::zone_gateway(*z))
                .arg(url)
                .arg("EX")
                .arg(keys::ZONE_GATEWAY_TTL.as_secs())
                .ignore();
        }
        self.core.query_pipe::<()>(&pipe).await
    }

    /// The gateway serving `zone`, if one said so recently.
    pub async fn lookup(&self, zone: ZoneId) -> Result<Option<String>, CacheError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(keys::zone_gateway(zone));
        self.core.query(&cmd).await
    }
}
