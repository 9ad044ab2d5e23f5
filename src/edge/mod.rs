//! Edge configurations made from the one host table: `routes.json` (every public host → its
//! site's live deploy and whether the tenant is active, written by publish and by every
//! registry change) and the certificates of `certs/`. What an edge reads is this generated
//! output only — never the data root.

pub mod caddy;
pub mod cloudfront;
pub mod kvs_sync;
pub mod nginx;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use t8k_core::certs;
use t8k_core::key::Key;
use t8k_core::lifecycle::Installation;
use t8k_core::routes::{Route, Routes, routes_key};
use t8k_core::store::Store;

/// What every edge is made from.
pub struct Table {
    /// Public host → route, sorted by host.
    pub routes: Vec<(String, Route)>,
    /// Host → its site's aliases (from → to paths), for a 301 at the edge.
    pub redirects: Vec<(String, Arc<Vec<Redirect>>)>,
    /// Certificates for hosts that route (custom domains) and the subdomains' wildcard.
    pub certs: Vec<Cert>,
}

pub struct Cert {
    /// File stem under `certs/` in the output (the name under `certs/` in the data root).
    pub name: String,
    /// The names it serves, as a web server's `server_name` wants them.
    pub hosts: Vec<String>,
    pub chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// An alias of an imported page: `from` answers with a 301 to `to` (both site paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub from: String,
    pub to: String,
}

/// A path safe to write into a server configuration: `/`, then letters, digits and `-_.~+/`.
fn plain_path(p: &str) -> bool {
    p.starts_with('/')
        && p.chars()
            .all(|c| c.is_alphanumeric() || "-_.~+/".contains(c))
}

/// The `_redirects` of a deploy (`/old/ /new/ 301` lines, written by the builder for
/// aliases); lines in any other shape are left out.
fn parse_redirects(text: &str) -> Vec<Redirect> {
    text.lines()
        .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            [from, to, "301"] if plain_path(from) && plain_path(to) => Some(Redirect {
                from: from.to_owned(),
                to: to.to_owned(),
            }),
            _ => None,
        })
        .collect()
}

/// The aliases of each deploy read so far. A deploy never changes, so a watching edge reads
/// a site's `_redirects` once per deploy, not on every regeneration.
#[derive(Default)]
pub struct RedirectCache(HashMap<String, Arc<Vec<Redirect>>>);

impl RedirectCache {
    fn of(&mut self, bundles: &dyn Store, route: &Route) -> Result<Arc<Vec<Redirect>>> {
        let prefix = Table::prefix(route);
        if let Some(found) = self.0.get(&prefix) {
            return Ok(found.clone());
        }
        let key = Key::new(&format!("sites/{prefix}/_redirects"))?;
        let text = bundles
            .get(&key)?
            .map(|o| String::from_utf8_lossy(&o.bytes).into_owned())
            .unwrap_or_default();
        let found = Arc::new(parse_redirects(&text));
        self.0.insert(prefix, found.clone());
        Ok(found)
    }
}

impl Table {
    /// Reads `routes.json` from the bundle store, the aliases of each live deploy (through
    /// `cache`) and the certificates from the data root.
    pub fn read(
        inst: &Installation,
        bundles: &dyn Store,
        cache: &mut RedirectCache,
    ) -> Result<Table> {
        let mut routes = t8k_core::cas::read_json::<Routes>(bundles, &routes_key())?
            .map(|(r, _)| r)
            .unwrap_or_default()
            .routes;
        // A bandwidth mark left from a month that has ended does nothing (`usage check`
        // lifts it; until then the generated configuration already ignores it).
        let now = t8k_core::timefmt::now();
        for r in routes.values_mut() {
            r.over = r.over.take().filter(|o| o.in_force(now));
        }
        let mut out = vec![];
        for name in certs::names(inst.store())? {
            let hosts = match name.strip_prefix("_wildcard.") {
                Some(d) => vec![d.to_owned(), format!("*.{d}")],
                None if routes.contains_key(&name) => vec![name.clone()],
                None => continue, // its domain no longer routes here
            };
            let Some(stored) = certs::load(inst.store(), &name)? else {
                continue;
            };
            out.push(Cert {
                name,
                hosts,
                chain_pem: stored.chain_pem,
                key_pem: stored.key_pem,
            });
        }
        let mut redirects = vec![];
        for (host, route) in &routes {
            let found = cache.of(bundles, route)?;
            if !found.is_empty() {
                redirects.push((host.clone(), found));
            }
        }
        let routes = routes.into_iter().collect();
        Ok(Table {
            routes,
            redirects,
            certs: out,
        })
    }

    /// A route's bundle prefix under `sites/`: `{tenant}/{deploy}`.
    pub fn prefix(route: &Route) -> String {
        format!("{}/{}", route.tenant, route.deploy)
    }
}

/// One generated file, relative to the output folder.
pub struct Output {
    pub rel: String,
    pub bytes: Vec<u8>,
    /// A private key: readable by its owner only.
    pub private: bool,
}

impl Output {
    pub fn text(rel: impl Into<String>, text: String) -> Output {
        Output {
            rel: rel.into(),
            bytes: text.into_bytes(),
            private: false,
        }
    }
}

/// The certificate files of `table` under `certs/` (`{name}.crt`, `{name}.key`).
pub fn cert_files(table: &Table) -> Vec<Output> {
    table
        .certs
        .iter()
        .flat_map(|c| {
            [
                Output {
                    rel: format!("certs/{}.crt", c.name),
                    bytes: c.chain_pem.clone(),
                    private: false,
                },
                Output {
                    rel: format!("certs/{}.key", c.name),
                    bytes: c.key_pem.clone(),
                    private: true,
                },
            ]
        })
        .collect()
}

/// The pages an edge answers with when no bundle can (the same as `t8k serve`'s).
pub fn pages() -> Vec<Output> {
    use crate::serve::pages;
    vec![
        Output::text(
            "pages/unknown-host.html",
            pages::page(
                "Site not found",
                "No site is hosted at this address. Check the address.",
            ),
        ),
        Output::text(
            "pages/unavailable.html",
            pages::page(
                "Site unavailable",
                "This site is unavailable at the moment. Please come back later.",
            ),
        ),
        Output::text(
            "pages/bandwidth.html",
            pages::page(
                "Bandwidth limit reached",
                "This site has used this month's bandwidth. It will be back when the month \
                 turns, or sooner if its limit is raised.",
            ),
        ),
    ]
}

/// Writes `outputs` under `dir`, each file atomically, and removes certificate files that are
/// no longer generated. Returns whether anything changed.
pub fn write(dir: &Path, outputs: &[Output]) -> Result<bool> {
    use t8k_core::atomic::{Readers, write_file_as};
    let mut changed = false;
    for o in outputs {
        let path = dir.join(&o.rel);
        if std::fs::read(&path).is_ok_and(|old| old == o.bytes) {
            continue;
        }
        let readers = if o.private {
            Readers::Owner
        } else {
            Readers::Everyone
        };
        write_file_as(&path, &o.bytes, readers)
            .with_context(|| format!("cannot write {}", path.display()))?;
        changed = true;
    }
    let keep: Vec<PathBuf> = outputs.iter().map(|o| dir.join(&o.rel)).collect();
    if let Ok(old) = std::fs::read_dir(dir.join("certs")) {
        for f in old.flatten().map(|e| e.path()) {
            if !keep.contains(&f) {
                std::fs::remove_file(&f)
                    .with_context(|| format!("cannot remove {}", f.display()))?;
                changed = true;
            }
        }
    }
    Ok(changed)
}

/// A string as a double-quoted literal for nginx or Caddy (hosts and paths are validated
/// already; this keeps a path with spaces one argument).
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_301_lines_become_redirects() {
        let r = parse_redirects(
            "/old/ /new/ 301\n/a/ /b/ 302\n/x\"; /y/ 301\n/café/ /ok/ 301\nnot a line\n",
        );
        let from: Vec<&str> = r.iter().map(|r| r.from.as_str()).collect();
        assert_eq!(from, ["/old/", "/café/"]);
    }
}
