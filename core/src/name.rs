//! Tenant names: the one place where they are validated (the CLI and the sign-up function both
//! call [`validate`]). A name becomes a DNS label (`acme.example.com`), a folder name and part
//! of object keys, so it is held to the strictest of those: LDH (letters, digits, hyphen)
//! lowercase ASCII. Input is trimmed and lowercased; anything else that would be needed to make
//! it valid is refused, never silently changed, and the error names the rule.

use std::fmt;
use std::sync::OnceLock;

/// The reserved-names list shipped in `config/reserved-names.txt`.
const RESERVED_TXT: &str = include_str!("../../config/reserved-names.txt");

pub const DEFAULT_MIN_LEN: usize = 3;
pub const DEFAULT_MAX_LEN: usize = 32;
/// A DNS label cannot be longer (RFC 1035).
pub const HARD_MAX_LEN: usize = 63;

/// A validated tenant id. The only way to get one is [`validate`] (or [`TenantId::trusted`] for
/// ids read back from the registry, which were validated when they were written).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For ids the registry already holds: checks the character rules (so no key can be built
    /// from a hand-edited registry entry like `../x`) without the reserved-name and length
    /// policy, which may have changed since the tenant was created.
    pub fn trusted(id: &str) -> Result<TenantId, NameError> {
        check_chars(id)?;
        check_hyphens(id)?;
        if id.is_empty() || id.len() > HARD_MAX_LEN {
            return Err(NameError::new(
                Rule::Length,
                id,
                format!("must be 1–{HARD_MAX_LEN} characters"),
            ));
        }
        Ok(TenantId(id.to_owned()))
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which rule a name broke; stable identifiers for the sign-up function's JSON errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Empty,
    Length,
    Characters,
    Hyphen,
    Punycode,
    Reserved,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Empty => "empty",
            Rule::Length => "length",
            Rule::Characters => "characters",
            Rule::Hyphen => "hyphen",
            Rule::Punycode => "punycode",
            Rule::Reserved => "reserved",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("name {input:?} is not allowed ({rule}): {message}", rule = rule.as_str())]
pub struct NameError {
    pub rule: Rule,
    pub input: String,
    pub message: String,
}

impl NameError {
    fn new(rule: Rule, input: &str, message: String) -> NameError {
        NameError {
            rule,
            input: input.to_owned(),
            message,
        }
    }
}

/// Length bounds for new names (`tenant_name_min_length` / `tenant_name_max_length` in the
/// registry).
#[derive(Clone, Copy, Debug)]
pub struct NamePolicy {
    pub min_len: usize,
    pub max_len: usize,
}

impl Default for NamePolicy {
    fn default() -> Self {
        NamePolicy {
            min_len: DEFAULT_MIN_LEN,
            max_len: DEFAULT_MAX_LEN,
        }
    }
}

impl NamePolicy {
    /// Checks configured bounds, so a bad registry setting is reported as such.
    pub fn new(min_len: usize, max_len: usize) -> Result<NamePolicy, String> {
        if !(1..=HARD_MAX_LEN).contains(&max_len) {
            return Err(format!(
                "tenant_name_max_length is {max_len}; it must be 1–{HARD_MAX_LEN} (a DNS label's limit)"
            ));
        }
        if min_len == 0 || min_len > max_len {
            return Err(format!(
                "tenant_name_min_length is {min_len}; it must be 1–{max_len} (at most tenant_name_max_length)"
            ));
        }
        Ok(NamePolicy { min_len, max_len })
    }
}

pub fn reserved_names() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        RESERVED_TXT
            .lines()
            .map(|l| {
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|l| !l.is_empty())
            .collect()
    })
}

pub fn is_reserved(name: &str) -> bool {
    reserved_names().iter().any(|r| r == name)
}

/// Validates a proposed tenant name: trims, lowercases, then checks every rule.
pub fn validate(input: &str, policy: NamePolicy) -> Result<TenantId, NameError> {
    // ASCII-only lowercasing: Unicode case folding would turn look-alikes such as the Kelvin
    // sign into ASCII letters, a silent change the rules forbid.
    let name = input.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(NameError::new(
            Rule::Empty,
            input,
            "a name is required".into(),
        ));
    }
    check_chars(&name).map_err(|e| NameError {
        input: input.to_owned(),
        ..e
    })?;
    let len = name.len();
    if len < policy.min_len || len > policy.max_len {
        return Err(NameError::new(
            Rule::Length,
            input,
            format!(
                "it has {len} characters; use {}–{}",
                policy.min_len, policy.max_len
            ),
        ));
    }
    check_hyphens(&name).map_err(|e| NameError {
        input: input.to_owned(),
        ..e
    })?;
    if name.starts_with("xn--") {
        return Err(NameError::new(
            Rule::Punycode,
            input,
            "names starting with `xn--` are punycode (internationalised) labels and can impersonate other names".into(),
        ));
    }
    if is_reserved(&name) {
        return Err(NameError::new(
            Rule::Reserved,
            input,
            format!("`{name}` is reserved for the platform; choose another name"),
        ));
    }
    Ok(TenantId(name))
}

fn check_chars(name: &str) -> Result<(), NameError> {
    let Some((pos, bad)) = name
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    else {
        return Ok(());
    };
    let hint = match bad {
        ' ' | '\t' => "spaces are not allowed; use a hyphen".to_owned(),
        '_' => "underscores are not allowed in host names; use a hyphen".to_owned(),
        '.' => "dots would make it a sub-subdomain; use a hyphen".to_owned(),
        c if c.is_ascii_uppercase() => "use lowercase letters".to_owned(),
        c if !c.is_ascii() => format!(
            "{c:?} (U+{:04X}) is not an ASCII letter; only a–z, 0–9 and hyphens are allowed (look-alike letters from other scripts are refused)",
            c as u32
        ),
        c => format!("{c:?} is not allowed; only a–z, 0–9 and hyphens are"),
    };
    let column = name[..pos].chars().count() + 1;
    Err(NameError::new(
        Rule::Characters,
        name,
        format!("character {column}: {hint}"),
    ))
}

fn check_hyphens(name: &str) -> Result<(), NameError> {
    if name.starts_with('-') || name.ends_with('-') {
        return Err(NameError::new(
            Rule::Hyphen,
            name,
            "a name cannot start or end with a hyphen".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(input: &str) -> Rule {
        validate(input, NamePolicy::default()).unwrap_err().rule
    }

    #[test]
    fn accepts_good_names_and_normalises_case_and_space() {
        assert_eq!(
            validate("acme", NamePolicy::default()).unwrap().as_str(),
            "acme"
        );
        assert_eq!(
            validate("  Acme-Bakery2 \n", NamePolicy::default())
                .unwrap()
                .as_str(),
            "acme-bakery2"
        );
        assert_eq!(
            validate("a1-b2", NamePolicy::default()).unwrap().as_str(),
            "a1-b2"
        );
        assert_eq!(
            validate("123", NamePolicy::default()).unwrap().as_str(),
            "123"
        );
    }

    #[test]
    fn empty_and_blank() {
        assert_eq!(rule(""), Rule::Empty);
        assert_eq!(rule("   "), Rule::Empty);
    }

    #[test]
    fn length_bounds() {
        assert_eq!(rule("ab"), Rule::Length);
        assert_eq!(rule(&"a".repeat(33)), Rule::Length);
        assert!(validate(&"a".repeat(32), NamePolicy::default()).is_ok());
        let wide = NamePolicy::new(1, 63).unwrap();
        assert!(validate(&"a".repeat(63), wide).is_ok());
        assert_eq!(
            validate(&"a".repeat(64), wide).unwrap_err().rule,
            Rule::Length
        );
        assert!(NamePolicy::new(3, 64).is_err());
        assert!(NamePolicy::new(10, 5).is_err());
        assert!(NamePolicy::new(0, 5).is_err());
    }

    #[test]
    fn characters_never_silently_altered() {
        for bad in [
            "acme corp",
            "acme_corp",
            "acme.corp",
            "acme!",
            "ac/me",
            "ac\0me",
        ] {
            assert_eq!(rule(bad), Rule::Characters, "{bad:?}");
        }
        let err = validate("acme_corp", NamePolicy::default()).unwrap_err();
        assert!(
            err.message.contains("character 5") && err.message.contains("underscore"),
            "{}",
            err.message
        );
    }

    #[test]
    fn unicode_look_alikes_are_refused() {
        // Cyrillic 'а' (U+0430), fullwidth 'Ａ', Turkish dotless 'ı', Kelvin sign 'K' (lowercases to ASCII k!).
        for bad in ["аcme", "Ａcme", "acmeı", "café"] {
            let err = validate(bad, NamePolicy::default()).unwrap_err();
            assert_eq!(err.rule, Rule::Characters, "{bad:?}");
            assert!(err.message.contains("U+"), "{}", err.message);
        }
        // The Kelvin sign lowercases to ASCII 'k' under Unicode rules: that is a silent change,
        // so it must be refused rather than accepted as "kelvin".
        assert_eq!(rule("\u{212A}elvin"), Rule::Characters);
    }

    #[test]
    fn hyphens_and_punycode() {
        assert_eq!(rule("-acme"), Rule::Hyphen);
        assert_eq!(rule("acme-"), Rule::Hyphen);
        assert_eq!(rule("xn--80ak6aa92e"), Rule::Punycode);
        assert_eq!(rule("XN--abc"), Rule::Punycode);
        assert!(validate("ab--cd", NamePolicy::default()).is_ok());
    }

    #[test]
    fn reserved_names_from_the_shipped_list() {
        for r in [
            "www", "api", "admin", "app", "auth", "login", "mail", "smtp", "ns1", "cdn", "static",
            "assets", "sandbox", "status", "docs", "help", "support", "billing", "t8k", "default",
        ] {
            assert_eq!(rule(r), Rule::Reserved, "{r}");
        }
        assert_eq!(rule(" WWW "), Rule::Reserved);
        assert!(!is_reserved("acme"));
    }

    #[test]
    fn trusted_ids_still_cannot_escape() {
        assert!(TenantId::trusted("../etc").is_err());
        assert!(TenantId::trusted("a/b").is_err());
        assert!(TenantId::trusted("default").is_ok());
    }
}
