//! Checking a repository: every object each snapshot names exists, and with `full` it reads
//! back (decrypts) to the bytes its name is the hash of. Each object is checked once however
//! many snapshots share it; every damage is named with a snapshot that needs the object.

use std::collections::HashMap;

use serde::Serialize;

use super::Repo;
use crate::Result;

#[derive(Clone, Debug, Serialize)]
pub struct Damage {
    pub tenant: String,
    pub snapshot: String,
    pub object: String,
    pub problem: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Verified {
    pub snapshots: usize,
    pub objects: usize,
    pub damage: Vec<Damage>,
}

impl Repo {
    pub fn verify(&self, full: bool, mut progress: impl FnMut(u64)) -> Result<Verified> {
        let present = self.known()?;
        let mut checked: HashMap<String, Option<String>> = HashMap::new();
        let mut out = Verified::default();
        for s in self.list(None)? {
            let m = match self.manifest(&s.tenant, &s.id) {
                Ok(m) => m,
                Err(e) => {
                    out.damage.push(Damage {
                        tenant: s.tenant,
                        snapshot: s.id,
                        object: "manifest".into(),
                        problem: e.to_string(),
                    });
                    continue;
                }
            };
            out.snapshots += 1;
            for chunk in m.files.iter().flat_map(|f| &f.chunks) {
                let problem = checked.entry(chunk.clone()).or_insert_with(|| {
                    progress(1);
                    if !present.has(chunk) {
                        Some("missing".to_owned())
                    } else if full {
                        self.get_chunk(&m.id, chunk).err().map(|e| e.to_string())
                    } else {
                        None
                    }
                });
                if let Some(p) = problem {
                    out.damage.push(Damage {
                        tenant: m.tenant.clone(),
                        snapshot: m.id.clone(),
                        object: chunk.clone(),
                        problem: p.clone(),
                    });
                }
            }
        }
        out.objects = checked.len();
        Ok(out)
    }
}
