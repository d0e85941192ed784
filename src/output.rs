//! Writing the output folder, whole or not at all.
//!
//! Everything is written into a fresh folder beside the output; only when that is
//! complete does it take the output's place. A build that fails or is killed leaves
//! the previous output as it was. Nothing outside the output folder and bantin's own
//! temporary folders beside it is ever written or deleted.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::progress::Progress;
use crate::render::Rendered;
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

/// Writes the whole site into `out`, replacing what was there only on success.
///
/// The new site is made in a fresh folder beside `out`. A file whose bytes are the same
/// as in the previous output is a hard link to the old file, so it keeps its
/// modification time (a deploy by rsync or an object-store sync uploads only what
/// changed) and costs no write. The two folders are then exchanged in one step where
/// the system allows it, so that `out` is at every moment one whole site. `progress`
/// is ticked once per file.
pub fn write_site(
    out: &Path,
    pages: &[Rendered],
    files: &[CopiedFile],
    progress: &Progress,
) -> io::Result<WriteStats> {
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
    fs::create_dir_all(&fresh)?;
    let old = out.is_dir().then_some(out.as_path());
    let result = fill(&fresh, old, pages, files, progress)
        .and_then(|stats| swap_in(&fresh, &out, &parent, &name).map(|()| stats));
    if result.is_err() {
        let _ = fs::remove_dir_all(&fresh);
    }
    result
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

fn fill(
    dir: &Path,
    old: Option<&Path>,
    pages: &[Rendered],
    files: &[CopiedFile],
    progress: &Progress,
) -> io::Result<WriteStats> {
    // Folders first, once each, then the files in parallel.
    let mut folders: Vec<PathBuf> = pages
        .iter()
        .map(|p| p.path.as_str())
        .chain(files.iter().map(|f| f.out.as_str()))
        .filter_map(|rel| confined(rel).and_then(Path::parent).map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    for f in &folders {
        fs::create_dir_all(dir.join(f))?;
    }
    let bad = |rel: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to write outside the output folder: {rel}"),
        )
    };
    let previous = |rel: &Path| old.map(|o| o.join(rel));
    // A generated page wins over a copied file of the same name (site checks forbid it).
    let pages_by_path: std::collections::HashSet<&str> =
        pages.iter().map(|p| p.path.as_str()).collect();
    let copied = files
        .par_iter()
        .filter(|f| !pages_by_path.contains(f.out.as_str()))
        .map(|f| {
            let rel = confined(&f.out).ok_or_else(|| bad(&f.out))?;
            match &f.from {
                Bytes::Embedded(bytes) => place(&dir.join(rel), previous(rel), bytes),
                Bytes::Disk(src) => place(&dir.join(rel), previous(rel), &fs::read(src)?),
            }
        })
        .inspect(|_| progress.tick());
    let written = pages
        .par_iter()
        .map(|p| {
            let rel = confined(&p.path).ok_or_else(|| bad(&p.path))?;
            place(&dir.join(rel), previous(rel), &p.bytes)
        })
        .inspect(|_| progress.tick());
    let changed: Vec<bool> = copied.chain(written).collect::<io::Result<_>>()?;
    let written = changed.iter().filter(|c| **c).count();
    Ok(WriteStats {
        written,
        unchanged: changed.len() - written,
    })
}

fn swap_in(fresh: &Path, out: &Path, parent: &Path, name: &str) -> io::Result<()> {
    if !out.exists() {
        return fs::rename(fresh, out);
    }
    if exchange(fresh, out).is_ok() {
        // `fresh` now holds the previous site.
        return fs::remove_dir_all(fresh);
    }
    let old = parent.join(format!(".{name}.bantin-old-{}", std::process::id()));
    fs::rename(out, &old)?;
    if let Err(e) = fs::rename(fresh, out) {
        let _ = fs::rename(&old, out);
        return Err(e);
    }
    fs::remove_dir_all(&old)
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
