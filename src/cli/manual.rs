//! `completions` and `man`: the command line described for shells and for
//! `man`, from the same definitions as `--help`.

use super::args::whole_command;
use super::failure::{Failure, Result};
use std::io::Write;

/// `demarche completions SHELL`.
pub(super) fn completions(shell: &str, out: &mut impl Write) -> Result<u8> {
    let shell: clap_complete::Shell = shell
        .parse()
        .map_err(|e: String| Failure::usage(format!("--shell: {e}")))?;
    clap_complete::generate(shell, &mut whole_command(), "demarche", out);
    Ok(0)
}

/// `demarche man`.
pub(super) fn man(out: &mut impl Write) -> Result<u8> {
    clap_mangen::Man::new(whole_command()).render(out)?;
    Ok(0)
}
