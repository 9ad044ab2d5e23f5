//! What the platform's operators are doing to every site: maintenance notices current and
//! upcoming, and rollouts not finished.

use serde::Serialize;
use t8k_core::lifecycle::Installation;
use t8k_core::notices::{Audience, Notice, Phase};
use t8k_core::rollout;

#[derive(Clone, Debug, Serialize)]
pub struct NoticeLine {
    pub id: String,
    pub message: String,
    pub starts: String,
    pub ends: String,
    pub phase: Phase,
    /// The tenants it concerns; `None`: every tenant.
    pub tenants: Option<Vec<String>>,
    pub banner: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct RolloutLine {
    pub id: String,
    pub state: &'static str,
    pub percent: u32,
    pub moved: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halt: Option<String>,
}

/// The notices not over at `now`.
pub fn notices(all: &[Notice], now: time::OffsetDateTime) -> Vec<NoticeLine> {
    all.iter()
        .filter(|n| n.phase(now) != Phase::Over)
        .map(|n| NoticeLine {
            id: n.id.clone(),
            message: n.message.clone(),
            starts: n.starts.clone(),
            ends: n.ends.clone(),
            phase: n.phase(now),
            tenants: match &n.audience {
                Audience::All => None,
                Audience::Tenants(t) => Some(t.clone()),
            },
            banner: n.banner,
        })
        .collect()
}

/// A tenant's notices not over, as one line each (`Database upgrade (current, until …)`).
pub fn of_tenant(all: &[NoticeLine], tenant: &str) -> Vec<String> {
    all.iter()
        .filter(|n| {
            n.tenants
                .as_ref()
                .is_none_or(|t| t.iter().any(|x| x == tenant))
        })
        .map(|n| match n.phase {
            Phase::Current => format!("maintenance now: {} (until {})", n.message, n.ends),
            _ => format!("maintenance {}: {}", n.starts, n.message),
        })
        .collect()
}

/// Rollouts running or halted.
pub fn rollouts(inst: &Installation) -> t8k_core::Result<Vec<RolloutLine>> {
    Ok(rollout::list(inst.store())?
        .into_iter()
        .filter(|r| !r.state.finished())
        .map(|r| RolloutLine {
            state: rollout::state_name(r.state),
            percent: r.percent,
            moved: r.moved.len(),
            halt: r.halt.map(|h| match h.tenant {
                Some(t) => format!("at '{t}': {}", h.cause),
                None => h.cause,
            }),
            id: r.id,
        })
        .collect())
}
