//! Progress on long work: a bar on stderr when stderr is a terminal, nothing
//! otherwise (pipes, files, CI logs), and never with `NO_COLOR`-style quiet
//! environments that set `TERM=dumb`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};

/// A progress bar that may be hidden.
pub struct Progress(ProgressBar);

fn shown() -> bool {
    std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

impl Progress {
    /// Progress through `total` bytes (a spinner when the total is unknown).
    pub fn bytes(total: Option<u64>, what: &str) -> Progress {
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), target()).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
                )
                .expect("template")
                .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, target()).with_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                    .expect("template"),
            ),
        };
        bar.set_message(what.to_string());
        Progress(bar)
    }

    /// Progress through `total` events.
    pub fn events(total: u64, what: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), target()).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} events ({per_sec}, {eta} left)",
            )
            .expect("template")
            .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        Progress(bar)
    }

    /// Wraps a reader so that what is read moves the bar.
    pub fn reader<R: Read>(&self, r: R) -> impl Read {
        self.0.wrap_read(r)
    }

    /// Moves the bar by `n`.
    pub fn advance(&self, n: u64) {
        self.0.inc(n);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn target() -> ProgressDrawTarget {
    if shown() {
        ProgressDrawTarget::stderr_with_hz(10)
    } else {
        ProgressDrawTarget::hidden()
    }
}
