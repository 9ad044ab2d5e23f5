//! A platform rollout: a new theme version moved onto tenants a cohort at a time, each step
//! checked before its tenants go live (`rollouts/{id}.json`, compare-and-swap updated).
//!
//! The document is the rollout's whole memory: which tenants moved, from which version and
//! deploy (so `abort` can put each back), every step's reports, and the step running now. A
//! step is taken by a compare-and-swap that sets `advancing`: of two operators (or two CI
//! runs) advancing at once, one sets it and the other is told who holds it.
//!
//! Cohorts are deterministic: tenants are ranked by SHA-256 of the rollout id and the tenant
//! id, and a step to N% takes the first N% of that ranking. A rerun picks the same tenants,
//! and each step's cohort contains the previous one (moved tenants always stay in).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cas;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::store::{Condition, Store};
use crate::themes;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Steps pass; `advance` takes the next one.
    Running,
    /// A gate stopped a step (or an operator did); `advance` retries, `abort` undoes.
    Halted,
    /// Every tenant of the theme is on the version; the channels name it.
    Completed,
    /// Every moved tenant is back on its previous version and deploy.
    Aborted,
}

impl State {
    pub fn finished(self) -> bool {
        matches!(self, State::Completed | State::Aborted)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rollout {
    pub id: String,
    pub theme: String,
    pub version: u32,
    pub state: State,
    pub created: String,
    pub updated: String,
    /// The share of the theme's tenants reached so far.
    #[serde(default)]
    pub percent: u32,
    pub steps: Vec<Step>,
    /// Tenants moved onto the version, with what they had before.
    #[serde(default)]
    pub moved: BTreeMap<String, Moved>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt: Option<Halt>,
    /// The step being taken now, and by whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advancing: Option<Lease>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// What was asked: `10%`, `tenants acme,harbor`, `channel canary`, `abort`.
    pub target: String,
    pub started: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// The tenants this step added to the cohort.
    pub tenants: Vec<String>,
    /// `passed` or `halted`.
    pub outcome: String,
    /// The builder that took the step (t8k's output version): with the theme's hash, what
    /// decided the bytes of the bundles it published.
    #[serde(default)]
    pub builder: String,
    /// Each new tenant's comparison of the version's bundle with its current one.
    #[serde(default)]
    pub reports: BTreeMap<String, Report>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Moved {
    /// `THEME_VERSION` before the rollout (unset: the tenant followed its channel).
    pub previous_version: Option<u32>,
    /// The deploy that was live before (none: the tenant had never been published there).
    pub previous_deploy: Option<String>,
    /// The deploy the rollout made live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<String>,
    pub step: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Halt {
    pub tenant: Option<String>,
    pub cause: String,
    pub at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Lease {
    pub target: String,
    pub by: String,
    pub started: String,
}

/// A cohort tenant's bundle built with the new version, compared with its current bundle.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// The build failed (the message names the template and line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub pages_before: usize,
    pub pages_after: usize,
    /// Pages (HTML files) only the new bundle has, and only the current one has.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Pages in both whose HTML differs (at most 20 named, all counted).
    pub changed: usize,
    pub changed_pages: Vec<String>,
    /// Site links (`page → link`) that point at nothing in the new bundle and did not before.
    pub broken_links: Vec<String>,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// The structural difference in words: elements gained or lost across the site's pages,
    /// titles changed.
    pub structure: Vec<String>,
}

impl Report {
    /// Why this tenant stops the step, if it does: a failed build, links broken by the new
    /// version, or pages lost.
    pub fn gate(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("the build failed: {e}"));
        }
        if let Some(first) = self.broken_links.first() {
            return Some(format!(
                "{} broken link(s), e.g. {first}",
                self.broken_links.len()
            ));
        }
        if let Some(first) = self.removed.first() {
            return Some(format!("{} page(s) lost, e.g. {first}", self.removed.len()));
        }
        None
    }
}

/// `default@4` → `default-4`.
pub fn id_for(theme: &str, version: u32) -> String {
    format!("{theme}-{version}")
}

pub fn key(id: &str) -> Result<Key> {
    check_id(id)?;
    Key::new(&format!("rollouts/{id}.json"))
}

fn check_id(id: &str) -> Result<()> {
    if crate::key::is_plain(id, 80) {
        return Ok(());
    }
    Err(Error::invalid(
        format!("rollout {id:?}"),
        "rollout ids are THEME-VERSION (e.g. default-4); `t8k rollout status` lists them",
    ))
}

fn missing(id: &str) -> Error {
    Error::invalid(
        format!("rollout '{id}'"),
        "there is no such rollout; `t8k rollout status` lists them",
    )
}

pub fn read(store: &dyn Store, id: &str) -> Result<Rollout> {
    cas::read_json(store, &key(id)?)?
        .map(|(r, _)| r)
        .ok_or_else(|| missing(id))
}

/// Every rollout, newest first.
pub fn list(store: &dyn Store) -> Result<Vec<Rollout>> {
    let mut out: Vec<Rollout> = cas::read_folder(store, &Key::new("rollouts")?)?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    out.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(out)
}

/// The one unfinished rollout, for commands that name none.
pub fn current(store: &dyn Store) -> Result<Rollout> {
    let open: Vec<Rollout> = list(store)?
        .into_iter()
        .filter(|r| !r.state.finished())
        .collect();
    match open.len() {
        1 => Ok(open.into_iter().next().expect("one")),
        0 => Err(Error::invalid(
            "rollout",
            "none is running; `t8k rollout start THEME@VERSION` starts one",
        )),
        _ => Err(Error::invalid(
            "rollout",
            format!(
                "{} are running ({}); name one",
                open.len(),
                open.iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Compare-and-swap update of a rollout (`change` returns `None` to write nothing).
pub fn update<R>(
    store: &dyn Store,
    id: &str,
    mut change: impl FnMut(&mut Rollout) -> Result<Option<R>>,
) -> Result<Option<R>> {
    cas::update_json(
        store,
        &key(id)?,
        || missing(id),
        |r: &mut Rollout| {
            let out = change(r)?;
            if out.is_some() {
                r.updated = crate::timefmt::now_rfc3339();
            }
            Ok(out)
        },
    )
}

/// Creates the rollout of `theme@version` and makes it the theme's one running rollout.
pub fn create(store: &dyn Store, theme: &str, version: u32) -> Result<Rollout> {
    let index = themes::read_index(store, theme)?.ok_or_else(|| themes::no_versions(theme))?;
    index.usable(theme, version)?;
    let id = id_for(theme, version);
    let claimed = themes::update_index(store, theme, |index| match &index.rollout {
        Some(other) if other == &id => Ok(None),
        Some(other) if read(store, other).is_ok_and(|r| !r.state.finished()) => {
            Err(Error::invalid(
                format!("rollout of {theme}@{version}"),
                format!(
                    "rollout '{other}' of the same theme is not finished; advance it to 100% or `t8k rollout abort {other}` first"
                ),
            ))
        }
        _ => {
            index.rollout = Some(id.clone());
            Ok(Some(()))
        }
    })?;
    let now = crate::timefmt::now_rfc3339();
    let rollout = Rollout {
        id: id.clone(),
        theme: theme.to_owned(),
        version,
        state: State::Running,
        created: now.clone(),
        updated: now,
        percent: 0,
        steps: vec![],
        moved: BTreeMap::new(),
        halt: None,
        advancing: None,
    };
    let written = store.put(
        &key(&id)?,
        &cas::to_json_bytes(&rollout),
        Condition::IfAbsent,
    );
    match written {
        Ok(_) => Ok(rollout),
        Err(crate::store::StoreError::PreconditionFailed { .. }) => {
            let existing = read(store, &id)?;
            if claimed.is_some() && existing.state.finished() {
                release(store, &existing)?;
            }
            Err(Error::invalid(
                format!("rollout '{id}'"),
                format!(
                    "it exists already ({}); `t8k rollout status {id}` shows it{}",
                    state_name(existing.state),
                    if existing.state.finished() {
                        format!(
                            "; push a new version and roll that out instead of {theme}@{version}"
                        )
                    } else {
                        "; `t8k rollout advance` goes on with it".into()
                    }
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn state_name(state: State) -> &'static str {
    match state {
        State::Running => "running",
        State::Halted => "halted",
        State::Completed => "completed",
        State::Aborted => "aborted",
    }
}

/// Who runs this process (for a lease): host and process id.
fn me() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "this machine".into());
    format!("{host} pid {}", std::process::id())
}

/// Takes the rollout's next step (`target` says what it is): fails when the rollout is
/// finished or another step is being taken.
pub fn begin(store: &dyn Store, id: &str, target: &str) -> Result<Rollout> {
    let taken = update(store, id, |r| {
        if r.state.finished() {
            return Err(Error::invalid(
                format!("rollout '{id}'"),
                format!("it is {}; nothing more to do", state_name(r.state)),
            ));
        }
        if let Some(lease) = &r.advancing {
            return Err(Error::invalid(
                format!("rollout '{id}'"),
                format!(
                    "another step ({}) is being taken by {} since {}; wait for it (`t8k rollout status {id}`), or `t8k rollout halt {id}` if that process died",
                    lease.target, lease.by, lease.started
                ),
            ));
        }
        r.advancing = Some(Lease {
            target: target.to_owned(),
            by: me(),
            started: crate::timefmt::now_rfc3339(),
        });
        Ok(Some(r.clone()))
    })?;
    Ok(taken.expect("begin always writes"))
}

/// Ends the step being taken; `change` records what it did.
pub fn end(store: &dyn Store, id: &str, mut change: impl FnMut(&mut Rollout)) -> Result<Rollout> {
    let done = update(store, id, |r| {
        r.advancing = None;
        change(r);
        Ok(Some(r.clone()))
    })?;
    let done = done.expect("end always writes");
    if done.state.finished() {
        release(store, &done)?;
    }
    Ok(done)
}

/// Frees the theme for its next rollout.
fn release(store: &dyn Store, r: &Rollout) -> Result<()> {
    themes::update_index(store, &r.theme, |index| {
        if index.rollout.as_deref() != Some(r.id.as_str()) {
            return Ok(None);
        }
        index.rollout = None;
        Ok(Some(()))
    })?;
    Ok(())
}

/// Where a tenant falls in a rollout's ranking (lower moves first).
fn rank(id: &str, tenant: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(tenant.as_bytes());
    h.finalize().into()
}

/// The tenants a step to `percent` adds: of `eligible` (every tenant of the theme that can
/// move), the first `ceil(percent% of all)` by rank, less those already `moved`.
pub fn cohort(
    id: &str,
    eligible: &[String],
    moved: &BTreeSet<String>,
    percent: u32,
) -> Vec<String> {
    let total = eligible.len() + moved.iter().filter(|m| !eligible.contains(m)).count();
    let want = (total * percent as usize).div_ceil(100);
    let mut ranked: Vec<&String> = eligible.iter().collect();
    ranked.sort_by_key(|t| rank(id, t));
    let mut out: Vec<String> = ranked
        .into_iter()
        .filter(|t| !moved.contains(*t))
        .take(want.saturating_sub(moved.len()))
        .cloned()
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i:02}")).collect()
    }

    #[test]
    fn cohorts_are_stable_and_grow() {
        let all = tenants(40);
        let first = cohort("default-2", &all, &BTreeSet::new(), 10);
        assert_eq!(first.len(), 4);
        assert_eq!(first, cohort("default-2", &all, &BTreeSet::new(), 10));
        let moved: BTreeSet<String> = first.iter().cloned().collect();
        let next = cohort("default-2", &all, &moved, 50);
        assert_eq!(next.len(), 16);
        assert!(next.iter().all(|t| !moved.contains(t)));
        // The same as taking 50% at once: the ranking does not change between steps.
        let at_once = cohort("default-2", &all, &BTreeSet::new(), 50);
        let mut union: Vec<String> = first.into_iter().chain(next).collect();
        union.sort();
        assert_eq!(union, at_once);
        assert_ne!(at_once, cohort("default-3", &all, &BTreeSet::new(), 50));
        let rest = cohort("default-2", &all, &at_once.iter().cloned().collect(), 100);
        assert_eq!(rest.len(), 20);
    }

    #[test]
    fn gates_name_the_cause() {
        let ok = Report::default();
        assert_eq!(ok.gate(), None);
        let links = Report {
            broken_links: vec!["/a/ → /b.html".into()],
            ..Report::default()
        };
        assert!(links.gate().unwrap().contains("broken link"));
        let lost = Report {
            removed: vec!["all/page/2/index.html".into()],
            ..Report::default()
        };
        assert!(lost.gate().unwrap().contains("lost"));
    }

    #[test]
    fn one_step_at_a_time() {
        let (_dir, store) = crate::store::temp();
        let files = vec![("theme.toml".to_owned(), b"name = \"t\"".to_vec())];
        themes::push(store.as_ref(), "t", &files).unwrap();
        let r = create(store.as_ref(), "t", 1).unwrap();
        assert!(create(store.as_ref(), "t", 1).is_err(), "exists");
        begin(store.as_ref(), &r.id, "10%").unwrap();
        let err = begin(store.as_ref(), &r.id, "50%").unwrap_err().to_string();
        assert!(err.contains("being taken"), "{err}");
        end(store.as_ref(), &r.id, |r| r.state = State::Completed).unwrap();
        let index = themes::read_index(store.as_ref(), "t").unwrap().unwrap();
        assert_eq!(index.rollout, None, "a finished rollout frees its theme");
        assert!(begin(store.as_ref(), &r.id, "50%").is_err(), "finished");
    }
}
