//! `bantin init` and `bantin new`: files for editors to start from. Never overwrites.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::units::UnitTree;

const INIT_CONFIG: &str = r#"title = "Bản tin"
description = "Bản tin nội bộ: báo cáo các cuộc họp, hội nghị"
language = "vi"
timezone = "+07:00"
paginate = 20
search = true
# base_url = "https://intranet.example/bantin/"   # needed only for feed.xml and sitemap.xml
"#;

const INIT_UNITS: &str = r#"[[unit]]
id = "tinh-uy"
name = "Tỉnh ủy"

[[unit]]
id = "ban-tuyen-giao"
name = "Ban Tuyên giáo Tỉnh ủy"
parent = "tinh-uy"
short = "BTG"

[[unit]]
id = "huyen-uy"
name = "Huyện ủy"
parent = "tinh-uy"
"#;

const INIT_REPORT: &str = r#"+++
title = "Hội nghị triển khai bản tin nội bộ"
date = 2025-01-06T08:00:00+07:00
unit = "ban-tuyen-giao"
kind = "Hội nghị"
authors = ["Ban biên tập"]
tags = ["bản tin"]
+++

Sáng ngày 6/1, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị triển khai bản tin nội bộ
của các đơn vị. Đây là bài mẫu: hãy sửa hoặc xóa nó, rồi viết bài của bạn.

## Cách viết một bài

- Mỗi bài là một tệp `.md` trong `content/`, bắt đầu bằng phần thông tin giữa hai dòng `+++`.
- `unit` là mã một đơn vị trong `units.toml`.
- Chạy `bantin build` để tạo trang trong `public/`.
"#;

fn exists_error(path: &Path) -> Diagnostic {
    Diagnostic::error(
        path,
        "this file already exists; bantin does not overwrite it",
    )
    .hint("choose another name or move the existing file away")
}

fn create_new(path: &Path, text: &str) -> Result<(), Diagnostic> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| Diagnostic::error(parent, format!("cannot create the folder: {e}")))?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                exists_error(path)
            } else {
                Diagnostic::error(path, format!("cannot create the file: {e}"))
            }
        })?;
    f.write_all(text.as_bytes())
        .map_err(|e| Diagnostic::error(path, format!("cannot write the file: {e}")))
}

/// A new site in `dir`, which must not exist or be empty.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(Diagnostic::error(
                dir,
                "this folder is not empty; bantin init only starts sites in a new or empty folder",
            )
            .hint("name a new folder, like: bantin init ban-tin"));
        }
    }
    let files = [
        ("bantin.toml", INIT_CONFIG),
        ("units.toml", INIT_UNITS),
        (
            "content/2025/01/hoi-nghi-trien-khai-ban-tin-noi-bo.md",
            INIT_REPORT,
        ),
        (".gitignore", "/public\n"),
    ];
    let mut made = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        create_new(&path, text)?;
        made.push(path);
    }
    Ok(made)
}

/// Reads `--date`: a day, a day and time, or a full datetime with offset.
pub fn parse_date(s: &str, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, format) {
            return n.and_local_timezone(offset).single();
        }
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(offset)
        .single()
}

fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `bantin new`: a report with its front matter filled in at content/YYYY/MM/SLUG.md.
pub fn new_report(
    root: &Path,
    title: &str,
    unit: &str,
    date: Option<&str>,
) -> Result<PathBuf, Vec<Diagnostic>> {
    let config = crate::load::read_settings(root, "bantin.toml", Config::parse)?;
    let units = crate::load::read_settings(root, "units.toml", UnitTree::parse)?;
    let title = crate::lang::nfc(title.trim());
    let mut problems = Vec::new();
    if title.is_empty() {
        problems.push(
            Diagnostic::error("(command line)", "the title is empty")
                .hint("bantin new \"Hội nghị sơ kết ...\" --unit ID"),
        );
    }
    if units.get(unit).is_none() {
        let hint = match units.suggest(unit) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "units.toml has: {}",
                units.ids().collect::<Vec<_>>().join(", ")
            ),
        };
        problems.push(
            Diagnostic::error(
                "(command line)",
                format!("unit `{unit}` is not in units.toml"),
            )
            .hint(hint),
        );
    }
    let when = match date {
        Some(d) => match parse_date(d, config.offset) {
            Some(when) => when.with_timezone(&config.offset),
            None => {
                problems.push(
                    Diagnostic::error("(command line)", format!("`{d}` is not a date"))
                        .hint("dates look like 2023-09-13 or 2023-09-13T14:00:00+07:00"),
                );
                DateTime::<Utc>::from(std::time::SystemTime::now()).with_timezone(&config.offset)
            }
        },
        None => DateTime::<Utc>::from(std::time::SystemTime::now()).with_timezone(&config.offset),
    };
    let slug = crate::lang::slugify(&title);
    if slug.is_empty() && !title.is_empty() {
        problems.push(
            Diagnostic::error(
                "(command line)",
                "the title has no letters or digits to name the file",
            )
            .hint("write a title with words in it"),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let rel = PathBuf::from("content")
        .join(when.format("%Y").to_string())
        .join(when.format("%m").to_string())
        .join(format!("{slug}.md"));
    let date_text = when.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    let text = format!(
        "+++\ntitle = {}\ndate = {date_text}\nunit = {}\n# kind = \"Hội nghị sơ kết\"\n# authors = [\"\"]\n# documents = [\"\"]\n# tags = [\"\"]\n+++\n\n",
        toml_string(&title),
        toml_string(unit),
    );
    // content/ or a folder of it linked elsewhere would put the file outside the site.
    let mut at = root.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        at.push(part);
        if crate::load::is_symlink(&at) {
            let shown = crate::diag::display_path(root, &at);
            return Err(vec![Diagnostic::error(
                shown,
                "this folder is a symbolic link; bantin new writes only inside the site",
            )
            .hint("replace the link with a real folder")]);
        }
    }
    let path = root.join(&rel);
    create_new(&path, &text).map_err(|mut d| {
        d.file = rel.clone();
        vec![d]
    })?;
    Ok(rel)
}
