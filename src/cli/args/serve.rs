//! The flags of `serve`.

use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The address to listen on. Loopback by default: give another address (for
    /// example 0.0.0.0:8080) only behind a proxy that adds TLS. Port 0 takes a
    /// free port; the line on stderr names the one taken.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Sign the checkpoint with this private key (from `demarche key generate`):
    /// /checkpoint serves it, and the page checks each statement's inclusion
    /// against it. Without it /checkpoint answers 404.
    #[arg(long, value_name = "PREFIX.key")]
    pub sign: Option<PathBuf>,
    /// Take appends (POST /api/append) from requests that carry
    /// `Authorization: Bearer TOKEN`, TOKEN being this file's content (trimmed).
    /// The file must be readable by its owner alone (mode 0600). Without it the
    /// server takes no writes.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}
