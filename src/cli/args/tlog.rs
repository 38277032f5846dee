//! Arguments of `publish`, `follow` and `clone`: the ledger as static
//! transparency-log tiles, and readers of them.

use super::Output;
use clap::Args;
use std::path::PathBuf;

/// `demarche publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The directory to write the tree into (made if missing). Serve it as it is,
    /// with any static web server.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Sign the checkpoint with this private key (from `demarche key generate`).
    /// Publish into one directory always with the same key.
    #[arg(long, value_name = "PREFIX.key")]
    pub sign: PathBuf,
    #[command(flatten)]
    pub out: Output,
}

/// `demarche follow`.
#[derive(Args, Debug)]
pub struct FollowArgs {
    /// Where the tree is published: a URL (http:// or https://, the prefix under
    /// which `checkpoint` and `tile/` are served) or a directory. For a copy made by
    /// `clone`, its source is the default.
    #[arg(value_name = "URL|DIR")]
    pub source: Option<String>,
    /// The log's verifier key: the checkpoint must carry its signature. For a copy
    /// made by `clone`, its key is the default.
    #[arg(long, value_name = "PREFIX.vkey")]
    pub key: Option<PathBuf>,
    /// Keep the last checkpoint seen in this file (default: in the user's data
    /// directory, demarche/follow/, one file per log). Not with a copy made by `clone`,
    /// which keeps its own.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Print each new record as `log --json` prints it (one JSON object a line).
    #[arg(long)]
    pub records: bool,
    #[command(flatten)]
    pub out: Output,
}

/// `demarche clone`.
#[derive(Args, Debug)]
pub struct CloneArgs {
    /// Where the tree is published: a URL (http:// or https://) or a directory.
    #[arg(value_name = "URL|DIR")]
    pub source: String,
    /// The log's verifier key: the checkpoint must carry its signature.
    #[arg(long, value_name = "PREFIX.vkey")]
    pub key: PathBuf,
    /// The storage engine of the copy: sled or redb.
    #[arg(long, value_enum)]
    pub engine: Option<super::EngineName>,
    #[command(flatten)]
    pub out: Output,
}
