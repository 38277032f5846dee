//! Progress on long work: a bar on stderr when stderr is a terminal, nothing
//! otherwise (pipes, files, CI logs), and never with `NO_COLOR`-style quiet
//! environments that set `TERM=dumb`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};

/// A progress bar that may be hidden.
pub struct Progress(ProgressBar);

/// Whether bars are drawn: stderr is a terminal and `TERM` is not `dumb`.
/// Asked once per process.
fn shown() -> bool {
    static SHOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SHOWN.get_or_init(|| {
        std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
    })
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
                "{msg} [{bar:30}] {human_pos}/{human_len} events ({eta} left)",
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

/// A bar that appears only once the work has taken a second (most commands
/// finish sooner and show nothing), moved by a callback, and removed when the
/// returned guard is dropped.
pub fn after_a_second(total: u64, what: &'static str) -> (impl Fn(u64) + Send + Sync, Guard) {
    let shared: std::sync::Arc<std::sync::Mutex<Option<ProgressBar>>> = Default::default();
    let start = std::time::Instant::now();
    let bar = shared.clone();
    // Called for every block read: whether a bar is drawn at all is settled here.
    let shown = shown();
    let f = move |at: u64| {
        if !shown || start.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        let mut b = bar.lock().unwrap_or_else(|p| p.into_inner());
        b.get_or_insert_with(|| Progress::events(total, what).0)
            .set_position(at.min(total));
    };
    (f, Guard(shared))
}

/// Removes a bar made by [`after_a_second`].
pub struct Guard(std::sync::Arc<std::sync::Mutex<Option<ProgressBar>>>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(b) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}
