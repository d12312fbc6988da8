//! What long commands show as they go: on a terminal a bar per file (bytes, rate, and
//! percent where the size is known); otherwise a line per finished file, on standard error
//! so that standard output stays the result (and `--json` stays parseable).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bars: Option<MultiProgress>,
    quiet: bool,
}

impl Progress {
    /// `quiet`: no per-file lines (for `--json`); bars still show on a terminal.
    pub fn new(quiet: bool) -> Progress {
        let bars = std::io::stderr().is_terminal().then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { bars, quiet }
    }

    /// Progress of one file of `total` bytes (unknown for a dump still being written).
    pub fn file(&self, name: &str, total: Option<u64>) -> FileProgress {
        let bar = self.bars.as_ref().map(|multi| {
            let (bar, template) = match total {
                Some(n) => (ProgressBar::new(n), "{msg:48!} {bar:24} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {eta:>4}"),
                None => (ProgressBar::no_length(), "{msg:48!} {spinner} {bytes:>10} {binary_bytes_per_sec:>12} {elapsed:>4}"),
            };
            bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            multi.add(bar)
        });
        FileProgress { bar, name: name.to_string(), quiet: self.quiet }
    }

    /// A message for the person at the terminal, above the bars.
    pub fn note(&self, message: &str) {
        self.line(&format!("pgvault: note: {message}"));
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

pub struct FileProgress {
    bar: Option<ProgressBar>,
    name: String,
    quiet: bool,
}

impl FileProgress {
    pub fn add(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// The file is complete at `bytes`.
    pub fn done(mut self, bytes: u64) {
        let line = format!("  {:<60} {bytes:>14} bytes", self.name);
        match self.bar.take() {
            Some(bar) => bar.finish_with_message(format!("{} done", self.name)),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        // A file given up on leaves no bar behind.
        if let Some(bar) = self.bar.take().filter(|b| !b.is_finished()) {
            bar.finish_and_clear();
        }
    }
}
