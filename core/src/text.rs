//! Short free text people type about themselves — a person's name, an organisation, a site
//! name — checked in one place for every path that accepts it (CLI, sign-up, admin API).
//!
//! Such text ends up in mails, page titles and terminals, so it may hold no control
//! characters (a CR/LF would start a new paragraph of a mail that seems to be the platform's
//! own words) and no Unicode bidi controls (which make text read differently from what it is).

use crate::error::{Error, Result};

/// The longest name or organisation accepted, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// Bidi embeddings, overrides and isolates, and the invisible direction marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Trims `input` and checks it is 1–[`MAX_LABEL_CHARS`] characters of printable text on one
/// line. `field` names it in the error (`site name`, `organisation`, `name`).
pub fn label(field: &str, input: &str) -> Result<String> {
    let t = input.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if t.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::invalid(
            field,
            format!("is longer than {MAX_LABEL_CHARS} characters; shorten it"),
        ));
    }
    if let Some(c) = t.chars().find(|&c| c.is_control() || is_bidi_control(c)) {
        return Err(Error::invalid(
            field,
            format!(
                "contains {} (U+{:04X}); give it as plain text on one line",
                if c.is_control() {
                    "a control character such as a line break"
                } else {
                    "a text-direction control character"
                },
                c as u32
            ),
        ));
    }
    Ok(t.to_owned())
}

/// Like [`label`], but empty input is allowed (an optional field left blank).
pub fn optional_label(field: &str, input: &str) -> Result<Option<String>> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    label(field, input).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_trimmed() {
        assert_eq!(label("name", "  Jo Baker ").unwrap(), "Jo Baker");
        assert_eq!(label("name", "Zoë Ångström-李").unwrap(), "Zoë Ångström-李");
        assert_eq!(optional_label("organisation", "  ").unwrap(), None);
    }

    #[test]
    fn line_breaks_controls_and_bidi_overrides_are_refused() {
        for bad in [
            "Jo\r\n\r\nYour account is locked, log in at https://evil.test",
            "Jo\nBaker",
            "Jo\u{7}",
            "Jo\u{202E}rekab",
            "Jo\u{2066}x\u{2069}",
            "\u{200F}Jo",
            "Jo\u{85}Baker",
        ] {
            let e = label("name", bad).unwrap_err().to_string();
            assert!(e.contains("name"), "{e}");
        }
    }

    #[test]
    fn length_is_capped() {
        assert!(label("name", &"a".repeat(MAX_LABEL_CHARS)).is_ok());
        assert!(label("name", &"a".repeat(MAX_LABEL_CHARS + 1)).is_err());
        assert!(label("name", "").is_err());
    }
}
