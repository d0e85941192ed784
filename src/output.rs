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

/// Writes the whole site into `out`, replacing what was there only on success.
pub fn write_site(out: &Path, pages: &[Rendered], files: &[CopiedFile]) -> io::Result<()> {
    let out = absolute(out);
    let parent = out
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&parent)?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("public");
    let fresh = parent.join(format!(".{name}.bantin-new-{}", std::process::id()));
    if fresh.exists() {
        fs::remove_dir_all(&fresh)?;
    }
    fs::create_dir_all(&fresh)?;
    let result = fill(&fresh, pages, files).and_then(|()| swap_in(&fresh, &out, &parent, name));
    if result.is_err() {
        let _ = fs::remove_dir_all(&fresh);
    }
    result
}

fn fill(dir: &Path, pages: &[Rendered], files: &[CopiedFile]) -> io::Result<()> {
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
    // Copied files first, so that a generated page wins over a file of the same name.
    files.par_iter().try_for_each(|f| {
        let rel = confined(&f.out).ok_or_else(|| bad(&f.out))?;
        match &f.from {
            Bytes::Embedded(bytes) => fs::write(dir.join(rel), bytes),
            Bytes::Disk(src) => fs::copy(src, dir.join(rel)).map(|_| ()),
        }
    })?;
    pages.par_iter().try_for_each(|p| {
        let rel = confined(&p.path).ok_or_else(|| bad(&p.path))?;
        fs::write(dir.join(rel), &p.bytes)
    })
}

fn swap_in(fresh: &Path, out: &Path, parent: &Path, name: &str) -> io::Result<()> {
    if !out.exists() {
        return fs::rename(fresh, out);
    }
    let old = parent.join(format!(".{name}.bantin-old-{}", std::process::id()));
    if old.exists() {
        fs::remove_dir_all(&old)?;
    }
    fs::rename(out, &old)?;
    if let Err(e) = fs::rename(fresh, out) {
        let _ = fs::rename(&old, out);
        return Err(e);
    }
    fs::remove_dir_all(&old)
}
