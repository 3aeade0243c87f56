//! The migration lint: migrations are forward-only and backward-compatible, checked before they
//! ship (by `realmkeep check-migrations` in CI and by the store's tests).
//!
//! A deploy runs the new release's migrations while the previous release still serves players, so
//! a migration must never break the previous release's queries. Changes are made in two steps:
//! *expand* (add the new table, column or index beside the old one; the previous release ignores
//! it), and, in a later release, *contract* (remove what no running release uses any more).
//!
//! Refused in an ordinary migration, outside comments, string literals and function bodies:
//! - any `DROP` (table, column, index, view, function, trigger, type, constraint, default), except
//!   `DROP NOT NULL`, which only relaxes;
//! - any `RENAME` (table, column, constraint, ...);
//! - `ALTER COLUMN ... TYPE` and `ALTER COLUMN ... SET NOT NULL`;
//! - `ADD COLUMN ... NOT NULL` without a `DEFAULT` (or `GENERATED`): old inserts would fail;
//! - `TRUNCATE`.
//!
//! A contract step is a migration file carrying the line comment `-- realmkeep:contract` (a reason
//! may follow). The lint lets it drop and rename, and the author and reviewer vouch for what the
//! lint cannot see: it may only touch objects that the previous release no longer uses at all,
//! which means the release before it already stopped reading and writing them.
//!
//! What the lint cannot see, and review must:
//! - Function bodies (`$$ ... $$`, or a string) run later, when called, and are not checked; the
//!   statement creating the function is fine. A `DO` block runs now, so its body is scanned
//!   conservatively, strings included (it may `EXECUTE` them); SQL hidden in a function called
//!   from the migration is not seen.
//! - New constraints (`CHECK`, `UNIQUE`, foreign keys) can refuse the previous release's writes,
//!   and `CREATE OR REPLACE FUNCTION` can change what it calls.
//! - Index creation is allowed. sqlx runs each migration in a transaction, where `CREATE INDEX
//!   CONCURRENTLY` is impossible, so a plain `CREATE INDEX` blocks writes to its table while it
//!   builds: fine for new or small tables. For a large live table, put `CREATE INDEX CONCURRENTLY`
//!   alone in a migration whose first line is `-- no-transaction` (sqlx then runs it outside a
//!   transaction).
//!
//! Across the migration set: file names are `<14-digit version>_<snake_case>.sql` (forward-only,
//! so no `.up.sql`/`.down.sql`), versions are unique, a new migration comes after every shipped one,
//! and a shipped migration is never edited or removed. `migrations/CHECKSUMS` lists each shipped
//! migration as `<version> <sha256 of the file>`; it is append-only (add the lines of a release's
//! new migrations when it ships, see `checksum_lines`). sqlx also refuses at start-up a database
//! whose applied migration has changed, but CI should catch it first.
//!
//! The SQL source files (`crate::sql_sources`) are checked too (`sources`, part of
//! `check_shipped`): they may only hold `CREATE OR REPLACE FUNCTION` statements.

mod sources;
mod sql;
#[cfg(test)]
mod tests;

pub use sources::{check_source, check_sources};

use crate::StoreError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The line comment that marks a deliberate contract migration.
pub const CONTRACT_MARKER: &str = "realmkeep:contract";
/// The checksum list's file name, in the migrations directory.
pub const CHECKSUMS_FILE: &str = "CHECKSUMS";
/// Characters of a statement quoted in a violation.
const EXCERPT_CHARS_MAX: usize = 100;
/// Digits of a migration version (`YYYYMMDDhhmmss`, as `sqlx migrate add` writes them).
const VERSION_DIGITS: usize = 14;

/// The shipped checksum list, compiled in with the migrations.
const SHIPPED_CHECKSUMS: &str = include_str!("../migrations/CHECKSUMS");

/// What a migration did wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Drop,
    Rename,
    AlterType,
    SetNotNull,
    AddNotNullWithoutDefault,
    Truncate,
    /// The lint could not read the file (an unterminated literal or comment).
    Unreadable,
    Naming,
    /// A duplicate version, or a new migration placed before a shipped one.
    VersionOrder,
    /// A shipped migration's file changed.
    ShippedEdited,
    /// A shipped migration's file is gone.
    ShippedMissing,
    /// `CHECKSUMS` is missing or has a malformed line.
    Checksums,
    /// A SQL source file (`sql_sources`) holds something else than `CREATE OR REPLACE FUNCTION`.
    SourceStatement,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::Drop => "drop",
            Rule::Rename => "rename",
            Rule::AlterType => "alter-column-type",
            Rule::SetNotNull => "set-not-null",
            Rule::AddNotNullWithoutDefault => "add-not-null-column-without-default",
            Rule::Truncate => "truncate",
            Rule::Unreadable => "unreadable",
            Rule::Naming => "naming",
            Rule::VersionOrder => "version-order",
            Rule::ShippedEdited => "shipped-migration-edited",
            Rule::ShippedMissing => "shipped-migration-missing",
            Rule::Checksums => "checksums",
            Rule::SourceStatement => "source-not-a-function",
        })
    }
}

/// One broken rule. `line` is 1-based; 0 means the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub migration: String,
    pub line: usize,
    /// The statement, whitespace collapsed and cut short.
    pub statement: String,
    pub rule: Rule,
    /// What to do instead.
    pub hint: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.migration, self.line, self.rule)?;
        if !self.statement.is_empty() {
            write!(f, " in `{}`", self.statement)?;
        }
        write!(f, "\n    hint: {}", self.hint)
    }
}

fn file_violation(migration: &str, line: usize, rule: Rule, hint: String) -> Violation {
    Violation {
        migration: migration.to_string(),
        line,
        statement: String::new(),
        rule,
        hint,
    }
}

fn excerpt(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(EXCERPT_CHARS_MAX) {
        Some((cut, _)) => format!("{}...", &collapsed[..cut]),
        None => collapsed,
    }
}

/// Checks one migration's SQL against the expand-only rules. Pure: no I/O.
pub fn check_migration(name: &str, sql: &str) -> Vec<Violation> {
    let lexed = match sql::lex(sql, CONTRACT_MARKER) {
        Ok(l) => l,
        Err(e) => {
            let hint = format!("{}; the lint cannot check this file", e.message);
            return vec![file_violation(name, e.line, Rule::Unreadable, hint)];
        }
    };
    if lexed.contract {
        return Vec::new();
    }
    let mut out = Vec::new();
    for_each_statement(sql, &lexed.tokens, |stmt, text| {
        for f in sql::check_statement(stmt) {
            out.push(Violation {
                migration: name.to_string(),
                line: f.line,
                statement: text.to_string(),
                rule: f.rule,
                hint: f.hint.to_string(),
            });
        }
    });
    out
}

/// Calls `f` with each non-empty statement of a lexed file (split at `;`) and its excerpt.
fn for_each_statement(sql: &str, tokens: &[sql::Token], mut f: impl FnMut(&[sql::Token], &str)) {
    let mut first = 0;
    while first < tokens.len() {
        let semi = tokens[first..]
            .iter()
            .position(|t| t.tok == sql::Tok::Punct(b';'))
            .map_or(tokens.len(), |p| first + p);
        let stmt = &tokens[first..semi];
        if !stmt.is_empty() {
            let end = tokens.get(semi).map_or(sql.len(), |t| t.start);
            f(stmt, &excerpt(&sql[stmt[0].start..end]));
        }
        first = semi + 1;
    }
}

/// A migration file as the set checks see it.
struct MigrationFile {
    version: i64,
    name: String,
    sql: String,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    lower_hex(&Sha256::digest(bytes))
}

/// Lowercase hex of a digest (sha2 0.11's output type has no `LowerHex`).
pub(crate) fn lower_hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `<14 digits>_<snake_case>.sql`; the version if the name is right.
fn parse_name(name: &str) -> Result<i64, String> {
    let expected = "expected `<YYYYMMDDhhmmss>_<snake_case_description>.sql`";
    if name.ends_with(".up.sql") || name.ends_with(".down.sql") {
        return Err(format!(
            "migrations are forward-only: no reversible pairs ({expected})"
        ));
    }
    let Some((version, rest)) = name.split_once('_') else {
        return Err(expected.to_string());
    };
    let description = rest.strip_suffix(".sql").unwrap_or_default();
    let description_ok = !description.is_empty()
        && description
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
    if version.len() != VERSION_DIGITS
        || !version.bytes().all(|c| c.is_ascii_digit())
        || !description_ok
    {
        return Err(expected.to_string());
    }
    version.parse().map_err(|_| expected.to_string())
}

/// Parses `CHECKSUMS`: version → sha256; blank lines and `#` comments are skipped.
fn parse_checksums(text: &str, out: &mut Vec<Violation>) -> BTreeMap<i64, String> {
    let mut list = BTreeMap::new();
    let mut last = i64::MIN;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line.split_once(' ').and_then(|(v, h)| {
            let ok = h.len() == 64
                && h.bytes()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
            Some((v.parse::<i64>().ok()?, h.to_string())).filter(|_| ok)
        });
        match parsed {
            Some((v, h)) if v > last => {
                last = v;
                list.insert(v, h);
            }
            Some(_) => out.push(file_violation(
                CHECKSUMS_FILE,
                n + 1,
                Rule::Checksums,
                "versions must be listed once each, in increasing order (the list is append-only)"
                    .into(),
            )),
            None => out.push(file_violation(
                CHECKSUMS_FILE,
                n + 1,
                Rule::Checksums,
                "expected `<version> <lowercase hex sha256>`".into(),
            )),
        }
    }
    list
}

/// The checks over a whole migration set (sorted by version here).
fn check_set(mut files: Vec<MigrationFile>, checksums: Option<&str>) -> Vec<Violation> {
    files.sort_by(|a, b| a.version.cmp(&b.version).then(a.name.cmp(&b.name)));
    let mut out = Vec::new();
    for pair in files.windows(2) {
        if pair[0].version == pair[1].version {
            let hint = format!(
                "version {} is used twice (also by {})",
                pair[1].version, pair[0].name
            );
            out.push(file_violation(&pair[1].name, 0, Rule::VersionOrder, hint));
        }
    }
    let shipped = match checksums {
        Some(text) => parse_checksums(text, &mut out),
        None if files.is_empty() => BTreeMap::new(),
        None => {
            let hint = format!("`{CHECKSUMS_FILE}` is missing beside the migrations");
            out.push(file_violation(CHECKSUMS_FILE, 0, Rule::Checksums, hint));
            BTreeMap::new()
        }
    };
    for (version, sum) in &shipped {
        match files.iter().find(|f| f.version == *version) {
            None => out.push(file_violation(
                &version.to_string(),
                0,
                Rule::ShippedMissing,
                "a shipped migration was removed: databases that applied it refuse to start; \
                 restore it"
                    .into(),
            )),
            Some(f) if sha256_hex(f.sql.as_bytes()) != *sum => out.push(file_violation(
                &f.name,
                0,
                Rule::ShippedEdited,
                "a shipped migration was edited: databases that applied it refuse to start; \
                 restore it and put the change in a new migration"
                    .into(),
            )),
            Some(_) => {}
        }
    }
    let newest_shipped = shipped.keys().next_back().copied();
    for f in &files {
        if !shipped.contains_key(&f.version) && newest_shipped.is_some_and(|v| f.version < v) {
            let hint = format!(
                "a new migration must come after every shipped one (newest shipped: {}); \
                 give it a later version",
                newest_shipped.unwrap_or_default()
            );
            out.push(file_violation(&f.name, 0, Rule::VersionOrder, hint));
        }
        out.extend(check_migration(&f.name, &f.sql));
    }
    out
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let what = format!("{what} {}", path.display());
    move |e| StoreError::Io(format!("{what}: {e}"))
}

/// A migrations directory as read: the well-named files, `CHECKSUMS` if present, and the naming
/// violations of the others.
struct DirContents {
    files: Vec<MigrationFile>,
    checksums: Option<String>,
    naming: Vec<Violation>,
}

/// Reads the `.sql` files of a migrations directory (names checked), and its `CHECKSUMS`.
fn read_dir(dir: &Path) -> Result<DirContents, StoreError> {
    let mut files = Vec::new();
    let mut naming = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io("reading", dir))? {
        let path = entry.map_err(io("reading", dir))?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !path.is_file() || !name.ends_with(".sql") {
            continue;
        }
        let sql = std::fs::read_to_string(&path).map_err(io("reading", &path))?;
        match parse_name(&name) {
            Ok(version) => files.push(MigrationFile { version, name, sql }),
            Err(hint) => naming.push(file_violation(&name, 0, Rule::Naming, hint)),
        }
    }
    let sums_path = dir.join(CHECKSUMS_FILE);
    let checksums = match std::fs::read_to_string(&sums_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("reading", &sums_path)(e)),
    };
    Ok(DirContents {
        files,
        checksums,
        naming,
    })
}

/// Checks a migrations directory: names, versions, checksums of shipped migrations, and the
/// expand-only rules in every file.
pub fn check_dir(dir: &Path) -> Result<Vec<Violation>, StoreError> {
    let dir = read_dir(dir)?;
    let mut out = dir.naming;
    out.extend(check_set(dir.files, dir.checksums.as_deref()));
    Ok(out)
}

/// Checks the migrations compiled into this build (`crate::MIGRATOR`) against the compiled-in
/// `CHECKSUMS`.
pub fn check_shipped() -> Vec<Violation> {
    use sqlx::migrate::MigrationType;
    let mut out = Vec::new();
    let mut files = Vec::new();
    for m in crate::MIGRATOR.iter() {
        let suffix = match m.migration_type {
            MigrationType::Simple => ".sql",
            MigrationType::ReversibleUp => ".up.sql",
            MigrationType::ReversibleDown => ".down.sql",
        };
        let name = format!("{}_{}{suffix}", m.version, m.description.replace(' ', "_"));
        if let Err(hint) = parse_name(&name) {
            out.push(file_violation(&name, 0, Rule::Naming, hint));
        }
        files.push(MigrationFile {
            version: m.version,
            name,
            sql: m.sql.as_str().to_owned(),
        });
    }
    out.extend(check_set(files, Some(SHIPPED_CHECKSUMS)));
    out.extend(check_sources());
    out
}

/// The `CHECKSUMS` lines of every well-named migration in `dir`, in version order: when a release
/// ships, append the lines of its new migrations to `CHECKSUMS` (never change existing lines).
pub fn checksum_lines(dir: &Path) -> Result<String, StoreError> {
    let mut files = read_dir(dir)?.files;
    files.sort_by_key(|f| f.version);
    Ok(files
        .iter()
        .map(|f| format!("{} {}\n", f.version, sha256_hex(f.sql.as_bytes())))
        .collect())
}
