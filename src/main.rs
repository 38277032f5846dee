//! The `demarche` command: parses arguments, calls the library, prints, and maps
//! failures to exit codes (0 success, 1 integrity failure, 2 bad usage or input,
//! 3 I/O or store error).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
