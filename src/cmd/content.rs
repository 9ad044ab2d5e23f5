//! `t8k content import|export`.

use anyhow::Result;
use t8k_core::content::{export, import};
use t8k_core::lifecycle::Installation;

use crate::cli::ContentCmd;
use crate::output;

pub fn run(inst: &Installation, cmd: ContentCmd, json: bool) -> Result<()> {
    match cmd {
        ContentCmd::Import { tenant, dir, prune } => {
            let (_, id) = inst.entry(&tenant)?;
            let r = import::import(inst.store(), &id, &dir, prune)?;
            output::emit(json, &r, || {
                println!(
                    "Imported {} files into {id}: {} created, {} updated, {} unchanged, {} deleted (content version {}).",
                    r.files,
                    r.created.len(),
                    r.updated.len(),
                    r.unchanged,
                    r.deleted.len(),
                    r.content_version
                );
            });
        }
        ContentCmd::Export { tenant, dir, force } => {
            let (_, id) = inst.entry(&tenant)?;
            let r = export::export(inst.store(), &id, &dir, force)?;
            output::emit(json, &r, || {
                println!(
                    "Exported {} story fragments of {id} to {}.",
                    r.files.len(),
                    r.dir
                )
            });
        }
    }
    Ok(())
}
