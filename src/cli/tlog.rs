//! `publish`, `follow` and `clone`: the ledger as static transparency-log
//! tiles, and readers of them over HTTP or from a directory.

use super::args::{Cli, CloneArgs, FollowArgs, PublishArgs};
use super::failure::{Failure, Result};
use super::open::{forget_if_new, ledger_path, open, open_for_write};
use super::proofs::{signer, verifier};
use demarche::ledger::b64;
use demarche::note::VerifierKey;
use demarche::tlog::follow::{self, FollowError, Source, State};
use demarche::tlog::publish::{self, PublishError};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file in a copy's directory that names its source and key.
const CLONE_FILE: &str = demarche::store::COPY_RECORD;
const CLONE_FORMAT: &str = "demarche-clone 1";

/// `demarche publish DIR --sign KEY`.
pub fn publish(cli: &Cli, a: &PublishArgs, out: &mut impl Write) -> Result<u8> {
    let key = signer(&a.sign)?;
    let ledger = open(cli, false)?;
    std::fs::create_dir_all(&a.dir)
        .map_err(|e| Failure::io(format!("cannot make {}: {e}", a.dir.display())))?;
    let started = std::time::Instant::now();
    let p = publish::publish(&ledger, &a.dir, &key).map_err(|e| publish_failure(&a.dir, e))?;
    let dir = a.dir.display();
    let cp = demarche::tlog::follow::open_checkpoint(p.checkpoint.as_bytes(), &key.verifier())
        .map_err(|e| Failure::integrity(format!("the checkpoint just written: {e}")))?;
    if a.out.json {
        writeln!(
            out,
            "{}",
            json!({
                "dir": dir.to_string(), "size": p.size, "previous": p.previous,
                "new": p.size - p.previous, "files": p.written, "bytes": p.bytes,
                "kept": p.kept, "removed": p.removed,
                "checkpoint": {"origin": cp.checkpoint.origin, "size": cp.checkpoint.size,
                               "root": b64(&cp.checkpoint.root), "chain": format!("{}:{}", p.size, cp.chain)},
            })
        )?;
    } else if p.size == p.previous {
        writeln!(
            out,
            "{dir} is up to date: {} records, checkpoint unchanged",
            p.size
        )?;
    } else {
        writeln!(
            out,
            "published {} records to {dir} ({} new since the last publish) in {}: {} file(s), {}",
            p.size,
            p.size - p.previous,
            super::terminal::took(started.elapsed()),
            p.written,
            human_bytes(p.bytes),
        )?;
        writeln!(
            out,
            "checkpoint: {} size {} root {}",
            cp.checkpoint.origin,
            cp.checkpoint.size,
            b64(&cp.checkpoint.root)
        )?;
    }
    Ok(0)
}

fn publish_failure(dir: &Path, e: PublishError) -> Failure {
    match e {
        PublishError::Ledger(e) => e.into(),
        PublishError::Empty => Failure::usage("the ledger holds no events: there is nothing to publish")
            .hint("record statements first (`demarche append`, `demarche import`)"),
        PublishError::Io { path, source } => {
            Failure::io(format!("{}: {source}", path.display()))
                .hint("the checkpoint was not replaced: readers still see the last publish")
        }
        PublishError::Chain(p) => Failure::integrity(format!(
            "the chain does not verify at seq {}: {p}; nothing was published",
            p.seq()
        ))
        .hint("run `demarche verify` to see the damage"),
        PublishError::Published { path, detail } => Failure::integrity(format!(
            "{}: {detail}",
            dir.join(path).display()
        ))
        .hint("nothing was published; a ledger's tree goes in a directory of its own, always signed with the same key"),
        e @ PublishError::EntryTooLarge { .. } => Failure::usage(e.to_string())
            .hint("nothing was published; C2SP entry bundles hold entries of at most 65,535 bytes"),
        PublishError::Sign(e) => Failure::usage(format!("cannot sign the checkpoint: {e}")),
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// A published tree over HTTP(S): the prefix under which `checkpoint` and
/// `tile/` are served.
struct HttpSource {
    prefix: String,
    agent: ureq::Agent,
}

impl HttpSource {
    fn new(url: &str) -> HttpSource {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .timeout_connect(Some(Duration::from_secs(20)))
            .user_agent(concat!("demarche/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpSource {
            prefix: url.trim_end_matches('/').to_string(),
            agent: config.into(),
        }
    }
}

impl Source for HttpSource {
    fn fetch(&self, path: &str, limit: usize) -> std::result::Result<Option<Vec<u8>>, String> {
        let url = format!("{}/{path}", self.prefix);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        match resp.status().as_u16() {
            200 => resp
                .body_mut()
                .with_config()
                .limit(limit as u64)
                .read_to_vec()
                .map(Some)
                .map_err(|e| format!("{url}: {e}")),
            404 | 410 => Ok(None),
            s => Err(format!("{url}: the server answered {s}")),
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// The source named on the command line: a URL, or a directory that exists.
fn source_of(s: &str) -> Result<Box<dyn Source>> {
    if is_url(s) {
        return Ok(Box::new(HttpSource::new(s)));
    }
    if s.contains("://") {
        return Err(Failure::usage(format!(
            "{s}: only http:// and https:// URLs are read"
        )));
    }
    let dir = PathBuf::from(s);
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{s} is neither a URL nor a directory"
        ))
        .hint("give the URL prefix under which checkpoint and tile/ are served, or the directory `demarche publish` wrote"));
    }
    Ok(Box::new(follow::DirSource(dir)))
}

fn follow_failure(source: &str, e: FollowError) -> Failure {
    match e {
        FollowError::Fetch { .. } => Failure::io(format!("{source}: {e}"))
            .hint("nothing was believed; the state is unchanged, so running again resumes"),
        FollowError::Ledger(e) => e.into(),
        e => Failure::integrity(format!("{source}: {e}"))
            .hint("nothing new was believed, and the state was left as it was"),
    }
}

/// What a copy made by `clone` keeps beside its store.
struct CloneRecord {
    source: String,
    key: String,
}

fn read_clone_record(ledger: &Path) -> Result<Option<CloneRecord>> {
    let path = ledger.join(CLONE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::io(format!("{}: {e}", path.display()))),
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let field = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
    match (field("format").as_deref(), field("source"), field("key")) {
        (Some(CLONE_FORMAT), Some(source), Some(key)) => Ok(Some(CloneRecord { source, key })),
        _ => Err(Failure::usage(format!(
            "{} is not a record of a copy ({CLONE_FORMAT})",
            path.display()
        ))),
    }
}

fn write_clone_record(ledger: &Path, r: &CloneRecord) -> Result<()> {
    let text = serde_json::to_string_pretty(
        &json!({"format": CLONE_FORMAT, "source": r.source, "key": r.key}),
    )
    .expect("JSON to memory");
    write_whole(&ledger.join(CLONE_FILE), format!("{text}\n").as_bytes())
}

/// Writes a small file whole: under a temporary name, synced, renamed.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::io(format!("cannot make {}: {e}", dir.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Failure::io(format!("cannot write {}: {e}", path.display()))
    })
}

/// Whether `follow` works on a copy: with no source, the ledger must be one;
/// with `--ledger` named, it must be one too; with only `$DEMARCHE_LEDGER`
/// set, it is used when it is a copy (a reader who keeps a ledger there
/// still follows logs without a store).
fn follows_a_copy(cli: &Cli, a: &FollowArgs, path: &Path) -> Result<bool> {
    if a.source.is_none() || cli.ledger.is_some() {
        return Ok(true);
    }
    let from_env = std::env::var_os("DEMARCHE_LEDGER").is_some_and(|v| !v.is_empty());
    Ok(from_env && read_clone_record(path)?.is_some())
}

/// `demarche follow`.
pub fn follow(cli: &Cli, a: &FollowArgs, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    if follows_a_copy(cli, a, &path)? {
        match read_clone_record(&path)? {
            Some(record) => return follow_copy(cli, a, &path, record, out),
            None if a.source.is_none() => {
                return Err(Failure::usage(format!(
                    "no URL or directory to follow, and {} is not a copy made by `demarche clone`",
                    path.display()
                ))
                .hint("demarche follow URL --key LOG.vkey"))
            }
            None => {
                return Err(Failure::usage(format!(
                    "{} is not a copy made by `demarche clone`: follow without --ledger reads the log without a store",
                    path.display()
                ))
                .hint("make a copy with `demarche --ledger PATH clone URL --key LOG.vkey`"))
            }
        }
    }
    let source = a.source.as_deref().expect("checked above");
    let key_path = a.key.as_ref().ok_or_else(|| {
        Failure::usage("--key is needed: the verifier key of the log's checkpoints")
            .hint("the publisher hands out PREFIX.vkey, made by `demarche key generate`")
    })?;
    let key = verifier(key_path)?;
    let src = source_of(source)?;
    // The state is kept per log: read the checkpoint once to learn which.
    let origin = peek_origin(src.as_ref(), &key, source)?;
    let state_path = match &a.state {
        Some(p) => p.clone(),
        None => default_state_path(&origin)?,
    };
    let state = match std::fs::read_to_string(&state_path) {
        Ok(text) => Some(State::parse(&text, &key).map_err(|e| {
            Failure::integrity(format!("the state file {}: {e}", state_path.display())).hint(
                "it was changed or is another key's: remove it to start over from the log's first record",
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Failure::io(format!(
                "cannot read the state file {}: {e}",
                state_path.display()
            )))
        }
    };
    // New records are printed before the state moves on: a reader whose
    // output failed gets them again next time.
    let followed = if a.records {
        follow::follow_lines(src.as_ref(), &key, state.as_ref(), &mut |line| {
            out.write_all(line)
                .map_err(|e| format!("cannot write the records: {e}"))
        })
    } else {
        follow::follow(src.as_ref(), &key, state.as_ref(), &mut |_, _| Ok(()))
    }
    .map_err(|e| follow_failure(source, e))?;
    out.flush()?;
    write_whole(&state_path, followed.state.to_text().as_bytes())?;
    report(out, a.out.json, source, &followed, Some(&state_path), None)?;
    Ok(0)
}

fn peek_origin(src: &dyn Source, key: &VerifierKey, source: &str) -> Result<String> {
    let path = demarche::tlog::CHECKPOINT;
    let failed = |e| follow_failure(source, e);
    let bytes = src
        .fetch(path, demarche::note::MAX_NOTE_SIZE)
        .map_err(|error| {
            failed(FollowError::Fetch {
                path: path.into(),
                error,
            })
        })?
        .ok_or_else(|| failed(FollowError::Missing { path: path.into() }))?;
    let opened =
        follow::open_checkpoint(&bytes, key).map_err(|e| failed(FollowError::Checkpoint(e)))?;
    Ok(opened.checkpoint.origin)
}

/// `demarche/follow/ORIGIN.state` in the user's data directory, the origin
/// made safe for a file name.
fn default_state_path(origin: &str) -> Result<PathBuf> {
    let safe: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tag = &blake3::hash(origin.as_bytes()).to_hex()[..8];
    let base = dirs::data_dir().ok_or_else(|| {
        Failure::usage("cannot find the user's data directory").hint("pass --state FILE")
    })?;
    Ok(base
        .join("demarche")
        .join("follow")
        .join(format!("{safe}-{tag}.state")))
}

fn report(
    out: &mut impl Write,
    json: bool,
    source: &str,
    f: &follow::Followed,
    state: Option<&Path>,
    copied: Option<(&Path, u64)>,
) -> Result<()> {
    let s = &f.state;
    let new = s.size - f.previous;
    if json {
        let mut v = json!({
            "source": source, "origin": s.origin, "size": s.size, "previous": f.previous,
            "new": new, "root": b64(&s.root), "chain": format!("{}:{}", s.size, s.chain),
        });
        if let Some(p) = state {
            v["state"] = p.display().to_string().into();
        }
        if let Some((ledger, appended)) = copied {
            v["ledger"] = ledger.display().to_string().into();
            v["appended"] = appended.into();
        }
        writeln!(out, "{v}")?;
        return Ok(());
    }
    if new == 0 {
        writeln!(
            out,
            "{source}: {} records, nothing new since the checkpoint seen before; it checks out",
            s.size
        )?;
    } else if f.previous == 0 {
        writeln!(
            out,
            "{source}: {} records, every one checked against the signed checkpoint",
            s.size
        )?;
    } else {
        writeln!(
            out,
            "{source}: {} records, {new} new since the checkpoint of {} seen before; the log only grew, and every new record checks out",
            s.size, f.previous
        )?;
    }
    writeln!(
        out,
        "checkpoint: {} size {} root {}",
        s.origin,
        s.size,
        b64(&s.root)
    )?;
    if let Some((ledger, appended)) = copied {
        writeln!(
            out,
            "copy: {appended} records recorded into {}",
            ledger.display()
        )?;
    }
    Ok(())
}

/// `demarche --ledger COPY follow`: brings a copy up to date.
fn follow_copy(
    cli: &Cli,
    a: &FollowArgs,
    path: &Path,
    record: CloneRecord,
    out: &mut impl Write,
) -> Result<u8> {
    if a.state.is_some() {
        return Err(Failure::usage(
            "--state is for following without a store: a copy keeps its own state, its ledger",
        ));
    }
    let source = a.source.clone().unwrap_or(record.source.clone());
    let key = match &a.key {
        Some(p) => verifier(p)?,
        None => demarche::note::parse_verifier(record.key.trim_end()).map_err(|e| {
            Failure::usage(format!("{}: its key: {e}", path.join(CLONE_FILE).display()))
        })?,
    };
    let src = source_of(&source)?;
    let (mut ledger, _) = open_for_write(cli)?;
    let (followed, appended) = follow::follow_into(&mut ledger, src.as_ref(), &key)
        .map_err(|e| follow_failure(&source, e))?;
    if a.source.is_some() || a.key.is_some() {
        write_clone_record(
            path,
            &CloneRecord {
                source: source.clone(),
                key: key.to_text(),
            },
        )?;
    }
    report(
        out,
        a.out.json,
        &source,
        &followed,
        None,
        Some((path, appended)),
    )?;
    Ok(0)
}

/// `demarche --ledger COPY clone URL|DIR --key KEY`.
pub fn clone(cli: &Cli, a: &CloneArgs, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    if path.exists()
        && std::fs::read_dir(&path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Failure::usage(format!(
            "{} already exists: clone makes a new ledger",
            path.display()
        ))
        .hint("name a new directory with --ledger; to bring a copy up to date, `demarche --ledger COPY follow`"));
    }
    let key = verifier(&a.key)?;
    let src = source_of(&a.source)?;
    let (mut ledger, created) = open_for_write(cli)?;
    let result = follow::follow_into(&mut ledger, src.as_ref(), &key);
    let (followed, appended) = match result {
        Ok(r) => r,
        Err(e) => {
            forget_if_new(ledger, created);
            return Err(follow_failure(&a.source, e));
        }
    };
    write_clone_record(
        &path,
        &CloneRecord {
            source: a.source.clone(),
            key: key.to_text(),
        },
    )?;
    report(
        out,
        a.out.json,
        &a.source,
        &followed,
        None,
        Some((&path, appended)),
    )?;
    Ok(0)
}
