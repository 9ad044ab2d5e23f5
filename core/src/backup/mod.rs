//! Per-tenant backups into a repository kept apart from the data root (a folder or an
//! `s3://bucket/prefix`, usually at another provider), in the manner of restic:
//!
//! ```text
//! config.json                     version, chunk sizes, encryption (and its public recipient)
//! keys/identity.age               the repository's age identity, sealed with the passphrase
//! objects/{h2}/{sha256}           file contents in content-defined chunks, named by the SHA-256
//!                                 of their plain bytes, each stored once for every snapshot
//!                                 and tenant (age-encrypted when the repository is)
//! snapshots/{tenant}/{id}.json    one snapshot's manifest, written last (so a backup cut short
//!                                 leaves no snapshot, only objects the next run reuses)
//! locks/{kind}-{id}.json          a backup or prune in progress (they exclude each other)
//! ```
//!
//! [`snapshot`] takes a tenant's snapshot, [`restore`] brings one back (in place, through the
//! trash, or as a new tenant), [`forget`] applies a retention policy and prunes, [`verify`]
//! checks objects; [`schedule`] decides which tenants are due.

pub mod chunks;
pub mod crypt;
pub mod forget;
pub mod lock;
pub mod restore;
pub mod schedule;
pub mod snapshot;
pub mod verify;

use serde::{Deserialize, Serialize};

use crate::cas::{read_json, to_json_bytes};
use crate::key::Key;
use crate::store::{Condition, Store, StoreError};
pub use crypt::Secret;

/// What can go wrong with a backup repository, named so the operator knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} is not a t8k backup repository; create one with `t8k backup init --to {0}`")]
    NotARepository(String),
    #[error("{0} already holds a backup repository")]
    AlreadyARepository(String),
    #[error(
        "the repository is encrypted: give its passphrase in T8K_BACKUP_PASSPHRASE or with --passphrase-file FILE"
    )]
    NeedsPassphrase,
    #[error("wrong passphrase for the backup repository")]
    WrongPassphrase,
    #[error("snapshot {snapshot}: object {object} is {problem}; run `t8k backup verify --full`")]
    Damaged {
        snapshot: String,
        object: String,
        problem: String,
    },
    #[error("no snapshot {0}; `t8k backup list` shows them")]
    NoSnapshot(String),
    #[error("{0}")]
    Locked(String),
    #[error("encryption failed: {0}")]
    Crypto(String),
}

/// `config.json`: how the repository's objects are cut and sealed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepoConfig {
    pub version: u32,
    pub chunks: chunks::Sizes,
    /// The age recipient (public key) objects are encrypted to, when encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

/// An open repository.
pub struct Repo {
    store: Box<dyn Store>,
    pub config: RepoConfig,
    crypt: Option<crypt::Crypt>,
}

fn key(k: impl AsRef<str>) -> crate::Result<Key> {
    Key::new(k.as_ref())
}

impl Repo {
    /// Creates a repository in an empty place; with a passphrase, an encrypted one (a new age
    /// identity, sealed with the passphrase, is the key to every object).
    pub fn init(store: Box<dyn Store>, passphrase: Option<&Secret>) -> crate::Result<Repo> {
        let (recipient, crypt) = match passphrase {
            Some(p) => {
                let (crypt, sealed) = crypt::Crypt::generate(p)?;
                store.put(&key("keys/identity.age")?, &sealed, Condition::IfAbsent)?;
                (Some(crypt.recipient()), Some(crypt))
            }
            None => (None, None),
        };
        let config = RepoConfig {
            version: 1,
            chunks: chunks::Sizes::default(),
            recipient,
        };
        match store.put(
            &key("config.json")?,
            &to_json_bytes(&config),
            Condition::IfAbsent,
        ) {
            Ok(_) => Ok(Repo {
                store,
                config,
                crypt,
            }),
            Err(StoreError::PreconditionFailed { .. }) => {
                Err(BackupError::AlreadyARepository(store.describe()).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Opens a repository; an encrypted one needs its passphrase.
    pub fn open(store: Box<dyn Store>, passphrase: Option<&Secret>) -> crate::Result<Repo> {
        let Some((config, _)) = read_json::<RepoConfig>(store.as_ref(), &key("config.json")?)?
        else {
            return Err(BackupError::NotARepository(store.describe()).into());
        };
        let crypt = match &config.recipient {
            None => None,
            Some(_) => {
                let p = passphrase.ok_or(BackupError::NeedsPassphrase)?;
                let sealed = store
                    .get(&key("keys/identity.age")?)?
                    .ok_or_else(|| BackupError::NotARepository(store.describe()))?;
                Some(crypt::Crypt::unseal(&sealed.bytes, p)?)
            }
        };
        Ok(Repo {
            store,
            config,
            crypt,
        })
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Plain bytes as the repository stores them (sealed when it is encrypted).
    fn seal(&self, plain: &[u8]) -> crate::Result<Vec<u8>> {
        match &self.crypt {
            Some(c) => c.encrypt(plain),
            None => Ok(plain.to_vec()),
        }
    }

    fn unseal(&self, stored: &[u8]) -> crate::Result<Vec<u8>> {
        match &self.crypt {
            Some(c) => c.decrypt(stored),
            None => Ok(stored.to_vec()),
        }
    }

    /// Writes a document (a manifest) sealed like the objects.
    fn put_doc<T: Serialize>(&self, k: &Key, doc: &T) -> crate::Result<()> {
        self.store
            .put(k, &self.seal(&to_json_bytes(doc))?, Condition::None)?;
        Ok(())
    }

    fn get_doc<T: for<'de> Deserialize<'de>>(&self, k: &Key) -> crate::Result<Option<T>> {
        let Some(obj) = self.store.get(k)? else {
            return Ok(None);
        };
        let plain = self.unseal(&obj.bytes)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| crate::Error::Corrupt {
                file: format!("{}/{k}", self.describe()),
                message: e.to_string(),
            })
    }
}
