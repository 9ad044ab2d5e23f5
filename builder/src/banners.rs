//! Maintenance banners: the notices marked `--banner` that concern a site and are current as it
//! builds ([`t8k_core::notices`]). Themes show them from `site.notices`; they are part of the
//! site's fingerprint, so a banner that starts or ends makes the next `--changed` build render
//! the site again.

use serde::Serialize;
use t8k_core::notices::Notice;
use time::OffsetDateTime;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Banner {
    pub id: String,
    pub message: String,
    /// RFC 3339, UTC.
    pub starts: String,
    pub ends: String,
}

/// The banners `tenant`'s site shows at `now`, by start time.
pub fn for_site(notices: &[Notice], tenant: &str, now: OffsetDateTime) -> Vec<Banner> {
    notices
        .iter()
        .filter(|n| n.banner_for(tenant, now))
        .map(|n| Banner {
            id: n.id.clone(),
            message: n.message.clone(),
            starts: n.starts.clone(),
            ends: n.ends.clone(),
        })
        .collect()
}

/// The banners as fingerprint input.
pub fn digest(banners: &[Banner]) -> Vec<u8> {
    serde_json::to_vec(banners).expect("banners serialise")
}
