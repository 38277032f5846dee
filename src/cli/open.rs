//! Opening the ledger: where it is by default, the pinned clock, the engine of
//! a new ledger, and the progress bar of long reads.

use super::args::{Cli, Command, Deferred, InitArgs, RebuildArgs};
use super::failure::{Failure, Result};
use super::progress;
use demarche::ledger::{Ledger, CACHE_KEY_LEN};
use demarche::store::{Engine, OpenOptions};
use std::path::PathBuf;
use std::time::Duration;

/// The ledger's directory: `--ledger` (or `$DEMARCHE_LEDGER`), else
/// `demarche/ledger` in the user's data directory.
pub(super) fn ledger_path(cli: &Cli) -> Result<PathBuf> {
    if let Some(p) = &cli.ledger {
        return Ok(p.clone());
    }
    if let Some(p) = std::env::var_os("DEMARCHE_LEDGER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    dirs::data_dir()
        .map(|d| d.join("demarche").join("ledger"))
        .ok_or_else(|| {
            Failure::usage("cannot find the user's data directory").hint("pass --ledger PATH")
        })
}

/// The time `DEMARCHE_NOW` pins every new event to, when it is set.
pub(super) fn clock() -> Result<Option<i64>> {
    match std::env::var("DEMARCHE_NOW") {
        Ok(s) => s
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_microsecond()))
            .map_err(|e| {
                Failure::usage(format!("DEMARCHE_NOW=\"{s}\" is not an RFC 3339 time: {e}"))
            }),
        Err(_) => Ok(None),
    }
}

/// Opens the ledger: for writing (and creating) with `create`, else only to
/// read, which with redb never waits for a writer (positions queries too: the
/// snapshot a query builds is saved in the cache files beside the store).
pub(super) fn open(cli: &Cli, create: bool) -> Result<Ledger> {
    let mut ledger = Opener::new(cli)?.open(create, !create)?;
    if !create {
        // Long reads (verify, replays) show a bar on a terminal after a second.
        let total = ledger.head()?.size;
        let (f, guard) = progress::after_a_second(total, "reading");
        ledger.set_progress(f);
        // Cleared when the command's work is done (`finish_reads`).
        BARS.lock().unwrap_or_else(|p| p.into_inner()).push(guard);
    }
    Ok(ledger)
}

/// What opening the ledger takes, read once: its place, how long to wait for
/// another process, the pinned clock, the cache key and the engine of a new
/// ledger. A server opens the ledger many times with one.
pub(super) struct Opener {
    path: PathBuf,
    lock_timeout: Duration,
    engine: Engine,
    now: Option<i64>,
    key: Option<[u8; CACHE_KEY_LEN]>,
}

impl Opener {
    /// Reads `--ledger`, `--wait`, `$DEMARCHE_NOW` and the cache key.
    pub(super) fn new(cli: &Cli) -> Result<Opener> {
        let lock_timeout = Some(cli.wait)
            .filter(|w| w.is_finite() && *w >= 0.0)
            .and_then(|w| Duration::try_from_secs_f64(w).ok())
            .ok_or_else(|| Failure::usage("--wait takes a number of seconds, 0 or more"))?;
        Ok(Opener {
            path: ledger_path(cli)?,
            lock_timeout,
            engine: engine_for_new(cli),
            now: clock()?,
            key: cache_key(),
        })
    }

    /// The ledger's directory.
    pub(super) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Opens the ledger, creating it with `create`; `read_only` opens a redb
    /// ledger on one snapshot that never waits for a writer (sled has one
    /// holder whatever is asked).
    pub(super) fn open(&self, create: bool, read_only: bool) -> Result<Ledger> {
        if create {
            if let Some(parent) = self.path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Failure::io(format!("cannot create {}: {e}", parent.display())))?;
            }
        }
        let opts = OpenOptions {
            create,
            lock_timeout: self.lock_timeout,
            engine: self.engine,
            read_only,
            prefer_writer: false,
        };
        let mut ledger = Ledger::open(&self.path, &opts)?;
        if let Some(now) = self.now {
            ledger.set_clock(move || now);
        }
        if let Some(key) = self.key {
            ledger.set_cache_key(key);
        }
        Ok(ledger)
    }
}

/// The cache key: the secret under which files of derived data beside a
/// ledger (the positions snapshot) are written and believed, kept outside every
/// ledger, in `$DEMARCHE_CACHE_KEY` (a file, or the key itself as 64 hex
/// digits when no file has that name) or the user's data directory
/// (`demarche/cache.key`), and made there on first use. `None` when it can be
/// neither read nor made: positions are then always derived from the chain.
fn cache_key() -> Option<[u8; CACHE_KEY_LEN]> {
    let path = match std::env::var_os("DEMARCHE_CACHE_KEY") {
        Some(p) if p.is_empty() => return None,
        Some(p) => PathBuf::from(p),
        None => dirs::data_dir()?.join("demarche").join("cache.key"),
    };
    let read = |path: &std::path::Path| -> Option<[u8; CACHE_KEY_LEN]> {
        let bytes = std::fs::read(path).ok()?;
        demarche::hex::decode_array(std::str::from_utf8(&bytes).ok()?.trim())
    };
    if let Some(key) = read(&path) {
        return Some(key);
    }
    // The key itself rather than a file's name: used as it is, and no file
    // named after it is made.
    if !path.exists() {
        if let Some(key) = path.to_str().and_then(demarche::hex::decode_array) {
            return Some(key);
        }
    }
    // Made whole under another name and linked into place, so that two
    // processes making it at once agree on one key.
    let mut key = [0u8; CACHE_KEY_LEN];
    getrandom::fill(&mut key).ok()?;
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let tmp = dir.join(format!(".cache.key.{}.tmp", std::process::id()));
    let made = (|| -> std::io::Result<()> {
        let mut f = new_private_file(&tmp)?;
        std::io::Write::write_all(
            &mut f,
            format!("{}\n", demarche::hex::encode(&key)).as_bytes(),
        )?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, &path)
    })();
    let _ = std::fs::remove_file(&tmp);
    match made {
        Ok(()) => Some(key),
        Err(_) => read(&path),
    }
}

/// A new file readable by its owner alone.
fn new_private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// The engine for a ledger created now: `--engine` where a command has it,
/// else `$DEMARCHE_ENGINE`, else sled.
fn engine_for_new(cli: &Cli) -> Engine {
    match cli.command {
        Command::Init(Deferred(InitArgs {
            engine: Some(name), ..
        }))
        | Command::Rebuild(Deferred(RebuildArgs {
            engine: Some(name), ..
        })) => name.into(),
        Command::Clone(ref a) if a.engine.is_some() => a.engine.expect("checked").into(),
        _ => Engine::from_env(),
    }
}

/// Opens the ledger for writing; also returns its path when this call created it.
pub(super) fn open_for_write(cli: &Cli) -> Result<(Ledger, Option<PathBuf>)> {
    let path = ledger_path(cli)?;
    let existed = demarche::store::engine_at(&path).is_some();
    let ledger = open(cli, true)?;
    Ok((ledger, (!existed).then_some(path)))
}

/// Removes a ledger this command created when nothing was appended to it, so
/// that bad input leaves nothing behind.
pub(super) fn forget_if_new(ledger: Ledger, created: Option<PathBuf>) {
    if let Some(path) = created {
        if ledger.head().is_ok_and(|h| h.size == 0) {
            drop(ledger);
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// The ledger, or, where there is none yet, an empty one that knows the starter actors.
pub(super) fn open_or_starter(cli: &Cli) -> Result<Ledger> {
    let path = ledger_path(cli)?;
    if !path.exists() {
        return Ok(Ledger::in_memory());
    }
    open(cli, false)
}

/// Progress bars of long reads, cleared once the command's work is done.
static BARS: std::sync::Mutex<Vec<progress::Guard>> = std::sync::Mutex::new(Vec::new());

/// Clears the progress bars of the command's reads: its work is done.
pub(super) fn finish_reads() {
    BARS.lock().unwrap_or_else(|p| p.into_inner()).clear();
}
