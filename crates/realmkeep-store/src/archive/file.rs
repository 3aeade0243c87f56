//! The archive on disk: one zstd-compressed JSON-lines file of `StoredLog` rows per month
//! (`game_logs_yYYYYmMM.jsonl.zst`, ordered by `(occurred_at, id)`) and `manifest.json`, which
//! records each file's rows, time range and checksums. Pure file I/O, blocking.

use crate::logs::StoredLog;
use crate::migration_lint::lower_hex;
use crate::StoreError;
use chrono::{DateTime, Months, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

/// The manifest's file name in the archive directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Bumped if the file layout ever changes.
const MANIFEST_FORMAT: u32 = 1;
/// zstd level: the archive is written once a month and kept for years, so spend CPU on size.
const ZSTD_LEVEL: i32 = 9;
/// Longest line a reader accepts: a corrupt file must not make it buffer without end.
pub const ARCHIVE_LINE_BYTES_MAX: usize = 16 << 20;
/// Rows `read_archive` loads into memory at most; stream bigger files with `ArchiveReader`.
pub const READ_ARCHIVE_ROWS_MAX: u64 = 1_000_000;

/// One month partition of `game_logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// From a partition name `game_logs_yYYYYmMM`, as `ensure_game_logs_partition` names them.
    pub(crate) fn from_partition(name: &str) -> Option<Month> {
        let rest = name.strip_prefix("game_logs_y")?;
        let (y, m) = rest.split_once('m')?;
        let digits = |s: &str, n| s.len() == n && s.bytes().all(|c| c.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) {
            return None;
        }
        let month = Month {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
        };
        (1..=12).contains(&month.month).then_some(month)
    }
    pub(crate) fn partition(&self) -> String {
        format!("game_logs_y{:04}m{:02}", self.year, self.month)
    }
    pub(crate) fn file_name(&self) -> String {
        format!("{}.jsonl.zst", self.partition())
    }
    /// `YYYY-MM`, as the manifest names months.
    pub(crate) fn label(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
    pub(crate) fn start(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .expect("the first of a month at midnight UTC exists")
    }
    pub(crate) fn end(&self) -> DateTime<Utc> {
        self.start() + Months::new(1)
    }
}

/// One archived month, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedPartition {
    /// `YYYY-MM`.
    pub month: String,
    /// The partition that was archived and dropped.
    pub partition: String,
    /// The file's name in the archive directory.
    pub file: String,
    pub rows: u64,
    pub min_occurred_at: Option<DateTime<Utc>>,
    pub max_occurred_at: Option<DateTime<Utc>>,
    /// SHA-256 of the uncompressed JSON lines.
    pub content_sha256: String,
    /// SHA-256 of the compressed file.
    pub file_sha256: String,
    pub file_bytes: u64,
    pub archived_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: u32,
    pub partitions: Vec<ArchivedPartition>,
}

/// What `verify_archive` found for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub file: String,
    /// `YYYY-MM`, when the manifest lists the file.
    pub month: Option<String>,
    /// Empty when the file matches the manifest.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a file holds, computed while writing or reading it back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileSummary {
    pub rows: u64,
    pub min_occurred_at: Option<DateTime<Utc>>,
    pub max_occurred_at: Option<DateTime<Utc>>,
    pub content_sha256: String,
    pub file_sha256: String,
    pub file_bytes: u64,
}

pub(crate) fn io_err(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let what = format!("{what} {}", path.display());
    move |e| StoreError::Io(format!("log archive: {what}: {e}"))
}

/// Counts and hashes the bytes written through it.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Rows in one month, strictly ascending by `(occurred_at, id)`: checked on write and on read.
struct RowChecks {
    month: Month,
    rows: u64,
    content: Sha256,
    first: Option<DateTime<Utc>>,
    last: Option<(DateTime<Utc>, i64)>,
}

impl RowChecks {
    fn new(month: Month) -> Self {
        Self {
            month,
            rows: 0,
            content: Sha256::new(),
            first: None,
            last: None,
        }
    }
    /// `line` is the row's JSON and its newline.
    fn add(&mut self, row: &StoredLog, line: &[u8]) -> Result<(), String> {
        let key = (row.occurred_at, row.id);
        if row.occurred_at < self.month.start() || row.occurred_at >= self.month.end() {
            return Err(format!(
                "row {} at {} is outside {}",
                row.id,
                row.occurred_at,
                self.month.label()
            ));
        }
        if self.last.is_some_and(|last| key <= last) {
            return Err(format!("row {} is out of order", row.id));
        }
        self.first.get_or_insert(row.occurred_at);
        self.last = Some(key);
        self.rows += 1;
        self.content.update(line);
        Ok(())
    }
}

/// Writes one month's rows to a file (normally a temporary name), then fsyncs it.
pub(crate) struct ArchiveWriter {
    encoder: zstd::stream::write::Encoder<'static, Hashing<BufWriter<File>>>,
    checks: RowChecks,
    line: Vec<u8>,
}

impl ArchiveWriter {
    pub(crate) fn create(path: &Path, month: Month) -> Result<Self, StoreError> {
        let file = File::create(path).map_err(io_err("creating", path))?;
        let sink = Hashing {
            inner: BufWriter::new(file),
            sha: Sha256::new(),
            bytes: 0,
        };
        let mut encoder = zstd::stream::write::Encoder::new(sink, ZSTD_LEVEL)
            .map_err(io_err("compressing", path))?;
        encoder
            .include_checksum(true)
            .map_err(io_err("compressing", path))?;
        Ok(Self {
            encoder,
            checks: RowChecks::new(month),
            line: Vec::new(),
        })
    }

    pub(crate) fn write_rows(&mut self, rows: &[StoredLog]) -> Result<(), StoreError> {
        for row in rows {
            self.line.clear();
            serde_json::to_writer(&mut self.line, row).map_err(|e| {
                StoreError::Io(format!("log archive: encoding row {}: {e}", row.id))
            })?;
            self.line.push(b'\n');
            self.checks
                .add(row, &self.line)
                .map_err(|e| StoreError::Io(format!("log archive: {e}")))?;
            self.encoder
                .write_all(&self.line)
                .map_err(|e| StoreError::Io(format!("log archive: writing: {e}")))?;
        }
        Ok(())
    }

    /// Ends the zstd stream, flushes and fsyncs the file.
    pub(crate) fn finish(self) -> Result<FileSummary, StoreError> {
        let err = |e: std::io::Error| StoreError::Io(format!("log archive: finishing a file: {e}"));
        let mut sink = self.encoder.finish().map_err(err)?;
        sink.flush().map_err(err)?;
        let file = sink.inner.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        Ok(FileSummary {
            rows: self.checks.rows,
            min_occurred_at: self.checks.first,
            max_occurred_at: self.checks.last.map(|(t, _)| t),
            content_sha256: lower_hex(&self.checks.content.finalize()),
            file_sha256: lower_hex(&sink.sha.finalize()),
            file_bytes: sink.bytes,
        })
    }
}

/// Streams the rows of an archive file, one at a time, in memory bounded by a line.
pub struct ArchiveReader {
    input: BufReader<zstd::stream::read::Decoder<'static, BufReader<File>>>,
    line: Vec<u8>,
    /// The uncompressed bytes read so far, hashed.
    content: Sha256,
}

impl ArchiveReader {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let file = File::open(path).map_err(io_err("opening", path))?;
        let decoder =
            zstd::stream::read::Decoder::new(file).map_err(io_err("decompressing", path))?;
        Ok(Self {
            input: BufReader::new(decoder),
            line: Vec::new(),
            content: Sha256::new(),
        })
    }

    fn next_row(&mut self) -> Result<Option<StoredLog>, StoreError> {
        let err = |what: String| StoreError::Io(format!("log archive: {what}"));
        self.line.clear();
        let limit = ARCHIVE_LINE_BYTES_MAX as u64 + 1;
        let n = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| err(format!("decompressing: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        if self.line.last() != Some(&b'\n') {
            return Err(err(if n as u64 == limit {
                "a line is longer than the limit".into()
            } else {
                "the last line is cut short".into()
            }));
        }
        self.content.update(&self.line);
        serde_json::from_slice(&self.line[..n - 1])
            .map(Some)
            .map_err(|e| err(format!("a row does not parse: {e}")))
    }
}

impl Iterator for ArchiveReader {
    type Item = Result<StoredLog, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

/// Every row of an archive file (at most `READ_ARCHIVE_ROWS_MAX`; stream bigger ones with
/// `ArchiveReader`).
pub fn read_archive(file: &Path) -> Result<Vec<StoredLog>, StoreError> {
    let mut rows = Vec::new();
    for row in ArchiveReader::open(file)? {
        if rows.len() as u64 == READ_ARCHIVE_ROWS_MAX {
            return Err(StoreError::Io(format!(
                "log archive: {} holds more than {READ_ARCHIVE_ROWS_MAX} rows; stream it with ArchiveReader",
                file.display()
            )));
        }
        rows.push(row?);
    }
    Ok(rows)
}

/// Reads a file back whole: raw checksum, then every row decompressed and checked (in `month`,
/// in order). An `Err` is a problem with the file, as text for a report.
pub(crate) fn summarize_file(path: &Path, month: Month) -> Result<FileSummary, String> {
    let mut raw = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut sink = Hashing {
        inner: std::io::sink(),
        sha: Sha256::new(),
        bytes: 0,
    };
    std::io::copy(&mut raw, &mut sink).map_err(|e| format!("cannot read: {e}"))?;
    let mut reader = ArchiveReader::open(path).map_err(|e| e.to_string())?;
    let mut checks = RowChecks::new(month);
    while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
        checks.add(&row, &reader.line)?;
    }
    Ok(FileSummary {
        rows: checks.rows,
        min_occurred_at: checks.first,
        max_occurred_at: checks.last.map(|(t, _)| t),
        content_sha256: lower_hex(&reader.content.finalize()),
        file_sha256: lower_hex(&sink.sha.finalize()),
        file_bytes: sink.bytes,
    })
}

/// The differences between a file and its manifest entry.
pub(crate) fn verify_entry(dir: &Path, entry: &ArchivedPartition) -> Vec<String> {
    let Some(month) = Month::from_partition(&entry.partition) else {
        return vec![format!(
            "the manifest names an unknown partition {:?}",
            entry.partition
        )];
    };
    if entry.file != month.file_name() || entry.month != month.label() {
        return vec!["the manifest entry's month, partition and file disagree".into()];
    }
    let found = match summarize_file(&dir.join(&entry.file), month) {
        Ok(s) => s,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    let mut differ = |what: &str, ok: bool| {
        if !ok {
            problems.push(format!("{what} differs from the manifest"));
        }
    };
    differ("the file's sha256", found.file_sha256 == entry.file_sha256);
    differ("the file's size", found.file_bytes == entry.file_bytes);
    differ("the row count", found.rows == entry.rows);
    differ(
        "the content's sha256",
        found.content_sha256 == entry.content_sha256,
    );
    differ(
        "the first row's time",
        found.min_occurred_at == entry.min_occurred_at,
    );
    differ(
        "the last row's time",
        found.max_occurred_at == entry.max_occurred_at,
    );
    problems
}

/// The manifest of `dir`, `None` if there is none yet.
pub(crate) fn read_manifest(dir: &Path) -> Result<Option<Manifest>, StoreError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("reading", &path)(e)),
    };
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
        StoreError::Io(format!(
            "log archive: {} does not parse: {e}",
            path.display()
        ))
    })?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(StoreError::Io(format!(
            "log archive: {} has format {}, this build reads {MANIFEST_FORMAT}",
            path.display(),
            manifest.format
        )));
    }
    Ok(Some(manifest))
}

/// Fsyncs a directory so a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing", dir))
}

/// Replaces the manifest atomically: temporary file, fsync, rename, fsync the directory.
pub(crate) fn write_manifest(dir: &Path, manifest: &mut Manifest) -> Result<(), StoreError> {
    manifest.format = MANIFEST_FORMAT;
    manifest.partitions.sort_by(|a, b| a.month.cmp(&b.month));
    let path = dir.join(MANIFEST_FILE);
    let tmp = dir.join(format!(".{MANIFEST_FILE}.tmp"));
    let mut text = serde_json::to_vec_pretty(manifest)
        .map_err(|e| StoreError::Io(format!("log archive: encoding the manifest: {e}")))?;
    text.push(b'\n');
    let mut file = File::create(&tmp).map_err(io_err("creating", &tmp))?;
    file.write_all(&text).map_err(io_err("writing", &tmp))?;
    file.sync_all().map_err(io_err("syncing", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_err("renaming", &tmp))?;
    sync_dir(dir)
}

/// Checks every file of the manifest in `dir`, and reports archive files it does not list.
pub fn verify_archive(dir: &Path) -> Result<Vec<VerifyReport>, StoreError> {
    let manifest = read_manifest(dir)?.ok_or_else(|| {
        StoreError::Io(format!(
            "log archive: no {MANIFEST_FILE} in {}",
            dir.display()
        ))
    })?;
    let mut reports: Vec<VerifyReport> = manifest
        .partitions
        .iter()
        .map(|entry| VerifyReport {
            file: entry.file.clone(),
            month: Some(entry.month.clone()),
            problems: verify_entry(dir, entry),
        })
        .collect();
    for dir_entry in std::fs::read_dir(dir).map_err(io_err("reading", dir))? {
        let name = dir_entry.map_err(io_err("reading", dir))?.file_name();
        let name = name.to_string_lossy();
        let is_archive = name
            .strip_suffix(".jsonl.zst")
            .is_some_and(|p| Month::from_partition(p).is_some());
        if is_archive && !manifest.partitions.iter().any(|p| p.file == name) {
            reports.push(VerifyReport {
                file: name.to_string(),
                month: None,
                problems: vec!["the file is not in the manifest".into()],
            });
        }
    }
    Ok(reports)
}
