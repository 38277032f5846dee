//! Links the programs at a fixed address on Linux (`-no-pie`).
//!
//! A position-independent executable has its 23,000 pointers in read-only
//! tables (vtables, tables of strings) written by the loader at every start:
//! 105 pages copied on write, 0.6 ms of a 4.7 ms `append` and a third of
//! `demarche --version` (BENCHMARKS.md, "A process's own start"). Linked at a
//! fixed address, the linker writes them once. The code is compiled as
//! before; the libraries, heap and stacks are still placed at random.
//! `DEMARCHE_PIE=1` at build time links a position-independent executable.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEMARCHE_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let pie = std::env::var_os("DEMARCHE_PIE").is_some_and(|v| !v.is_empty() && v != "0");
    if linux && !pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
