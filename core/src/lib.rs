//! t8k-core: everything about an installation that is not rendering and not HTTP.
//!
//! The data root is reached only through [`store::Store`], so the same code runs on a local
//! directory (the embedded default) and on an object store. Registry and config updates are
//! compare-and-swap ([`cas`]); tenant names are validated in one place ([`name`]); each tenant's
//! content lives in its own SQLite database ([`db`]).

pub mod analytics;
pub mod atomic;
pub mod aws;
pub mod backup;
pub mod bandwidth;
pub mod cas;
pub mod certs;
pub mod content;
pub mod db;
pub mod dns;
pub mod edge_logs;
pub mod error;
pub mod growth;
pub mod hosts;
pub mod images;
pub mod key;
pub mod lifecycle;
pub mod name;
pub mod notices;
pub mod password;
pub mod queue;
pub mod quota;
pub mod registry;
pub mod rollout;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod shared;
pub mod ssm;
pub mod store;
pub mod tenant_config;
pub mod text;
pub mod themes;
pub mod timefmt;
pub mod trigger;
pub mod users;

pub use error::{Error, Result};
pub use key::Key;
pub use name::TenantId;
pub use store::{Store, local::LocalStore};
