//! Keeps ARCHITECTURE.md's codemap true: every path it names exists, and every crate and every
//! top-level module of a crate is named in its crate's entry.
//!
//! The codemap is the `## Codemap` section: one top-level bullet per crate (or per top-level
//! folder), starting with the crate's name in backticks. Inside an entry, a backticked word that
//! looks like a path (ends in `.rs`, `.sql`, `.toml`, `.conf`, `.md` or `/`, or holds a `/`) names
//! a file or folder, looked up under the crate's `src/`, then under the crate's folder, then under
//! the repository's root. Other backticked words (types, commands) are prose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lines of the codemap section at the most: a larger one is not a codemap any more.
const CODEMAP_LINES_MAX: usize = 400;

/// One top-level entry of the codemap.
#[derive(Debug, PartialEq)]
pub struct Entry {
    /// The first backticked word: a crate name or a top-level folder.
    pub name: String,
    /// Backticked words that look like paths.
    pub paths: Vec<String>,
}

/// The entries of the `## Codemap` section of `text`.
pub fn parse(text: &str) -> Vec<Entry> {
    let mut in_section = false;
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            in_section = line.trim() == "## Codemap";
            continue;
        }
        if !in_section {
            continue;
        }
        let words = backticked(line);
        if let Some(rest) = line.strip_prefix("- ") {
            if rest.starts_with('`') {
                let mut it = words.into_iter();
                if let Some(name) = it.next() {
                    entries.push(Entry {
                        name,
                        paths: it.filter(|w| looks_like_path(w)).collect(),
                    });
                }
                continue;
            }
        }
        if let Some(e) = entries.last_mut() {
            e.paths
                .extend(words.into_iter().filter(|w| looks_like_path(w)));
        }
    }
    entries
}

fn backticked(line: &str) -> Vec<String> {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, w)| w.to_string())
        .collect()
}

fn looks_like_path(w: &str) -> bool {
    if w.contains(' ') || w.contains("::") || w.contains('(') || w.contains('*') {
        return false;
    }
    [".rs", ".sql", ".toml", ".conf", ".md", "/"]
        .iter()
        .any(|s| w.ends_with(s))
        || w.contains('/')
}

/// Everything wrong with the codemap of the repository at `root`, one line each.
pub fn check(root: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md"))
        .map_err(|e| format!("reading ARCHITECTURE.md: {e}"))?;
    let section_lines = text
        .lines()
        .skip_while(|l| l.trim() != "## Codemap")
        .take_while(|l| !l.starts_with("## ") || l.trim() == "## Codemap")
        .count();
    if section_lines == 0 {
        return Ok(vec!["ARCHITECTURE.md has no `## Codemap` section".into()]);
    }
    if section_lines > CODEMAP_LINES_MAX {
        return Ok(vec![format!(
            "the codemap has {section_lines} lines, more than {CODEMAP_LINES_MAX}"
        )]);
    }
    let entries = parse(&text);
    let mut problems = Vec::new();
    for e in &entries {
        let crate_dir = root.join("crates").join(&e.name);
        let base: Option<PathBuf> = if crate_dir.is_dir() {
            Some(crate_dir)
        } else if root.join(&e.name).exists() {
            Some(root.join(&e.name))
        } else {
            problems.push(format!("`{}` names no crate or folder", e.name));
            None
        };
        for p in &e.paths {
            let found = [
                base.as_ref().map(|b| b.join("src").join(p)),
                base.as_ref().map(|b| b.join(p)),
                Some(root.join(p)),
            ]
            .into_iter()
            .flatten()
            .any(|c| c.exists());
            if !found {
                problems.push(format!("`{}`: `{p}` does not exist", e.name));
            }
        }
    }
    let named: BTreeSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    for krate in crate_dirs(root)? {
        let Some(entry) = entries.iter().find(|e| e.name == krate) else {
            problems.push(format!("crate `{krate}` is not in the codemap"));
            continue;
        };
        let mentioned: BTreeSet<String> = entry
            .paths
            .iter()
            .map(|p| p.trim_end_matches('/').to_string())
            .collect();
        for module in top_level_modules(&root.join("crates").join(&krate).join("src"))? {
            let as_file = format!("{module}.rs");
            let known = mentioned.contains(&as_file)
                || mentioned.contains(&module)
                || mentioned
                    .iter()
                    .any(|m| m.starts_with(&format!("{module}/")));
            if !known {
                problems.push(format!(
                    "`{krate}`: module `{module}` is not named in the codemap"
                ));
            }
        }
    }
    if root.join("xtask").is_dir() && !named.contains("xtask") {
        problems.push("`xtask` is not in the codemap".into());
    }
    Ok(problems)
}

fn crate_dirs(root: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let dir = root.join("crates");
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.path().join("Cargo.toml").exists() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The modules declared at a crate's root: `src/*.rs` but the root files, and `src/*/` folders.
fn top_level_modules(src: &Path) -> Result<Vec<String>, String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(src).map_err(|e| format!("reading {}: {e}", src.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        // Test-only modules (`tests`, `*_tests`) belong to the module they test.
        let rust_file = path.extension().is_some_and(|x| x == "rs")
            && !["lib", "main", "mod", "tests"].contains(&stem.as_str())
            && !stem.ends_with("_tests");
        if path.is_dir() || rust_file {
            out.insert(stem);
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_paths_are_read_from_the_codemap_section_only() {
        let text = "# A\n`x.rs` outside\n## Codemap\n\n- `realmkeep-store`: the SQL. `lib.rs` (`Store`),\n  `migrations/` and `tests/items.rs`; `Store::pool` is prose.\n- `content/`: data. `config/redis.conf`.\n## Invariants\n- `y.rs`\n";
        assert_eq!(
            parse(text),
            vec![
                Entry {
                    name: "realmkeep-store".into(),
                    paths: vec![
                        "lib.rs".into(),
                        "migrations/".into(),
                        "tests/items.rs".into()
                    ],
                },
                Entry {
                    name: "content/".into(),
                    paths: vec!["config/redis.conf".into()],
                },
            ]
        );
    }

    #[test]
    fn a_missing_path_and_an_unnamed_module_are_reported() {
        let dir = tempdir();
        let src = dir.join("crates/realmkeep-a/src");
        std::fs::create_dir_all(src.join("systems")).unwrap();
        std::fs::write(dir.join("crates/realmkeep-a/Cargo.toml"), "").unwrap();
        for f in ["lib.rs", "zone.rs", "stats.rs", "systems/mod.rs"] {
            std::fs::write(src.join(f), "").unwrap();
        }
        std::fs::write(
            dir.join("ARCHITECTURE.md"),
            "## Codemap\n- `realmkeep-a`: `zone.rs`, `systems/`, `io.rs`.\n",
        )
        .unwrap();
        let problems = check(&dir).unwrap();
        assert_eq!(
            problems,
            vec![
                "`realmkeep-a`: `io.rs` does not exist".to_string(),
                "`realmkeep-a`: module `stats` is not named in the codemap".to_string(),
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn this_repository_codemap_is_true() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let problems = check(root).unwrap();
        assert!(
            problems.is_empty(),
            "ARCHITECTURE.md codemap:\n{}",
            problems.join("\n")
        );
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "xtask-codemap-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
