//! Each site's build and publish attempts, oldest first, in `{out}/{tenant}.history.jsonl` next
//! to its bundle — what `t8k report` reads for "last build failed" and failure counts.
//!
//! One JSON line per attempt, appended with `O_APPEND` (concurrent builds of one site never
//! interleave lines), so a crash can at worst leave a torn last line, which readers skip.
//! Skipped builds (unchanged fingerprint) are not attempts and are not written. The file is cut
//! back to the newest [`KEEP`] lines once it passes [`TRIM_AT`]; an attempt appended by another
//! process during that rewrite can be lost (history is advisory; bundles and deploys are not).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Lines kept by a trim.
pub const KEEP: usize = 100;
/// Lines past which an append trims the file.
pub const TRIM_AT: usize = 2 * KEEP;
/// Error messages are cut to this many characters (a whole template dump helps nobody).
const ERROR_CHARS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Build,
    Publish,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Build => "build",
            Stage::Publish => "publish",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub stage: Stage,
    /// RFC 3339, UTC.
    pub at: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A successful build's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<crate::weight::BuildMetrics>,
}

impl Attempt {
    pub fn now(stage: Stage, result: Result<(), &str>) -> Attempt {
        Attempt {
            stage,
            at: t8k_core::timefmt::now_rfc3339(),
            ok: result.is_ok(),
            error: result.err().map(|e| e.chars().take(ERROR_CHARS).collect()),
            metrics: None,
        }
    }
}

fn path(out: &Path, site: &str) -> PathBuf {
    out.join(format!("{site}.history.jsonl"))
}

/// Appends one attempt (creating `out` and the file as needed).
pub fn append(out: &Path, site: &str, attempt: &Attempt) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let file = path(out, site);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(&file)?;
    // After a torn line, start a fresh one so this attempt is not glued to the garbage.
    let mut line = if ends_mid_line(&mut f)? {
        vec![b'\n']
    } else {
        vec![]
    };
    serde_json::to_writer(&mut line, attempt).expect("attempts serialise");
    line.push(b'\n');
    f.write_all(&line)?;
    let lines = read(out, site);
    if lines.len() > TRIM_AT {
        trim(&file, &lines[lines.len() - KEEP..])?;
    }
    Ok(())
}

fn ends_mid_line(f: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if f.metadata()?.len() == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Rewrites the file with `keep` through a temporary file and a rename (never half a file).
fn trim(file: &Path, keep: &[Attempt]) -> std::io::Result<()> {
    let mut body = vec![];
    for a in keep {
        serde_json::to_writer(&mut body, a).expect("attempts serialise");
        body.push(b'\n');
    }
    t8k_core::atomic::write_file(file, &body)
}

/// Every readable attempt, oldest first; a missing file is an empty history.
pub fn read(out: &Path, site: &str) -> Vec<Attempt> {
    let Ok(text) = std::fs::read_to_string(path(out, site)) else {
        return vec![];
    };
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The latest attempt of `stage`, if that one failed.
pub fn last_failure(history: &[Attempt], stage: Stage) -> Option<&Attempt> {
    history
        .iter()
        .rev()
        .find(|a| a.stage == stage)
        .filter(|a| !a.ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_append_in_order_and_the_file_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("build");
        append(&out, "acme", &Attempt::now(Stage::Build, Err("bad theme"))).unwrap();
        let h = read(&out, "acme");
        assert_eq!(
            last_failure(&h, Stage::Build).unwrap().error.as_deref(),
            Some("bad theme")
        );
        assert!(last_failure(&h, Stage::Publish).is_none());
        append(&out, "acme", &Attempt::now(Stage::Build, Ok(()))).unwrap();
        assert!(
            last_failure(&read(&out, "acme"), Stage::Build).is_none(),
            "fixed since"
        );

        for _ in 0..TRIM_AT {
            append(&out, "acme", &Attempt::now(Stage::Publish, Ok(()))).unwrap();
        }
        let h = read(&out, "acme");
        assert!(h.len() <= TRIM_AT && h.len() >= KEEP, "{}", h.len());
        assert!(
            h.iter().all(|a| a.stage == Stage::Publish),
            "oldest dropped first"
        );
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_long_errors_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let long = "x".repeat(5000);
        append(dir.path(), "acme", &Attempt::now(Stage::Build, Err(&long))).unwrap();
        let file = path(dir.path(), "acme");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(br#"{"stage":"build","at":"2026-"#).unwrap();
        let h = read(dir.path(), "acme");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].error.as_ref().unwrap().len(), ERROR_CHARS);
        append(dir.path(), "acme", &Attempt::now(Stage::Build, Ok(()))).unwrap();
        let h = read(dir.path(), "acme");
        assert_eq!(h.len(), 2, "the attempt after the torn line is kept");
        assert!(h[1].ok);
    }
}
