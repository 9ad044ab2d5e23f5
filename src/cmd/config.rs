//! `t8k config`: the effective settings and where each comes from.

use anyhow::Result;
use t8k_core::lifecycle::Installation;

use crate::output;

pub fn run(inst: &Installation, root: &str, json: bool) -> Result<()> {
    let settings = inst.settings()?;
    output::emit(
        json,
        &serde_json::json!({ "root": root, "settings": settings }),
        || {
            println!("Data root: {root}");
            let rows = settings
                .rows()
                .into_iter()
                .map(|(name, value, source, from)| vec![name, value, source.to_string(), from])
                .collect();
            println!(
                "{}",
                output::table(&["setting", "value", "source", "from"], rows)
            );
        },
    );
    Ok(())
}
