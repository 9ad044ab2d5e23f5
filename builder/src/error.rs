//! Builder errors. Each names the tenant, page or theme file at fault.

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("theme '{theme}': {message}")]
    Theme { theme: String, message: String },
    #[error("tenant '{tenant}', page '{page}': {message}")]
    Page {
        tenant: String,
        page: String,
        message: String,
    },
    #[error("tenant '{tenant}': {source}")]
    Tenant {
        tenant: String,
        source: t8k_core::Error,
    },
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl BuildError {
    /// The I/O error of an operation on `path`, naming it.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
        move |source| BuildError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A Tera error with its causes, which carry the useful part ("--> 2:4 ...").
pub use t8k_core::error::chain;
