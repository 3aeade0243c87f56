//! Read-through caches of the definition tables: `cache:item_def:{id}` and
//! `cache:skill_def:{id}`, one hour. A miss (or a value that does not parse, or describes
//! another id) is read from the [`DefinitionSource`] (PostgreSQL) and written back; while Redis is
//! down every read goes to the source directly.
//!
//! [`DefinitionSource`]: crate::DefinitionSource

use crate::core::Core;
use crate::error::{BoxError, CacheError};
use crate::keys;
use futures::future::BoxFuture;
use realmkeep_domain::content::{ItemDef, SkillDef};
use realmkeep_domain::{ItemDefId, SkillId};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Definitions. Get it from [`crate::Cache::definitions`].
#[derive(Debug, Clone, Copy)]
pub struct Definitions<'a> {
    core: &'a Core,
}

impl<'a> Definitions<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

async fn read_through<T, F>(
    core: &Core,
    key: String,
    matches: impl Fn(&T) -> bool,
    load: F,
) -> Result<Option<T>, CacheError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> BoxFuture<'static, Result<Option<T>, BoxError>>,
{
    match core
        .query::<Option<String>>(&redis::cmd("GET").arg(&key).to_owned())
        .await
    {
        Ok(Some(v)) => match serde_json::from_str::<T>(&v) {
            Ok(def) if matches(&def) => return Ok(Some(def)),
            _ => tracing::warn!(key, "cached definition does not match: read again"),
        },
        Ok(None) => {}
        Err(e) => core.degraded("definition cache", &e),
    }
    let def = load().await.map_err(|source| CacheError::Source {
        what: "definition",
        source,
    })?;
    if let Some(d) = &def {
        let json = serde_json::to_string(d).expect("definitions serialize");
        let cmd = redis::cmd("SET")
            .arg(&key)
            .arg(json)
            .arg("EX")
            .arg(keys::DEFINITION_CACHE_TTL.as_secs())
            .to_owned();
        if let Err(e) = core.query::<()>(&cmd).await {
            core.degraded("definition cache write", &e);
        }
    }
    Ok(def)
}

impl Definitions<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    pub async fn item(&self, id: ItemDefId) -> Result<Option<ItemDef>, CacheError> {
        let core = self.core();
        let source = core
            .opts
            .definition_source
            .clone()
            .ok_or(CacheError::NoSource("definition"))?;
        read_through(
            core,
            keys::item_def(id),
            |d: &ItemDef| d.id == id,
            move || Box::pin(async move { source.item_def(id).await }),
        )
        .await
    }

    pub async fn skill(&self, id: SkillId) -> Result<Option<SkillDef>, CacheError> {
        let core = self.core();
        let source = core
            .opts
            .definition_source
            .clone()
            .ok_or(CacheError::NoSource("definition"))?;
        read_through(
            core,
            keys::skill_def(id),
            |d: &SkillDef| d.id == id,
            move || Box::pin(async move { source.skill_def(id).await }),
        )
        .await
    }

    /// Drops cached definitions after the content tables changed.
    pub async fn invalidate(
        &self,
        items: &[ItemDefId],
        skills: &[SkillId],
    ) -> Result<(), CacheError> {
        if items.is_empty() && skills.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        for i in items {
            cmd.arg(keys::item_def(*i));
        }
        for s in skills {
            cmd.arg(keys::skill_def(*s));
        }
        self.core().query::<()>(&cmd).await
    }
}
