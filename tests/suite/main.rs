//! The test suite in one binary (one link of the library and both engines
//! instead of one per file). Each module is one area; `crash` stays a binary
//! of its own, since it re-runs itself as a child that is killed.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod compat;
mod derived;
mod draw;
mod engines;
mod episodes;
mod evidence;
mod gdelt;
mod golden;
mod look;
mod note;
mod positions;
mod proofs;
mod properties;
mod records;
mod rfc6962;
mod schema;
mod serve;
mod tamper;
mod tiles;
mod transfer;
mod witness;
