//! Files the commands write: under a name of the process's own beside the
//! final one, made durable, then renamed into place, so that a file is either
//! whole and new or as it was; never overwritten without `--force`. Only
//! regular files are written: a directory, a device, a FIFO or a socket is
//! refused, and so is a symbolic link (even a dangling one: name the file it
//! points to). `-o -` is standard output.

use super::failure::{Failure, Result};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A new file being written.
pub(super) struct NewFile {
    path: PathBuf,
    partial: PathBuf,
    w: io::BufWriter<std::fs::File>,
}

fn io_failure(path: &Path, e: io::Error) -> Failure {
    Failure::io(format!("cannot write {}: {e}", path.display()))
}

impl NewFile {
    /// Starts `path`: refused when it is a directory, or exists and not
    /// `force`; readable by its owner only when `private`.
    pub(super) fn create(path: &Path, force: bool, private: bool) -> Result<NewFile> {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let t = meta.file_type();
            let what = if t.is_symlink() {
                Some("a symbolic link")
            } else if t.is_dir() {
                Some("a directory")
            } else if !t.is_file() {
                Some("not a regular file (a device, a FIFO or a socket)")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(Failure::usage(format!(
                    "{} is {what}; only a regular file is written",
                    path.display()
                ))
                .hint("name a new or regular file (or `-o -` for standard output)"));
            }
            if !force {
                return Err(Failure::usage(format!("{} already exists", path.display()))
                    .hint("pass --force to overwrite it, or choose another name"));
            }
        }
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".partial-{}", std::process::id()));
        let partial = path.with_file_name(name);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let f = opts
            .open(&partial)
            .map_err(|e| Failure::io(format!("cannot create {}: {e}", partial.display())))?;
        Ok(NewFile {
            path: path.to_path_buf(),
            partial,
            w: io::BufWriter::with_capacity(1 << 16, f),
        })
    }

    /// Where to write.
    pub(super) fn writer(&mut self) -> &mut io::BufWriter<std::fs::File> {
        &mut self.w
    }

    /// Makes what was written durable, still under the partial name.
    pub(super) fn sync(&mut self) -> Result<()> {
        let done = self.w.flush().and_then(|()| self.w.get_ref().sync_all());
        done.map_err(|e| io_failure(&self.path, e))
    }

    /// Makes the file durable and gives it its name; removes it on failure.
    pub(super) fn finish(mut self) -> Result<PathBuf> {
        let done = self.sync();
        let done = done.and_then(|()| {
            std::fs::rename(&self.partial, &self.path).map_err(|e| io_failure(&self.path, e))
        });
        match done {
            Ok(()) => Ok(self.path),
            Err(f) => {
                let _ = std::fs::remove_file(&self.partial);
                Err(f)
            }
        }
    }

    /// Removes the partial file after a failure.
    pub(super) fn abandon(self) {
        drop(self.w);
        let _ = std::fs::remove_file(self.partial);
    }
}

/// Whether `path` is `-`: standard output.
pub(super) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes `bytes` as the new file `path` (`-`: standard output).
pub(super) fn write_new(path: &Path, bytes: &[u8], force: bool, private: bool) -> Result<()> {
    if is_stdout(path) {
        let mut out = io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    let mut f = NewFile::create(path, force, private)?;
    if let Err(e) = f.writer().write_all(bytes) {
        f.abandon();
        return Err(io_failure(path, e));
    }
    f.finish().map(|_| ())
}

/// Where a command's output goes: stdout, or a new file (`-o`).
pub(super) enum Sink<'a, W: Write> {
    Stdout(&'a mut W),
    File(NewFile),
}

impl<'a, W: Write> Sink<'a, W> {
    pub(super) fn new(output: Option<&Path>, force: bool, out: &'a mut W) -> Result<Self> {
        match output {
            None => Ok(Sink::Stdout(out)),
            Some(path) if is_stdout(path) => Ok(Sink::Stdout(out)),
            Some(path) => Ok(Sink::File(NewFile::create(path, force, false)?)),
        }
    }

    pub(super) fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => *w,
            Sink::File(f) => f.writer(),
        }
    }

    /// Ends the output: the file's name, when it went to one.
    pub(super) fn finish(self) -> Result<Option<PathBuf>> {
        match self {
            Sink::Stdout(w) => {
                w.flush()?;
                Ok(None)
            }
            Sink::File(f) => f.finish().map(Some),
        }
    }

    /// Removes a partial file after a failure.
    pub(super) fn abandon(self) {
        if let Sink::File(f) = self {
            f.abandon();
        }
    }
}
