//! Output for people (tables, sentences) and for scripts (`--json`).

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("output values serialise")
    );
}

pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t
}

/// Prints JSON when asked, else the human form.
pub fn emit<T: Serialize>(as_json: bool, value: &T, human: impl FnOnce()) {
    if as_json { json(value) } else { human() }
}

/// A spinner on stderr with `template` (indicatif), hidden with --json (and off a terminal).
pub fn spinner(as_json: bool, template: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let target = match as_json {
        true => ProgressDrawTarget::hidden(),
        false => ProgressDrawTarget::stderr(),
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(ProgressStyle::with_template(template).expect("our templates are valid"));
    bar
}
