//! The progress of a long build: a bar on a terminal, plain lines in a log.
//!
//! Nothing is shown for the first second (`BANTIN_PROGRESS_AFTER_MS` changes that), so
//! a short build prints nothing more than before. Pages and files tick one atomic
//! counter, which is all a build pays per page. On a terminal a thread of its own draws
//! the bar (stage, done/total, time) ten times a second and clears it at the end. When
//! stderr is not a terminal, each stage prints one line as it ends
//! (`render: 25623 pages in 1.9 s`), once the build has run past the threshold: the
//! lines of stages that ended before it are printed then.

use std::fmt;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Milliseconds of quiet before anything is shown (default 1000); `off` shows nothing.
pub const AFTER_VAR: &str = "BANTIN_PROGRESS_AFTER_MS";
const DEFAULT_AFTER: Duration = Duration::from_secs(1);
const REDRAW: Duration = Duration::from_millis(100);

/// How the progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// One line per stage as it ends (a log, a pipe, CI).
    Lines,
}

/// A build's progress. Cheap to clone and to share between threads; the default shows
/// nothing and costs one branch per tick.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Inner>>);

struct Inner {
    started: Instant,
    after: Duration,
    display: Display,
    /// Done in the current stage: the only thing written per page.
    pos: AtomicU64,
    /// Changed only between stages.
    state: Mutex<State>,
    wake: Condvar,
    drawer: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct State {
    stage: Option<Stage>,
    /// Counts stage changes, so the drawing thread sees each.
    generation: u64,
    finished: bool,
    /// Lines of ended stages, kept while the build is still short.
    held: Vec<String>,
}

struct Stage {
    name: &'static str,
    /// What is counted: "pages", "files"; empty for a stage counted by nothing.
    unit: &'static str,
    len: Option<u64>,
    started: Instant,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(inner) => write!(f, "Progress({:?})", inner.display),
            None => f.write_str("Progress(off)"),
        }
    }
}

impl Progress {
    /// Shows nothing.
    pub fn off() -> Progress {
        Progress(None)
    }

    /// The progress of a build run from the command line: a bar when stderr is a
    /// terminal, lines otherwise, after [`AFTER_VAR`] (default one second).
    pub fn for_stderr() -> Progress {
        let after = match std::env::var(AFTER_VAR) {
            Err(_) => DEFAULT_AFTER,
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(ms) => Duration::from_millis(ms),
                // "off", "never", anything else: nothing shown.
                Err(_) => return Progress::off(),
            },
        };
        let terminal =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let display = if terminal {
            Display::Bar
        } else {
            Display::Lines
        };
        Progress::new(display, after)
    }

    /// Starts counting now; shows nothing before `after` has passed.
    pub fn new(display: Display, after: Duration) -> Progress {
        let inner = Arc::new(Inner {
            started: Instant::now(),
            after,
            display,
            pos: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            drawer: Mutex::new(None),
        });
        if display == Display::Bar {
            let drawing = Arc::clone(&inner);
            let handle = std::thread::Builder::new()
                .name("bantin-progress".into())
                .spawn(move || draw(&drawing))
                .ok();
            *lock(&inner.drawer) = handle;
        }
        Progress(Some(inner))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Ends the current stage (its line, when lines are shown) and starts `name`,
    /// counting `unit` out of `len` if known.
    pub fn stage(&self, name: &'static str, unit: &'static str, len: Option<usize>) {
        let Some(inner) = &self.0 else { return };
        let mut state = lock(&inner.state);
        if state.finished {
            return;
        }
        inner.end_stage(&mut state);
        inner.pos.store(0, Relaxed);
        state.stage = Some(Stage {
            name,
            unit,
            len: len.map(|l| l as u64),
            started: Instant::now(),
        });
        state.generation += 1;
        drop(state);
        inner.wake.notify_all();
    }

    /// One more page or file done.
    #[inline]
    pub fn tick(&self) {
        if let Some(inner) = &self.0 {
            inner.pos.fetch_add(1, Relaxed);
        }
    }

    /// `n` more done at once.
    pub fn add(&self, n: usize) {
        if let Some(inner) = &self.0 {
            inner.pos.fetch_add(n as u64, Relaxed);
        }
    }

    /// The build is done: the last stage's line, and the bar cleared. Later calls do nothing.
    pub fn finish(&self) {
        self.stop(true);
    }

    /// The build failed: the bar cleared, no line for the stage it failed in.
    pub fn abandon(&self) {
        self.stop(false);
    }

    fn stop(&self, done: bool) {
        let Some(inner) = &self.0 else { return };
        let mut state = lock(&inner.state);
        if state.finished {
            return;
        }
        if done {
            inner.end_stage(&mut state);
        }
        state.stage = None;
        state.finished = true;
        drop(state);
        inner.wake.notify_all();
        let drawer = lock(&inner.drawer).take();
        if let Some(drawer) = drawer {
            let _ = drawer.join();
        }
    }
}

impl Inner {
    /// Lines only: the current stage's line, printed if the build is long by now.
    fn end_stage(&self, state: &mut State) {
        if self.display != Display::Lines {
            return;
        }
        let Some(stage) = state.stage.take() else {
            return;
        };
        state.held.push(stage_line(
            stage.name,
            stage.unit,
            self.pos.load(Relaxed),
            stage.started.elapsed(),
        ));
        if self.started.elapsed() >= self.after {
            for line in state.held.drain(..) {
                eprintln!("{line}");
            }
        }
    }
}

/// "render: 25623 pages in 1.9 s"; "model: 0.4 s" for a stage that counts nothing.
pub fn stage_line(name: &str, unit: &str, done: u64, took: Duration) -> String {
    let secs = took.as_secs_f64();
    if unit.is_empty() {
        format!("{name}: {secs:.1} s")
    } else {
        format!("{name}: {done} {unit} in {secs:.1} s")
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The bar's thread: waits out the quiet start, then redraws until the build ends.
fn draw(inner: &Inner) {
    let state = lock(&inner.state);
    let (mut state, _) = inner
        .wake
        .wait_timeout_while(state, inner.after, |s| !s.finished)
        .unwrap_or_else(|e| e.into_inner());
    if state.finished {
        return;
    }
    // Styled before it is shown, so that no half-made bar is ever drawn.
    let bar = ProgressBar::hidden();
    bar.set_elapsed(inner.started.elapsed());
    let mut shown = None;
    while !state.finished {
        let pos = inner.pos.load(Relaxed);
        if shown != Some(state.generation) {
            shown = Some(state.generation);
            let len = state.stage.as_ref().and_then(|s| s.len);
            if let Some(stage) = &state.stage {
                bar.set_style(stage_style(stage));
            }
            // One redraw for the new stage, not one per setting.
            bar.update(|s| {
                s.set_len(len.unwrap_or(0));
                s.set_pos(pos);
            });
            if bar.is_hidden() {
                bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            }
        } else {
            bar.set_position(pos);
        }
        state = inner
            .wake
            .wait_timeout(state, REDRAW)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    drop(state);
    bar.finish_and_clear();
}

/// "  render [=====>     ] 1200/25623 pages   00:00:03": the stage's name and unit are
/// part of the template (names are plain words).
fn stage_style(stage: &Stage) -> ProgressStyle {
    let (name, unit) = (stage.name, stage.unit);
    let template = if stage.len.is_some() {
        format!("{name:>8} [{{bar:30}}] {{pos}}/{{len}} {unit}   {{elapsed_precise}}")
    } else {
        format!("{name:>8} {{spinner}} {{pos}} {unit}   {{elapsed_precise}}")
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_well() {
        assert_eq!(
            stage_line("render", "pages", 25623, Duration::from_millis(1940)),
            "render: 25623 pages in 1.9 s"
        );
        assert_eq!(
            stage_line("model", "", 0, Duration::from_millis(420)),
            "model: 0.4 s"
        );
    }

    #[test]
    fn off_does_nothing_and_finishing_twice_is_harmless() {
        let off = Progress::default();
        off.stage("load", "reports", None);
        off.tick();
        off.finish();
        assert!(!off.is_on());
        let p = Progress::new(Display::Bar, Duration::from_secs(3600));
        p.stage("render", "pages", Some(3));
        let shared = p.clone();
        std::thread::scope(|s| {
            s.spawn(|| shared.tick());
            s.spawn(|| p.tick());
        });
        p.finish();
        p.finish();
        p.abandon();
    }
}
