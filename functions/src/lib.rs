//! t8k-functions: the request side of t8k — small handlers for sign-up, auth, quotas and
//! content, as one axum router. Every request is resolved to a tenant from its `Host` first
//! ([`host`]); errors are JSON with the right status ([`error`]).

pub mod admin;
pub mod admin_ui;
pub mod auth;
pub mod backups;
pub mod bandwidth;
pub mod beacon;
pub mod body;
pub mod cache;
pub mod chart;
pub mod client;
pub mod content;
pub mod dashboard;
pub mod domains;
pub mod edge;
pub mod error;
pub mod guard;
pub mod host;
pub mod iam;
pub mod lambda;
pub mod lambda_build;
pub mod limits;
pub mod mail;
pub mod media;
pub mod menus;
pub mod notices;
pub mod operator;
pub mod origin;
pub mod page;
pub mod publish;
pub mod quota;
pub mod register;
pub mod report;
pub mod router;
pub mod state;
pub mod token;
pub mod trace;
pub mod trigger;
pub mod users;
pub mod watch;

pub use router::{api, app};
pub use state::{AppState, Shared};
