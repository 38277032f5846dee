//! demarche: a tamper-evident, event-sourced ledger of diplomatic statements.
//!
//! Start from [`ledger::Ledger`]: open one over a store, [`append`](ledger::Ledger::append)
//! events parsed by [`json::parse_event`], read them back with
//! [`get`](ledger::Ledger::get) and [`iter`](ledger::Ledger::iter), and prove the
//! record intact with [`verify`](ledger::Ledger::verify).
//!
//! Layers, bottom up: [`event`] (domain types) → [`codec`] (the stored bytes) →
//! [`chain`] (hashing, linking, the verifier state machine) → [`store`] (sled,
//! redb or memory) → [`ledger`]. [`vocab`] holds the stances, predicates and actors;
//! [`json`] the line format and, in [`json::view`], the JSON written back out;
//! [`input`] the error that names a bad field; [`dates`] and [`hex`] the dates
//! and hex digits everything reads and writes; [`example`] the worked example.
//! [`note`] signs checkpoints, [`cosign`] cosigns them as a witness, and
//! [`witness`] decides, from what a witness cosigned before, whether to.

#![warn(missing_docs)]

pub mod chain;
pub mod codec;
pub mod cosign;
pub mod dates;
pub mod draw;
pub mod event;
pub mod evidence;
pub mod example;
pub mod export;
pub mod gdelt;
pub mod hex;
pub mod input;
pub mod json;
pub mod lanes;
pub mod ledger;
pub mod lines;
pub mod merkle;
pub mod multiset;
pub mod note;
pub mod projection;
mod scratch;
pub mod store;
pub mod tlog;
pub mod tree;
pub mod vocab;
pub mod witness;
