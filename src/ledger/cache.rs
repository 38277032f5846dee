//! Files of derived data beside the store (`cache/` in the ledger's
//! directory): large derived values (the positions snapshot) live here, not in
//! the store, so that they can neither slow the engine down nor stop it
//! opening. Each file is written whole under a temporary name and renamed, and
//! read only if it is a regular file.
//!
//! What is read back is believed only under a MAC: a BLAKE3 keyed hash with
//! the *cache key*, a secret kept outside the ledger (the command line keeps it
//! in the user's data directory). Whoever can write the ledger's files but not
//! read that key cannot make a cache entry that is believed: a forged or
//! damaged one fails its MAC and is ignored, and the data is derived from the
//! chain again. Without a key (a library user that sets none), nothing is
//! written to or believed from the files; a ledger in memory keeps its cache
//! in memory under a key of its own.

use crate::event::Hash;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Bytes of a cache key.
pub const CACHE_KEY_LEN: usize = 32;

/// Where derived files are kept, and the key that makes them believed.
pub(super) struct Cache {
    place: Place,
    key: Option<[u8; CACHE_KEY_LEN]>,
}

enum Place {
    Files(PathBuf),
    Memory(Mutex<HashMap<String, Vec<u8>>>),
}

impl Cache {
    /// The cache of a store in `dir` (its `cache/` subdirectory), or in memory.
    pub(super) fn new(dir: Option<PathBuf>) -> Cache {
        match dir {
            Some(d) => Cache {
                place: Place::Files(d.join(crate::store::CACHE_DIR)),
                key: None,
            },
            None => {
                let mut key = [0u8; CACHE_KEY_LEN];
                // Without randomness a memory cache is simply never believed.
                let key = getrandom::fill(&mut key).ok().map(|()| key);
                Cache {
                    place: Place::Memory(Mutex::new(HashMap::new())),
                    key,
                }
            }
        }
    }

    pub(super) fn set_key(&mut self, key: [u8; CACHE_KEY_LEN]) {
        self.key = Some(key);
    }

    /// Whether anything written can be believed when read back.
    pub(super) fn usable(&self) -> bool {
        self.key.is_some()
    }

    /// The MAC of `bytes` under the cache key, in the domain `what`; `None`
    /// without a key.
    pub(super) fn mac(&self, what: &str, bytes: &[u8]) -> Option<Hash> {
        let key = self.key.as_ref()?;
        let mut h = blake3::Hasher::new_keyed(key);
        h.update(&(what.len() as u64).to_le_bytes());
        h.update(what.as_bytes());
        h.update(bytes);
        Some(Hash(*h.finalize().as_bytes()))
    }

    /// The bytes of entry `name` whose MAC holds: `None` when absent, damaged,
    /// forged, not a regular file, or when there is no key.
    pub(super) fn get(&self, name: &str) -> Option<Vec<u8>> {
        let stored = self.read(name)?;
        if stored.len() < 32 {
            return None;
        }
        let (mac, bytes) = stored.split_at(32);
        (self.mac(name, bytes)?.0[..] == *mac).then(|| bytes.to_vec())
    }

    /// The bytes of entry `name` as stored, for entries an entry read with
    /// [`Cache::get`] names with their checksum.
    pub(super) fn read(&self, name: &str) -> Option<Vec<u8>> {
        match &self.place {
            Place::Memory(m) => m.lock().ok()?.get(name).cloned(),
            Place::Files(dir) if !is_plain_dir(dir) => None,
            Place::Files(dir) => {
                let path = dir.join(name);
                let meta = std::fs::symlink_metadata(&path).ok()?;
                if !meta.file_type().is_file() {
                    return None;
                }
                std::fs::read(path).ok()
            }
        }
    }

    /// Writes entries in order (the one that names the others last), each
    /// under its MAC when `sealed`, else as they are (entries that a sealed one
    /// names with their checksum). Nothing is written without a key.
    ///
    /// # Errors
    /// File-system failures: the cache is then simply not there next time.
    pub(super) fn put(&self, entries: &[(String, Vec<u8>, bool)]) -> std::io::Result<()> {
        if !self.usable() {
            return Ok(());
        }
        let seal = |name: &str, bytes: &[u8], sealed: bool| {
            let mut out = Vec::with_capacity(bytes.len() + 32);
            if sealed {
                out.extend_from_slice(&self.mac(name, bytes).expect("usable").0);
            }
            out.extend_from_slice(bytes);
            out
        };
        match &self.place {
            Place::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
                for (name, bytes, sealed) in entries {
                    m.insert(name.clone(), seal(name, bytes, *sealed));
                }
                Ok(())
            }
            Place::Files(dir) => {
                std::fs::create_dir_all(dir)?;
                if !is_plain_dir(dir) {
                    return Err(std::io::Error::other(format!(
                        "{} is not a directory of its own (a symbolic link?)",
                        dir.display()
                    )));
                }
                for (name, bytes, sealed) in entries {
                    let mut suffix = [0u8; 8];
                    getrandom::fill(&mut suffix)
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    let tmp = dir.join(format!(
                        ".{name}.{}-{}.tmp",
                        std::process::id(),
                        crate::hex::encode(&suffix)
                    ));
                    let written = std::fs::File::create_new(&tmp)
                        .and_then(|mut f| f.write_all(&seal(name, bytes, *sealed)))
                        .and_then(|()| std::fs::rename(&tmp, dir.join(name)));
                    if let Err(e) = written {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(e);
                    }
                }
                Ok(())
            }
        }
    }

    /// Whether an entry could be written now: there is a key, and a file can
    /// be made in the directory (tried, and removed).
    pub(super) fn writable(&self) -> bool {
        if !self.usable() {
            return false;
        }
        match &self.place {
            Place::Memory(_) => true,
            Place::Files(dir) => {
                if std::fs::create_dir_all(dir).is_err() || !is_plain_dir(dir) {
                    return false;
                }
                let mut suffix = [0u8; 8];
                if getrandom::fill(&mut suffix).is_err() {
                    return false;
                }
                let probe = dir.join(format!(
                    ".probe.{}-{}.tmp",
                    std::process::id(),
                    crate::hex::encode(&suffix)
                ));
                let made = std::fs::File::create_new(&probe).is_ok();
                let _ = std::fs::remove_file(&probe);
                made
            }
        }
    }

    /// The names of the entries, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.place {
            Place::Memory(m) => m
                .lock()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            Place::Files(dir) => std::fs::read_dir(dir)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| !n.starts_with('.'))
                        .collect()
                })
                .unwrap_or_default(),
        };
        names.sort();
        names
    }

    /// Overwrites entry `name` with `bytes` as they are (no MAC is added).
    pub(super) fn write_raw(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        match &self.place {
            Place::Memory(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(name.to_string(), bytes.to_vec());
                Ok(())
            }
            Place::Files(dir) => {
                std::fs::create_dir_all(dir)?;
                std::fs::write(dir.join(name), bytes)
            }
        }
    }

    /// Removes entries whose names start with `prefix` (those no longer named
    /// by the entry that names them), ignoring failures.
    pub(super) fn forget(&self, prefix: &str, keep: impl Fn(&str) -> bool) {
        match &self.place {
            Place::Memory(m) => {
                if let Ok(mut m) = m.lock() {
                    m.retain(|k, _| !k.starts_with(prefix) || keep(k));
                }
            }
            Place::Files(dir) => {
                if !is_plain_dir(dir) {
                    return;
                }
                let Ok(entries) = std::fs::read_dir(dir) else {
                    return;
                };
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with(prefix) && !keep(&name) {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
    }
}

/// Whether `dir` is a directory itself, not a symbolic link to one elsewhere
/// (whose files the cache would then write and remove).
fn is_plain_dir(dir: &std::path::Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_dir())
}
