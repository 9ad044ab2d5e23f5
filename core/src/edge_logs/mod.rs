//! Bandwidth from the edge: `t8k usage ingest` reads the access logs of whatever serves the
//! sites in production (nginx, CloudFront, S3) and adds each tenant's bytes and requests per
//! day to `stats/{tenant}/bandwidth/{YYYY-MM}.edge.json`, beside what `t8k serve` counts
//! ([`crate::bandwidth`] reads both).
//!
//! Re-running never counts twice. Each source (a log file, or a log object in a bucket) has a
//! ledger entry (`stats/_edge/ingested/{hash}.json`): how far it was read, and what its first
//! bytes hash to (a rotated file starts again from the top). A file is read from there up to
//! its last complete line (a line being written is left for the next run). Before counting a
//! stretch, the ledger names it as pending; each tenant's month records the stretches it
//! added (by id); then the ledger moves on. A run killed half-way re-counts exactly the pending
//! stretch, and the months that already have it skip it.
//!
//! Lines stream through one at a time: memory grows with the tenants and days seen, not with
//! the log (a bucket's log object is read whole; CloudFront and S3 write them small).

pub mod parse;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read, Seek};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bandwidth::Month;
use crate::error::{Error, Result};
use crate::hosts::{HostMap, Site};
use crate::key::Key;
use crate::name::TenantId;
use crate::store::Store;
pub use parse::Format;
use parse::{Columns, Line, Whose};

/// How many bytes of a file's start identify it (a rotated log has other first lines).
const HEAD: u64 = 4096;

/// One tenant's edge-served traffic in one month: per day (`2026-11-30`), and the stretches
/// of logs already added.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeMonth {
    pub days: BTreeMap<String, Month>,
    pub added: BTreeSet<String>,
}

impl EdgeMonth {
    pub fn total(&self) -> Month {
        let mut m = Month::default();
        for d in self.days.values() {
            m += *d;
        }
        m
    }
}

/// `stats/{tenant}/bandwidth/{month}.edge.json`
pub fn month_key(id: &TenantId, month: &str) -> Result<Key> {
    let serve = crate::bandwidth::month_key(id, month)?;
    Key::new(&serve.as_str().replace(".json", ".edge.json"))
}

/// Where a log comes from.
pub enum Source {
    File(PathBuf),
    /// An object of a bucket (or folder) store, by key.
    Object(Key),
}

impl Source {
    fn id(&self) -> String {
        match self {
            Source::File(p) => format!("file:{}", p.display()),
            Source::Object(k) => format!("object:{k}"),
        }
    }

    fn gzipped(&self) -> bool {
        match self {
            Source::File(p) => p.extension().is_some_and(|e| e == "gz"),
            Source::Object(k) => k.as_str().ends_with(".gz"),
        }
    }
}

/// How far a source has been read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Ledger {
    source: String,
    /// The SHA-256 of the first `head_len` bytes when it was last read (a file), or the
    /// object's version (an object).
    head: String,
    head_len: u64,
    /// Bytes read and counted.
    offset: u64,
    /// A stretch named before its counts were added, `[from, to)`.
    pending: Option<(u64, u64)>,
}

/// What a run read and counted.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub sources: usize,
    /// Sources with nothing new since the last run.
    pub unchanged: usize,
    pub lines: u64,
    pub counted: u64,
    /// Lines that are not of the format (counted here, skipped).
    pub malformed: u64,
    /// Requests for hosts or keys that are no tenant's (the main site, unknown names).
    pub unattributed: u64,
    /// Bytes of an unfinished last line, left for the next run.
    pub left_for_later: u64,
    pub tenants: BTreeMap<String, Month>,
    /// A few of the malformed lines, to see what went wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// Reads `sources` as `format` logs into the data root's bandwidth counts.
pub struct Ingest<'a> {
    pub store: &'a dyn Store,
    /// Where `Source::Object`s are read from.
    pub logs: Option<&'a dyn Store>,
    pub hosts: &'a HostMap,
    pub format: Format,
}

/// A stretch's counts: per tenant (an index into `tenants`) and day, and what each host or
/// key's tenant name came to.
#[derive(Default)]
struct Tally {
    seen: HashMap<String, Option<usize>>,
    tenants: Vec<TenantId>,
    counts: HashMap<(usize, time::Date), Month>,
}

impl Ingest<'_> {
    pub fn run(&self, sources: &[Source]) -> Result<Report> {
        let mut report = Report::default();
        for s in sources {
            report.sources += 1;
            self.source(s, &mut report)?;
        }
        Ok(report)
    }

    fn source(&self, source: &Source, report: &mut Report) -> Result<()> {
        let id = source.id();
        let key = ledger_key(&id)?;
        let mut ledger: Ledger = crate::cas::read_json(self.store, &key)?
            .map(|(l, _)| l)
            .unwrap_or_default();
        let (head, size) = self.identify(source, ledger.head_len)?;
        if ledger.head != head || ledger.source != id {
            // New, or rotated since (its first bytes differ): from the top.
            ledger = Ledger {
                source: id.clone(),
                head: head.clone(),
                ..Ledger::default()
            };
        }
        if let Some((from, to)) = ledger.pending {
            // A run stopped after naming this stretch: count it again (months that have it
            // skip it), then go on.
            self.stretch(source, &id, from, Some(to), report)?;
            ledger.offset = to;
            ledger.pending = None;
            save(self.store, &key, &ledger)?;
        }
        let done = match source.gzipped() || matches!(source, Source::Object(_)) {
            true => ledger.offset > 0,
            false => ledger.offset >= size,
        };
        if done {
            report.unchanged += 1;
            return Ok(());
        }
        let from = ledger.offset;
        let Some(to) = self.end_of_lines(source, from, size, report)? else {
            report.unchanged += 1;
            return Ok(());
        };
        ledger.pending = Some((from, to));
        save(self.store, &key, &ledger)?;
        self.stretch(source, &id, from, Some(to), report)?;
        let (head, _) = self.identify(source, HEAD.min(to))?;
        ledger = Ledger {
            head,
            head_len: HEAD.min(to),
            offset: to,
            pending: None,
            ..ledger
        };
        save(self.store, &key, &ledger)
    }

    /// The hash of a file's first `len` bytes (or an object's version), and its size.
    fn identify(&self, source: &Source, len: u64) -> Result<(String, u64)> {
        match source {
            Source::File(p) => {
                let mut f = open(p)?;
                let size = f.metadata().map_err(io(p))?.len();
                let mut head = vec![0; len.min(size) as usize];
                f.read_exact(&mut head).map_err(io(p))?;
                let hash = match len > size {
                    true => String::from("shorter"),
                    false => crate::secrets::sha256_hex(&head),
                };
                Ok((hash, size))
            }
            Source::Object(k) => {
                let version = self
                    .logs()?
                    .head(k)?
                    .ok_or_else(|| Error::invalid(k.to_string(), "no such log object"))?;
                Ok((format!("{version:?}"), 1))
            }
        }
    }

    fn logs(&self) -> Result<&dyn Store> {
        self.logs
            .ok_or_else(|| Error::invalid("log source", "a bucket source needs its store"))
    }

    /// Where the counted stretch ends: after the last complete line of a plain file (the rest
    /// is being written), the whole of a gzip file or an object. None: no complete line yet.
    /// (A file's unread part is read here only from its end back to its last newline.)
    fn end_of_lines(
        &self,
        source: &Source,
        from: u64,
        size: u64,
        report: &mut Report,
    ) -> Result<Option<u64>> {
        let Source::File(p) = source else {
            return Ok(Some(size));
        };
        if source.gzipped() {
            return Ok(Some(size));
        }
        // Back from the end to the last newline: the file is read once, by the count.
        let mut f = open(p)?;
        let mut buf = vec![0; 64 * 1024];
        let mut end = size;
        while end > from {
            let start = end.saturating_sub(buf.len() as u64).max(from);
            let chunk = &mut buf[..(end - start) as usize];
            f.seek(std::io::SeekFrom::Start(start)).map_err(io(p))?;
            f.read_exact(chunk).map_err(io(p))?;
            if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
                let after = start + i as u64 + 1;
                report.left_for_later = report.left_for_later.max(size - after);
                return Ok(Some(after));
            }
            end = start;
        }
        report.left_for_later = report.left_for_later.max(size - from);
        Ok(None)
    }

    /// Counts the lines of `[from, to)` and adds them to the tenants' months.
    fn stretch(
        &self,
        source: &Source,
        id: &str,
        from: u64,
        to: Option<u64>,
        report: &mut Report,
    ) -> Result<()> {
        let mut tally = Tally::default();
        let mut columns = Columns::default();
        let mut each = |text: &str| self.count(text, &mut columns, &mut tally, report);
        match source {
            Source::File(p) => {
                let mut f = open(p)?;
                if source.gzipped() {
                    lines(flate2::read::MultiGzDecoder::new(f), p, &mut each)?;
                } else {
                    f.seek(std::io::SeekFrom::Start(from)).map_err(io(p))?;
                    let len = to.map_or(u64::MAX, |t| t - from);
                    lines(f.take(len), p, &mut each)?;
                }
            }
            Source::Object(k) => {
                let bytes = self.logs()?.get(k)?.map(|o| o.bytes).unwrap_or_default();
                let p = Path::new(k.as_str());
                match source.gzipped() {
                    true => lines(flate2::read::MultiGzDecoder::new(&bytes[..]), p, &mut each)?,
                    false => lines(&bytes[..], p, &mut each)?,
                }
            }
        }
        let stretch = crate::secrets::sha256_hex(format!("{id}\n{from}\n{to:?}"))[..24].to_owned();
        self.add(tally, &stretch, report)
    }

    fn count(&self, text: &str, columns: &mut Columns, tally: &mut Tally, report: &mut Report) {
        report.lines += 1;
        let hit = match parse::line(self.format, text, columns) {
            Line::Hit(h) => h,
            Line::Nothing => return,
            Line::Malformed => {
                report.malformed += 1;
                if report.examples.len() < 5 {
                    report.examples.push(text.chars().take(200).collect());
                }
                return;
            }
        };
        let name = match &hit.whose {
            Whose::Host(h) => h.as_ref(),
            Whose::Key(k) => k.find("sites/").map_or("", |at| {
                let rest = &k[at + "sites/".len()..];
                rest.split('/').next().unwrap_or("")
            }),
        };
        // Each host (or key's tenant) is looked up once per stretch.
        let tenant = match tally.seen.get(name) {
            Some(t) => *t,
            None => {
                let t = self.tenant(&hit.whose, name).map(|id| {
                    tally.tenants.push(id);
                    tally.tenants.len() - 1
                });
                tally.seen.insert(name.to_owned(), t);
                t
            }
        };
        let Some(tenant) = tenant else {
            report.unattributed += 1;
            return;
        };
        report.counted += 1;
        *tally.counts.entry((tenant, hit.day)).or_default() += Month {
            bytes: hit.bytes,
            requests: 1,
        };
    }

    /// The tenant a host is (the one host table), or whose deploy a key is under (`name`: the
    /// key's `sites/{name}/`).
    fn tenant(&self, whose: &Whose, name: &str) -> Option<TenantId> {
        match whose {
            Whose::Host(h) => match self.hosts.resolve(&crate::hosts::normalise(h)?)? {
                Site::Tenant { id, .. } => Some(id.clone()),
                Site::Main => None,
            },
            Whose::Key(_) => {
                let id = TenantId::trusted(name).ok()?;
                let known = self
                    .hosts
                    .iter()
                    .any(|(_, s, _)| matches!(s, Site::Tenant { id: t, .. } if *t == id));
                known.then_some(id)
            }
        }
    }

    /// Adds a stretch's counts to each tenant's months, once (a month that lists the stretch
    /// already has it).
    fn add(&self, tally: Tally, stretch: &str, report: &mut Report) -> Result<()> {
        let mut months: BTreeMap<(TenantId, String), Vec<(String, Month)>> = BTreeMap::new();
        for ((at, day), m) in tally.counts {
            let (tenant, day) = (tally.tenants[at].clone(), day.to_string());
            *report.tenants.entry(tenant.to_string()).or_default() += m;
            months
                .entry((tenant, day[..7].to_owned()))
                .or_default()
                .push((day, m));
        }
        for ((tenant, month), days) in months {
            crate::cas::upsert_json(
                self.store,
                &month_key(&tenant, &month)?,
                |e: &mut EdgeMonth| {
                    if !e.added.insert(stretch.to_owned()) {
                        return Ok(None);
                    }
                    for (day, m) in &days {
                        *e.days.entry(day.clone()).or_default() += *m;
                    }
                    Ok(Some(()))
                },
            )?;
        }
        Ok(())
    }
}

fn lines(r: impl Read, path: &Path, each: &mut dyn FnMut(&str)) -> Result<()> {
    let mut r = std::io::BufReader::new(r);
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).map_err(io(path))? == 0 {
            return Ok(());
        }
        each(&String::from_utf8_lossy(&line));
    }
}

fn save(store: &dyn Store, key: &Key, ledger: &Ledger) -> Result<()> {
    let bytes = crate::cas::to_json_bytes(ledger);
    store.put(key, &bytes, crate::store::Condition::None)?;
    Ok(())
}

fn ledger_key(source: &str) -> Result<Key> {
    let h = crate::secrets::sha256_hex(source);
    Key::new(&format!("stats/_edge/ingested/{}.json", &h[..32]))
}

fn open(p: &Path) -> Result<std::fs::File> {
    std::fs::File::open(p).map_err(io(p))
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: p.display().to_string(),
        source,
    }
}

/// The files a path names: itself, or the files under a folder (sorted, so rotated logs go
/// oldest name first).
pub fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = vec![];
    for e in walkdir::WalkDir::new(path).sort_by_file_name() {
        let e = e.map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
        if e.file_type().is_file() {
            out.push(e.into_path());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
