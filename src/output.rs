//! Writing the output folder, whole or not at all.
//!
//! Everything is written into a fresh folder beside the output; only when that is
//! complete does it take the output's place. A build that fails or is killed leaves
//! the previous output as it was. Nothing outside the output folder and bantin's own
//! temporary folders beside it is ever written or deleted.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::progress::Progress;
use crate::site::CopiedFile;
use crate::theme::Bytes;

/// Refuses an output folder that would hold or overwrite the site's sources.
pub fn check_out_dir(root: &Path, out: &Path) -> Result<(), Diagnostic> {
    let root = absolute(root);
    let out = absolute(out);
    let refuse = |why: &str| {
        Err(Diagnostic::error(
            &out,
            format!("refusing to write the site into {}: {why}", out.display()),
        )
        .hint("choose an output folder of its own, like --out public (the default)"))
    };
    if out == root {
        return refuse("it is the site's own folder");
    }
    if root.starts_with(&out) {
        return refuse("it holds the site's sources");
    }
    for source in [
        "content",
        "templates",
        "static",
        "themes",
        "bantin.toml",
        "units.toml",
    ] {
        if out.starts_with(root.join(source)) {
            return refuse(&format!("it is inside the site's {source}"));
        }
    }
    if out.is_file() {
        return refuse("it is a file");
    }
    if out.is_dir() {
        for marker in ["bantin.toml", "units.toml", "content", "Cargo.toml", ".git"] {
            if out.join(marker).exists() {
                return refuse(&format!(
                    "it holds {marker}, so it looks like sources, not a built site"
                ));
            }
        }
        let empty = fs::read_dir(&out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !out.join("index.html").is_file() && !out.join("404.html").is_file() {
            return refuse("it is not empty and does not look like a site bantin built (no index.html); bantin replaces the whole folder");
        }
    }
    Ok(())
}

/// A path made absolute and with `.` and `..` removed, without touching the disk
/// (the output folder may not exist yet).
pub fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let p = fs::canonicalize(&p).unwrap_or(p);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// A relative output path that stays inside the output folder.
fn confined(rel: &str) -> Option<&Path> {
    let p = Path::new(rel);
    p.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(p)
}

/// What a write did: files whose bytes changed, and files kept as they were.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
}

/// The output being written: a fresh folder beside `out` that takes its place only on
/// [`Writer::commit`]. Pages are put in as they are rendered, from any thread, so a
/// build never holds the whole site in memory. Dropped without a commit (a failed
/// build), it removes the fresh folder and `out` is as it was.
///
/// A file whose bytes are the same as in the previous output is a hard link to the old
/// file, so it keeps its modification time (a deploy by rsync or an object-store sync
/// uploads only what changed) and costs no write. The two folders are exchanged in one
/// step where the system allows it, so that `out` is at every moment one whole site.
pub struct Writer {
    out: PathBuf,
    parent: PathBuf,
    name: String,
    fresh: PathBuf,
    old: Option<PathBuf>,
    /// Folders made so far, as written in `put` ('/'-separated): hashed as text,
    /// which is much cheaper than a path's hash (component by component).
    folders: Mutex<rustc_hash::FxHashSet<String>>,
    paths: Mutex<Vec<String>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    committed: bool,
}

impl Writer {
    /// Makes the fresh folder (and removes what killed builds left beside `out`).
    pub fn begin(out: &Path) -> io::Result<Writer> {
        let out = absolute(out);
        let parent = out
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        fs::create_dir_all(&parent)?;
        let name = out
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("public")
            .to_string();
        remove_leftovers(&parent, &name);
        let fresh = parent.join(format!(".{name}.bantin-new-{}", std::process::id()));
        if fresh.exists() {
            fs::remove_dir_all(&fresh)?;
        }
        fs::create_dir_all(&fresh)?;
        let old = out.is_dir().then(|| out.clone());
        Ok(Writer {
            out,
            parent,
            name,
            fresh,
            old,
            folders: Mutex::new(Default::default()),
            paths: Mutex::new(Vec::new()),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            committed: false,
        })
    }

    /// Puts one file of the output in, at `rel` (a path inside the output).
    pub fn put(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let path = confined(rel).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing to write outside the output folder: {rel}"),
            )
        })?;
        if let Some((folder, _)) = rel.rsplit_once('/') {
            let known = lock(&self.folders).contains(folder);
            if !known {
                fs::create_dir_all(self.fresh.join(folder))?;
                lock(&self.folders).insert(folder.to_string());
            }
        }
        lock(&self.paths).push(rel.to_string());
        let previous = self.old.as_ref().map(|o| o.join(path));
        let counter = match place(&self.fresh.join(path), previous, bytes)? {
            true => &self.written,
            false => &self.unchanged,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Every path put in so far.
    pub fn paths(&self) -> Vec<String> {
        lock(&self.paths).clone()
    }

    /// Copies the site's files in, in parallel; a page already put at a path wins over
    /// a file of the same name (the site's checks forbid that anyway).
    pub fn copy_files(&self, files: &[CopiedFile], progress: &Progress) -> io::Result<()> {
        let pages: HashSet<String> = lock(&self.paths).iter().cloned().collect();
        files
            .par_iter()
            .filter(|f| !pages.contains(&f.out))
            .map(|f| {
                match &f.from {
                    Bytes::Embedded(bytes) => self.put(&f.out, bytes),
                    Bytes::Disk(src) => self.put(&f.out, &fs::read(src)?),
                }
                .inspect(|_| progress.tick())
            })
            .collect()
    }

    /// Puts the fresh folder in the output's place.
    pub fn commit(mut self) -> io::Result<WriteStats> {
        swap_in(&self.fresh, &self.out, &self.parent, &self.name)?;
        self.committed = true;
        Ok(WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
        })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.fresh);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Folders left by a build that was killed: bantin's own, so removing them is safe.
fn remove_leftovers(parent: &Path, name: &str) {
    let prefixes = [
        format!(".{name}.bantin-new-"),
        format!(".{name}.bantin-old-"),
    ];
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        let pid = prefixes
            .iter()
            .find_map(|p| n.strip_prefix(p.as_str()))
            .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        // A build still running (another bantin on the same output) keeps its folder.
        let running = pid
            .is_some_and(|pid| cfg!(target_os = "linux") && Path::new("/proc").join(pid).exists());
        if pid.is_some() && !running && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Puts `bytes` at `target`: a hard link to `previous` when that file holds the same
/// bytes, a new file otherwise. True when the bytes changed.
fn place(target: &Path, previous: Option<PathBuf>, bytes: &[u8]) -> io::Result<bool> {
    if let Some(prev) = previous {
        let same = fs::symlink_metadata(&prev)
            .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
            && fs::read(&prev).is_ok_and(|old| old == bytes);
        if same {
            if fs::hard_link(&prev, target).is_ok() {
                return Ok(false);
            }
            // No hard links here (some shared drives): a copy that keeps the time.
            fs::write(target, bytes)?;
            if let Ok(modified) = fs::metadata(&prev).and_then(|m| m.modified()) {
                let _ = fs::File::options()
                    .write(true)
                    .open(target)
                    .and_then(|f| f.set_modified(modified));
            }
            return Ok(false);
        }
    }
    fs::write(target, bytes)?;
    Ok(true)
}

fn swap_in(fresh: &Path, out: &Path, parent: &Path, name: &str) -> io::Result<()> {
    if !out.exists() {
        return fs::rename(fresh, out);
    }
    if exchange(fresh, out).is_ok() {
        // `fresh` now holds the previous site.
        return remove_tree(fresh);
    }
    let old = parent.join(format!(".{name}.bantin-old-{}", std::process::id()));
    fs::rename(out, &old)?;
    if let Err(e) = fs::rename(fresh, out) {
        let _ = fs::rename(&old, out);
        return Err(e);
    }
    remove_tree(&old)
}

/// Removes the previous site, its top-level entries in parallel: one thread deleting
/// 20,000 files was a tenth of a rebuild. Each entry goes with `fs::remove_dir_all`,
/// which never follows a symbolic link; a `dir` that is not a folder (a link to one, as
/// the output may have been) is removed itself, never what it points to.
fn remove_tree(dir: &Path) -> io::Result<()> {
    if !fs::symlink_metadata(dir)?.is_dir() {
        return fs::remove_dir_all(dir);
    }
    let entries: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    entries
        .par_iter()
        .try_for_each(|path| match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(path),
            Ok(_) => fs::remove_file(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })?;
    fs::remove_dir(dir)
}

/// Swaps two folders in one atomic step (Linux `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: two valid NUL-terminated paths; the call reads them and touches nothing else.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange here",
    ))
}
