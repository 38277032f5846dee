//! The flags of `demarche witness`: a transparency-log witness that cosigns
//! the checkpoints of logs it trusts, by hand or over HTTP.

use super::Output;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// What a witness is: its key, the logs it trusts, where it remembers them.
#[derive(Args, Debug, Clone)]
pub struct WitnessKeys {
    /// The witness's private key (a PREFIX.key of `demarche key generate`,
    /// kept for this witness alone).
    #[arg(long, value_name = "PREFIX.key")]
    pub key: PathBuf,
    /// A log's verifier key: the witness cosigns checkpoints it signed
    /// (repeat for several logs).
    #[arg(long = "log-key", value_name = "LOG.vkey", required = true)]
    pub log_keys: Vec<PathBuf>,
    /// Witness only this origin (repeat for several); by default any origin
    /// that a trusted log key signs.
    #[arg(long = "origin", value_name = "ORIGIN")]
    pub origins: Vec<String>,
    /// The directory where the witness keeps the latest checkpoint it
    /// cosigned for each origin [default: demarche/witness in the user's data
    /// directory].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

/// `demarche witness` subcommands.
#[derive(Subcommand, Debug)]
pub enum WitnessCommand {
    /// Print the witness's verifier key: the C2SP vkey of its cosignatures
    /// (signature type 0x04), to hand to whoever checks them.
    #[command(after_help = "Example:
  demarche key generate --name witness.example/w1 --out w1
  demarche witness vkey --key w1.key > w1.witness.vkey")]
    Vkey {
        /// The witness's private key.
        #[arg(long, value_name = "PREFIX.key")]
        key: PathBuf,
    },

    /// Cosign a log's checkpoint, if it extends the last one cosigned for
    /// its origin.
    ///
    /// Checks the log's signature, then that the checkpoint extends the one
    /// this witness cosigned last for the same origin (kept in --state): an
    /// RFC 6962 consistency proof from that tree to the new one, as `demarche
    /// prove --from LAST` prints it on the log's side. The first checkpoint of
    /// an origin needs no proof. Prints the checkpoint with the witness's
    /// cosignature added (C2SP tlog-cosignature, Ed25519) and remembers it.
    ///
    /// Exit 1, remembering nothing, when the checkpoint is not signed by a
    /// log key given, is smaller than the one cosigned (a rollback), or does
    /// not extend it (a fork: the proof does not lead from the cosigned
    /// root); 2 for bad input, or a proof missing.
    #[command(after_help = "Examples:
  demarche witness cosign --key w1.key --log-key newsroom.vkey today.checkpoint > today.cosigned
  # later, the log proves it extends what was cosigned:
  demarche prove --from today.cosigned > proof
  demarche witness cosign --key w1.key --log-key newsroom.vkey tomorrow.checkpoint --proof proof \
    > tomorrow.cosigned
  demarche verify --against tomorrow.cosigned --key newsroom.vkey --witness w1.witness.vkey")]
    Cosign {
        #[command(flatten)]
        keys: WitnessKeys,
        /// The checkpoint, signed by its log (`demarche checkpoint --sign`).
        #[arg(value_name = "CHECKPOINT")]
        checkpoint: PathBuf,
        /// The consistency proof from the last cosigned checkpoint: base64
        /// hashes one per line (`demarche prove --from`; an `old N` first line
        /// is read too), or the JSON of `prove --from --json`.
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
        /// Print only the cosignature line, not the whole checkpoint.
        #[arg(long)]
        cosignature_only: bool,
        #[command(flatten)]
        out: Output,
    },

    /// Serve the C2SP tlog-witness protocol: POST /add-checkpoint.
    ///
    /// A log sends `old N`, its consistency proof lines, a blank line and its
    /// signed checkpoint; the witness answers 200 with its cosignature line,
    /// 409 with the size it knows (text/x.tlog.size) when N is not that size,
    /// 422 when the proof does not hold, 403 when no trusted log key signed,
    /// 404 for an origin it does not witness, 400 for a malformed request.
    /// Requests are handled one at a time against the state directory, each
    /// cosignature kept before it is sent. Listens on loopback unless --addr
    /// says otherwise; says where on stderr. Stops on Ctrl-C.
    #[command(after_help = "Examples:
  demarche witness serve --key w1.key --log-key newsroom.vkey
  demarche witness serve --key w1.key --log-key newsroom.vkey --addr 127.0.0.1:0   # any free port
  curl --data-binary @request http://127.0.0.1:7380/add-checkpoint")]
    Serve {
        #[command(flatten)]
        keys: WitnessKeys,
        /// The address to listen on (port 0: any free port).
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7380")]
        addr: std::net::SocketAddr,
    },
}
