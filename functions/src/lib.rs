//! t8k-functions: the request side of t8k. Every request is resolved to a tenant from its
//! `Host` header first ([`host`]); the local preview server and the functions share that.

pub mod host;
