//! `t8k content import|export`.

use anyhow::Result;
use t8k_core::content::{export, import};
use t8k_core::lifecycle::Installation;

use t8k_core::content::import::{ImportReport, Status};
use t8k_core::content::paths::Generator;

use crate::cli::{ContentCmd, GeneratorArg};
use crate::output;

pub fn run(inst: &Installation, cmd: ContentCmd, json: bool) -> Result<()> {
    match cmd {
        ContentCmd::Import {
            tenant,
            dir,
            prune,
            dry_run,
            skip_invalid,
            generator,
        } => {
            let (_, id) = inst.entry(&tenant)?;
            let opts = import::Options {
                prune,
                dry_run,
                skip_invalid,
                generator: generator.map(|g| match g {
                    GeneratorArg::Hugo => Generator::Hugo,
                    GeneratorArg::Zola => Generator::Zola,
                }),
            };
            let r = import::import(inst.store(), &id, &dir, &opts)?;
            output::emit(json, &r, || print_import(&id, &r));
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

/// Files that were not imported or need a look, then the summary.
fn print_import(id: &impl std::fmt::Display, r: &ImportReport) {
    for f in &r.report {
        let label = match f.status {
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Imported if !f.warnings.is_empty() => "warning",
            Status::Imported => continue,
        };
        println!(
            "{label:>8}  {}: {}",
            f.file,
            f.reason.as_deref().unwrap_or("")
        );
        for w in &f.warnings {
            println!("{:>8}  {}: {w}", "warning", f.file);
        }
    }
    let verb = if r.dry_run {
        "Would import"
    } else {
        "Imported"
    };
    println!(
        "{verb} {} pages ({:?} rules) and {} media files into {id}: {} created, {} updated, {} unchanged, {} deleted; {} skipped, {} warnings, {} errors (content version {}).",
        r.files,
        r.generator,
        r.media,
        r.created.len(),
        r.updated.len(),
        r.unchanged,
        r.deleted.len(),
        r.skipped,
        r.warnings,
        r.errors,
        r.content_version
    );
}
