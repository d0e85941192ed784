//! Diagnostics: problems an editor can cause, as values.
//!
//! Every stage collects its problems instead of stopping at the first, so one run of
//! `bantin check` lists everything wrong with a site. A problem names the file (relative
//! to the site root), the line and column where known, says what is wrong and, in `hint`,
//! what to do about it.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, relative to the site root where it is inside it.
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
    /// The offending source line, shown under the message with a caret; a long line
    /// is cut to the part around the column.
    pub source_line: Option<String>,
    /// Characters of `source_line` before the caret, where that line was cut.
    pub source_caret: Option<usize>,
}

impl Diagnostic {
    pub fn error(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
            source_line: None,
            source_caret: None,
        }
    }

    pub fn warning(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets line and column from a byte offset into `text`, whose first line is line
    /// `first_line` of the file, and keeps that line of text for the caret display.
    pub fn at_offset(self, text: &str, offset: usize, first_line: usize) -> Self {
        let (line, column, source) = locate(text, offset);
        self.at_source(first_line + line - 1, column, source)
    }

    /// Sets line and column, and keeps the source line for the caret display: at most
    /// [`SOURCE_WINDOW`] characters of it around the column, so that a thousand errors
    /// on one long line (a list of 100,000 tags) do not keep a thousand copies of it.
    pub fn at_source(self, line: usize, column: usize, source: &str) -> Self {
        let byte = source
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(source.len(), |(i, _)| i);
        self.at_source_byte(line, column, source, byte)
    }

    /// [`Diagnostic::at_source`] where the byte offset of the column in `source` is
    /// known: the work is that of the window, wherever on a long line the column is.
    pub fn at_source_byte(mut self, line: usize, column: usize, source: &str, byte: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        let mut byte = byte.min(source.len());
        while !source.is_char_boundary(byte) {
            byte -= 1;
        }
        let start = source[..byte]
            .char_indices()
            .rev()
            .nth(SOURCE_WINDOW / 2 - 1)
            .map_or(0, |(i, _)| i);
        let rest = &source[start..];
        let end = start
            + rest
                .char_indices()
                .nth(SOURCE_WINDOW)
                .map_or(rest.len(), |(i, _)| i);
        if start == 0 && end == source.len() {
            self.source_line = Some(source.to_string());
            self.source_caret = None;
        } else {
            let mut shown = String::with_capacity(end - start + 8);
            if start > 0 {
                shown.push('…');
            }
            shown.push_str(&source[start..end]);
            if end < source.len() {
                shown.push('…');
            }
            self.source_line = Some(shown);
            let caret = source[start..byte].chars().count() + usize::from(start > 0);
            self.source_caret = Some(caret);
        }
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The most characters of a source line a diagnostic shows.
pub const SOURCE_WINDOW: usize = 160;

/// 1-based line and column (in characters) of a byte offset, and the text of that line.
/// Scans the text up to the offset: to locate many offsets in one text, use [`Lines`].
pub fn locate(text: &str, offset: usize) -> (usize, usize, &str) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[..line_start].matches('\n').count() + 1;
    let column = text[line_start..offset].chars().count() + 1;
    (
        line,
        column,
        text[line_start..line_end].trim_end_matches('\r'),
    )
}

/// Locates many offsets in one text without scanning it again for each: line starts are
/// found once, and the column of an offset after the last one on the same line is
/// counted from there. A report with 100,000 bad keys gets its errors in linear time.
pub struct Lines<'t> {
    text: &'t str,
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
    /// The last offset located and its 1-based column.
    last: (usize, usize),
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines {
            text,
            starts,
            last: (0, 1),
        }
    }

    /// Like [`locate`]: 1-based line, 1-based column in characters, the line's text;
    /// and the byte offset of the column in that text.
    pub fn locate(&mut self, offset: usize) -> (usize, usize, &'t str, usize) {
        let text = self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let line_start = self.starts[line - 1];
        let line_end = self.starts.get(line).map_or(text.len(), |&next| next - 1);
        let (last, last_column) = self.last;
        let column = if last >= line_start && last <= offset {
            last_column + text[last..offset].chars().count()
        } else {
            text[line_start..offset].chars().count() + 1
        };
        self.last = (offset, column);
        let source = text[line_start..line_end].trim_end_matches('\r');
        (
            line,
            column,
            source,
            (offset - line_start).min(source.len()),
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let (Some(source), Some(line)) = (&self.source_line, self.line) {
            let gutter = line.to_string().len();
            write!(f, "\n {:gutter$} |\n {line} | {source}", "")?;
            if let Some(column) = self.column {
                let before = self.source_caret.unwrap_or(column.saturating_sub(1));
                let pad: String = source
                    .chars()
                    .take(before)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n {:gutter$} | {pad}^", "")?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// All the problems of one run, in a stable order (by file, line, column).
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.severity, &a.message)
                .cmp(&(&b.file, b.line, b.column, b.severity, &b.message))
        });
        self.0.dedup();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(word, candidate);
        if score > 0.75 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A path for messages: relative to `root` where it is inside it, '/'-separated.
pub fn display_path(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_agree_with_locate_in_any_order() {
        let text = "a = 1\nđảng = \"ủy\"\r\n\n  x\tyz\nlast";
        let mut lines = Lines::new(text);
        let mut offsets: Vec<usize> = (0..=text.len() + 2).collect();
        // Forward, then backward, then jumping about: the memo must not leak.
        offsets.extend((0..text.len()).rev());
        offsets.extend([3, 20, 1, 30, 8, 8, 0]);
        for offset in offsets {
            let (line, column, source, byte) = lines.locate(offset);
            assert_eq!((line, column, source), locate(text, offset), "at {offset}");
            assert!(byte <= source.len());
        }
    }

    #[test]
    fn a_long_source_line_is_shown_around_the_column() {
        let line = format!("tags = [{}\"!!\"]", "\"ả\", ".repeat(1000));
        let column = 9 + 5 * 1000;
        let d = Diagnostic::error("r.md", "x").at_source(5, column, &line);
        let shown = d.source_line.as_deref().unwrap();
        assert!(shown.chars().count() <= SOURCE_WINDOW + 2, "{shown}");
        assert!(shown.starts_with('…') && !shown.ends_with('…'), "{shown}");
        // The caret stands under the column's character.
        let caret = d.source_caret.unwrap();
        assert_eq!(shown.chars().nth(caret), Some('"'));
        assert_eq!(shown.chars().skip(caret).collect::<String>(), "\"!!\"]");
        let printed = d.to_string();
        let pad = printed
            .lines()
            .last()
            .unwrap()
            .trim_start_matches(" ".repeat(2).as_str());
        assert!(pad.ends_with('^'));
        // A short line stays whole, with the caret at its column.
        let d = Diagnostic::error("r.md", "x").at_source(1, 3, "ab\"c\"");
        assert_eq!(d.source_line.as_deref(), Some("ab\"c\""));
        assert_eq!(d.source_caret, None);
        assert!(d.to_string().ends_with(" |   ^"), "{d}");
    }
}
