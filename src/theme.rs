//! Themes: templates, static files and interface strings, in layers.
//!
//! Lowest layer: the default theme built into the binary (so a site without themes/
//! builds); then `themes/NAME/` of the site; then the site's own `templates/` and
//! `static/`. A later layer's file of the same name wins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use crate::diag::Diagnostic;

static DEFAULT_THEME: Dir = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// The templates every theme must have, after layering (the contract's list).
pub const REQUIRED_TEMPLATES: &[&str] = &[
    "base.html",
    "index.html",
    "report.html",
    "archive.html",
    "year.html",
    "month.html",
    "units.html",
    "unit.html",
    "terms.html",
    "term.html",
    "search.html",
    "404.html",
];

#[derive(Clone, Debug)]
pub enum Bytes {
    Embedded(&'static [u8]),
    Disk(PathBuf),
}

#[derive(Clone, Debug)]
pub struct Template {
    pub name: String,
    pub text: String,
    /// Where it came from, for messages.
    pub shown: PathBuf,
}

#[derive(Clone, Debug, Default)]
pub struct Theme {
    /// By template name.
    pub templates: BTreeMap<String, Template>,
    /// By output path.
    pub statics: BTreeMap<String, Bytes>,
    /// Interface strings by language ("vi", "en"), then by key.
    pub strings: BTreeMap<String, BTreeMap<String, String>>,
}

impl Theme {
    /// Only the theme built into the binary, as `bantin init` writes it out.
    pub fn embedded_files() -> Vec<(PathBuf, &'static [u8])> {
        let mut out = Vec::new();
        collect_embedded(&DEFAULT_THEME, &mut out);
        out.sort();
        out
    }

    pub fn load(root: &Path, name: &str) -> Result<Theme, Vec<Diagnostic>> {
        let mut theme = Theme::default();
        let mut diags = Vec::new();
        let theme_dir = root.join("themes").join(name);
        if name != "default" && !theme_dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    "bantin.toml",
                    format!("theme `{name}` not found: there is no folder themes/{name}/"),
                )
                .hint(
                    "put the theme in themes/ or remove the `theme` line to use the built-in theme",
                ),
            );
            return Err(diags);
        }
        // The built-in templates stand in for any a theme lacks; its static files only
        // come with the default theme itself.
        for (path, bytes) in Theme::embedded_files() {
            let rel = path.to_string_lossy().replace('\\', "/");
            if let Some(t) = rel.strip_prefix("templates/") {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let shown = PathBuf::from("(built-in theme)/templates").join(t);
                theme.templates.insert(
                    t.to_string(),
                    Template {
                        name: t.to_string(),
                        text,
                        shown,
                    },
                );
            } else if let Some(s) = rel.strip_prefix("static/") {
                if name == "default" {
                    theme.statics.insert(s.to_string(), Bytes::Embedded(bytes));
                }
            } else if rel == "i18n.toml" {
                let text = String::from_utf8_lossy(bytes);
                theme.add_strings(&text, Path::new("(built-in theme)/i18n.toml"), &mut diags);
            }
        }
        let linked =
            crate::load::is_symlink(&root.join("themes")) || crate::load::is_symlink(&theme_dir);
        if linked && theme_dir.exists() {
            diags.push(
                Diagnostic::error(
                    Path::new("themes").join(name),
                    "the theme's folder is a symbolic link; bantin reads only the site's own files",
                )
                .hint("copy the theme into themes/ instead of linking to it"),
            );
            return Err(diags);
        }
        if theme_dir.is_dir() {
            let shown = Path::new("themes").join(name);
            theme.add_dir(&theme_dir, &shown, &mut diags);
        }
        theme.add_templates_dir(&root.join("templates"), Path::new("templates"), &mut diags);
        add_statics(
            &mut theme.statics,
            &root.join("static"),
            Path::new("static"),
            &mut diags,
        );
        if diags.is_empty() {
            Ok(theme)
        } else {
            Err(diags)
        }
    }

    fn add_dir(&mut self, dir: &Path, shown: &Path, diags: &mut Vec<Diagnostic>) {
        self.add_templates_dir(&dir.join("templates"), &shown.join("templates"), diags);
        add_statics(
            &mut self.statics,
            &dir.join("static"),
            &shown.join("static"),
            diags,
        );
        let i18n = dir.join("i18n.toml");
        if crate::load::is_symlink(&i18n) {
            diags.push(
                Diagnostic::error(shown.join("i18n.toml"), "symbolic links are not followed")
                    .hint("copy the file here instead of linking to it"),
            );
        } else if i18n.is_file() {
            let shown = shown.join("i18n.toml");
            match crate::load::read_text(&i18n, &shown) {
                Ok(text) => self.add_strings(&text, &shown, diags),
                Err(d) => diags.push(d),
            }
        }
    }

    fn add_templates_dir(&mut self, dir: &Path, shown: &Path, diags: &mut Vec<Diagnostic>) {
        for (rel, abs) in files_under(dir, shown, diags) {
            let shown = shown.join(&rel);
            match crate::load::read_text(&abs, &shown) {
                Ok(text) => {
                    self.templates.insert(
                        rel.clone(),
                        Template {
                            name: rel,
                            text,
                            shown,
                        },
                    );
                }
                Err(d) => diags.push(d),
            }
        }
    }

    fn add_strings(&mut self, text: &str, shown: &Path, diags: &mut Vec<Diagnostic>) {
        match toml::from_str::<BTreeMap<String, BTreeMap<String, String>>>(text) {
            Ok(langs) => {
                for (lang, strings) in langs {
                    self.strings.entry(lang).or_default().extend(strings);
                }
            }
            Err(e) => {
                let mut d = Diagnostic::error(
                    shown,
                    format!("interface strings are not valid: {}", e.message()),
                )
                .hint("i18n.toml holds [vi] and [en] tables of key = \"text\"");
                if let Some(span) = e.span() {
                    d = d.at_offset(text, span.start, 1);
                }
                diags.push(d);
            }
        }
    }
}

fn collect_embedded(dir: &'static Dir<'static>, out: &mut Vec<(PathBuf, &'static [u8])>) {
    for file in dir.files() {
        out.push((file.path().to_path_buf(), file.contents()));
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn add_statics(
    statics: &mut BTreeMap<String, Bytes>,
    dir: &Path,
    shown: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    for (rel, abs) in files_under(dir, shown, diags) {
        statics.insert(rel, Bytes::Disk(abs));
    }
}

/// Regular files under `dir` as ('/'-separated relative path, absolute path). Symbolic
/// links are refused: they could make the build read outside the site.
fn files_under(dir: &Path, shown: &Path, diags: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                diags.push(Diagnostic::error(shown, format!("cannot read: {e}")));
                continue;
            }
        };
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        if rel
            .components()
            .any(|c| c.as_os_str().to_str().is_some_and(|n| n.starts_with('.')))
        {
            continue;
        }
        if entry.file_type().is_symlink() {
            diags.push(
                Diagnostic::error(shown.join(rel), "symbolic links are not followed")
                    .hint("copy the file here instead of linking to it"),
            );
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        if let Some(d) = crate::load::backslash_in_name(rel, &shown.join(rel)) {
            diags.push(d);
            continue;
        }
        match rel.to_str() {
            Some(r) => out.push((r.replace('\\', "/"), entry.path().to_path_buf())),
            None => diags.push(Diagnostic::error(
                shown.join(rel),
                "the file name is not valid Unicode",
            )),
        }
    }
    out
}
