//! Typed reading of TOML documents that keeps going after a problem.
//!
//! bantin.toml, units.toml and every report's front matter are read through this, so
//! that all of their problems are reported at once, each with the line and column of
//! the key or value at fault (serde would stop at the first and lose the position of
//! an unknown key).

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{did_you_mean, Diagnostic};

pub type Table<'i> = DeTable<'i>;
pub type Value<'i> = Spanned<DeValue<'i>>;

/// A TOML text being read: where it came from, and the problems found so far.
pub struct TomlDoc<'a> {
    pub text: &'a str,
    pub file: PathBuf,
    /// Line of the file on which `text` starts (front matter starts on line 2).
    pub first_line: usize,
    pub diagnostics: Vec<Diagnostic>,
    /// Line starts of `text`, made at the first problem found.
    lines: Option<crate::diag::Lines<'a>>,
}

impl<'a> TomlDoc<'a> {
    pub fn new(text: &'a str, file: &Path, first_line: usize) -> Self {
        TomlDoc {
            text,
            file: file.to_path_buf(),
            first_line,
            diagnostics: Vec::new(),
            lines: None,
        }
    }

    /// Line of the file, column, the text of the line and the byte offset of the column
    /// in it, of a byte offset into `text`.
    fn locate(&mut self, offset: usize) -> (usize, usize, &'a str, usize) {
        let text = self.text;
        let (line, column, source, byte) = self
            .lines
            .get_or_insert_with(|| crate::diag::Lines::new(text))
            .locate(offset);
        (line + self.first_line - 1, column, source, byte)
    }

    /// Line of the file of a byte offset into `text`.
    pub fn line_of(&mut self, offset: usize) -> usize {
        self.locate(offset).0
    }

    /// Parses the text; syntax errors are recorded and give `None`.
    pub fn parse(&mut self) -> Option<Table<'a>> {
        match DeTable::parse(self.text) {
            Ok(table) => Some(table.into_inner()),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim().to_string();
                self.error(
                    span,
                    format!("this is not valid TOML: {message}"),
                    "strings need double quotes (title = \"...\"), lists need brackets (tags = [\"a\", \"b\"]), and each key may appear once",
                );
                None
            }
        }
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let (line, column, source, byte) = self.locate(span.start);
        let d = Diagnostic::error(&self.file, message)
            .at_source_byte(line, column, source, byte)
            .hint(hint);
        self.diagnostics.push(d);
    }

    /// An error that belongs to the document as a whole (a missing key).
    pub fn error_whole(
        &mut self,
        line: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.diagnostics.push(
            Diagnostic::error(&self.file, message)
                .at_line(line)
                .hint(hint),
        );
    }

    /// Reports every key of `table` not in `known`, with the closest known key.
    pub fn check_keys(&mut self, table: &Table, known: &[&str], what: &str) {
        for key in table.keys() {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let hint = match did_you_mean(name, known.iter().copied()) {
                Some(close) => format!(
                    "did you mean `{close}`? {what} may have: {}",
                    known.join(", ")
                ),
                None => format!("{what} may have: {}", known.join(", ")),
            };
            self.error(key.span(), format!("unknown key `{name}`"), hint);
        }
    }

    pub fn string(&mut self, table: &Table, key: &str) -> Option<Spanned<String>> {
        let value = table.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(value.span(), crate::lang::nfc(s))),
            other => {
                self.type_error(key, value, other, "a string", &format!("{key} = \"...\""));
                None
            }
        }
    }

    pub fn strings(&mut self, table: &Table, key: &str) -> Vec<Spanned<String>> {
        let Some(value) = table.get(key) else {
            return Vec::new();
        };
        match value.get_ref() {
            DeValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => {
                            out.push(Spanned::new(item.span(), crate::lang::nfc(s)))
                        }
                        other => self.type_error(
                            key,
                            item,
                            other,
                            "a string",
                            &format!("{key} = [\"...\", \"...\"]"),
                        ),
                    }
                }
                out
            }
            other => {
                self.type_error(
                    key,
                    value,
                    other,
                    "a list of strings",
                    &format!("{key} = [\"...\", \"...\"]"),
                );
                Vec::new()
            }
        }
    }

    pub fn bool(&mut self, table: &Table, key: &str) -> Option<bool> {
        let value = table.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.type_error(key, value, other, "true or false", &format!("{key} = true"));
                None
            }
        }
    }

    pub fn integer(&mut self, table: &Table, key: &str, min: i64) -> Option<i64> {
        let value = table.get(key)?;
        let example = format!("{key} = {}", min.max(1) * 20);
        match value.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) if n >= min => Some(n),
                    _ => {
                        self.error(
                            value.span(),
                            format!("`{key}` must be a whole number of at least {min}"),
                            example,
                        );
                        None
                    }
                }
            }
            other => {
                self.type_error(key, value, other, "a whole number", &example);
                None
            }
        }
    }

    pub fn table<'t>(&mut self, table: &'t Table<'a>, key: &str) -> Option<&'t Table<'a>> {
        let value = table.get(key)?;
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.type_error(key, value, other, "a table", &format!("[{key}]"));
                None
            }
        }
    }

    pub fn type_error(
        &mut self,
        key: &str,
        value: &Value,
        found: &DeValue,
        expected: &str,
        example: &str,
    ) {
        self.error(
            value.span(),
            format!("`{key}` must be {expected}, not {}", type_name(found)),
            format!("write it like: {example}"),
        );
    }
}

pub fn type_name(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// A free TOML table (`[extra]`) as JSON for templates. Dates become their TOML text.
pub fn to_json(value: &DeValue) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        DeValue::String(s) => J::String(crate::lang::nfc(s)),
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .map(J::from)
            .unwrap_or_else(|_| J::String(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(J::Null, J::Number),
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(items) => J::Array(items.iter().map(|v| to_json(v.get_ref())).collect()),
        DeValue::Table(t) => table_to_json(t),
    }
}

pub fn table_to_json(table: &Table) -> serde_json::Value {
    let map = table
        .iter()
        .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
        .collect::<serde_json::Map<_, _>>();
    serde_json::Value::Object(map)
}
