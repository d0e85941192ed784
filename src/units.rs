//! `units.toml`: the forest of organizational units.

use std::collections::HashMap;
use std::path::Path;

use crate::diag::{did_you_mean, Diagnostic};
use crate::tomldoc::{TomlDoc, Value};
use toml::de::DeValue;

#[derive(Clone, Debug)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub short: Option<String>,
    pub description: Option<String>,
    pub parent: Option<usize>,
    /// Indexes into the tree, in Vietnamese alphabetical order of their names.
    pub children: Vec<usize>,
    /// From the root down, not including the unit itself.
    pub ancestors: Vec<usize>,
}

/// Units by index; a report refers to its unit by index once loaded.
#[derive(Clone, Debug, Default)]
pub struct UnitTree {
    pub units: Vec<Unit>,
    /// Roots in Vietnamese alphabetical order.
    pub roots: Vec<usize>,
    by_id: HashMap<String, usize>,
}

const KEYS: &[&str] = &["id", "name", "parent", "short", "description"];

/// How many levels a unit tree may have. Real trees have a handful; pages and templates
/// walk the tree recursively, so a tree thousands of levels deep is refused with a
/// message instead of exhausting the stack.
pub const MAX_DEPTH: usize = 1000;

/// The longest unit id: it names a folder of the output (`don-vi/ID/`), and file
/// systems refuse names longer than 255 bytes.
pub const MAX_ID_LEN: usize = 120;

impl UnitTree {
    pub fn get(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.units.iter().map(|u| u.id.as_str())
    }

    /// The ids closest to a mistyped one.
    pub fn suggest(&self, id: &str) -> Option<&str> {
        did_you_mean(id, self.ids())
    }

    /// Units in display order: each root followed by its subtree, depth first.
    pub fn preorder(&self) -> Vec<usize> {
        fn walk(tree: &UnitTree, i: usize, out: &mut Vec<usize>) {
            out.push(i);
            for &c in &tree.units[i].children {
                walk(tree, c, out);
            }
        }
        let mut out = Vec::with_capacity(self.units.len());
        for &r in &self.roots {
            walk(self, r, &mut out);
        }
        out
    }

    pub fn parse(text: &str, file: &Path) -> Result<UnitTree, Vec<Diagnostic>> {
        let mut doc = TomlDoc::new(text, file, 1);
        let Some(table) = doc.parse() else {
            return Err(doc.diagnostics);
        };
        doc.check_keys(&table, &["unit"], "units.toml");
        let mut entries: Vec<(&Value, &crate::tomldoc::Table)> = Vec::new();
        if let Some(list) = table.get("unit") {
            match list.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::Table(t) => entries.push((item, t)),
                            other => doc.type_error("unit", item, other, "a table", "[[unit]]"),
                        }
                    }
                }
                other => doc.type_error("unit", list, other, "a list of tables", "[[unit]]"),
            }
        }

        let mut units: Vec<Unit> = Vec::with_capacity(entries.len());
        let mut parents: Vec<Option<toml::Spanned<String>>> = Vec::with_capacity(entries.len());
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(entries.len());
        let mut id_spans = Vec::with_capacity(entries.len());
        for (item, t) in entries {
            doc.check_keys(t, KEYS, "a [[unit]]");
            let id = doc.string(t, "id");
            let name = doc.string(t, "name");
            let Some(id) = id else {
                if !t.contains_key("id") {
                    let line = doc.line_of(item.span().start);
                    doc.error_whole(line, "this [[unit]] has no `id`", "add a line like: id = \"huyen-uy-cang-long\" (lower case letters, digits and -)");
                }
                continue;
            };
            if id.get_ref().is_empty()
                || !id
                    .get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                doc.error(
                    id.span(),
                    format!(
                        "unit id `{}` may only have lower case letters a-z, digits and -",
                        id.get_ref()
                    ),
                    format!(
                        "write it like: id = \"{}\"",
                        crate::lang::slugify(id.get_ref())
                    ),
                );
                continue;
            }
            if id.get_ref().len() > MAX_ID_LEN {
                doc.error(
                    id.span(),
                    format!(
                        "unit id `{}…` is {} characters long",
                        &id.get_ref()[..40],
                        id.get_ref().len()
                    ),
                    format!("a unit id names a folder of the site: make it at most {MAX_ID_LEN} characters, like: id = \"huyen-uy-cang-long\""),
                );
                continue;
            }
            if let Some(&first) = by_id.get(id.get_ref()) {
                let first_line = doc.line_of(id_spans[first]);
                doc.error(
                    id.span(),
                    format!("unit id `{}` is used twice", id.get_ref()),
                    format!("it is already the id of the unit on line {first_line}; give each unit its own id"),
                );
                continue;
            }
            let name = match name {
                Some(n) if !n.get_ref().trim().is_empty() => n.into_inner(),
                Some(n) => {
                    doc.error(
                        n.span(),
                        "the unit's name is empty",
                        "write the unit's full name between the quotes",
                    );
                    id.get_ref().clone()
                }
                None => {
                    if !t.contains_key("name") {
                        doc.error(
                            id.span(),
                            format!("unit `{}` has no `name`", id.get_ref()),
                            "add a line like: name = \"Huyện ủy Càng Long\"",
                        );
                    }
                    id.get_ref().clone()
                }
            };
            let index = units.len();
            by_id.insert(id.get_ref().clone(), index);
            id_spans.push(id.span().start);
            parents.push(doc.string(t, "parent"));
            units.push(Unit {
                id: id.into_inner(),
                name,
                short: doc
                    .string(t, "short")
                    .map(|s| s.into_inner())
                    .filter(|s| !s.is_empty()),
                description: doc
                    .string(t, "description")
                    .map(|s| s.into_inner())
                    .filter(|s| !s.is_empty()),
                parent: None,
                children: Vec::new(),
                ancestors: Vec::new(),
            });
        }

        for (i, parent) in parents.iter().enumerate() {
            let Some(parent) = parent else { continue };
            match by_id.get(parent.get_ref()) {
                Some(&p) => units[i].parent = Some(p),
                None => {
                    let ids = units.iter().map(|u| u.id.as_str());
                    let hint = match did_you_mean(parent.get_ref(), ids) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => {
                            "parent must be the id of another [[unit]] in units.toml".to_string()
                        }
                    };
                    doc.error(
                        parent.span(),
                        format!("parent `{}` is not a unit in units.toml", parent.get_ref()),
                        hint,
                    );
                }
            }
        }

        // Cycles and depth: walk up from each unit, marking the path, until a root, a unit
        // already done (its depth known) or the current path again (a cycle); the path's
        // depths then follow from the top. Linear in units, without recursion. Of a
        // branch too deep only the first unit past the limit is named.
        const ON_PATH: usize = usize::MAX;
        let mut depth = vec![0usize; units.len()]; // 0: not reached yet; roots are 1
        for start in 0..units.len() {
            let mut path = Vec::new();
            let mut at = Some(start);
            let mut above = 0; // the depth of the unit above the path
            let mut cyclic = false;
            while let Some(i) = at {
                match depth[i] {
                    0 => {
                        depth[i] = ON_PATH;
                        path.push(i);
                        at = units[i].parent;
                    }
                    ON_PATH => {
                        let from = path.iter().position(|&p| p == i).unwrap_or(0);
                        let cycle: Vec<&str> = path[from..]
                            .iter()
                            .map(|&p: &usize| units[p].id.as_str())
                            .collect();
                        if let Some(span) = parents[i].as_ref().map(|p| p.span()) {
                            doc.error(
                                span,
                                format!("units form a cycle: {} -> {}", cycle.join(" -> "), units[i].id),
                                "a unit cannot be below itself; remove or change one of these `parent` lines",
                            );
                        }
                        cyclic = true;
                        break;
                    }
                    known => {
                        above = known;
                        break;
                    }
                }
            }
            for &i in path.iter().rev() {
                above += 1;
                depth[i] = above;
                if above == MAX_DEPTH + 1 && !cyclic {
                    if let Some(span) = parents[i].as_ref().map(|p| p.span()) {
                        doc.error(
                            span,
                            format!(
                                "unit `{}` is on level {above} of the unit tree; bantin allows {MAX_DEPTH} levels",
                                units[i].id
                            ),
                            "check the `parent` lines: a unit tree this deep is most likely a mistake",
                        );
                    }
                }
            }
        }

        if !doc.diagnostics.is_empty() {
            return Err(doc.diagnostics);
        }

        let mut tree = UnitTree {
            units,
            roots: Vec::new(),
            by_id,
        };
        tree.link();
        Ok(tree)
    }

    /// Fills children, roots and ancestors from the parent links (known to be acyclic).
    fn link(&mut self) {
        let keys: Vec<_> = self
            .units
            .iter()
            .map(|u| crate::lang::collation_key(&u.name))
            .collect();
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        order.sort_by(|&a, &b| {
            keys[a]
                .cmp(&keys[b])
                .then_with(|| self.units[a].id.cmp(&self.units[b].id))
        });
        for &i in &order {
            match self.units[i].parent {
                Some(p) => self.units[p].children.push(i),
                None => self.roots.push(i),
            }
        }
        for i in 0..self.units.len() {
            let mut chain = Vec::new();
            let mut at = self.units[i].parent;
            while let Some(p) = at {
                chain.push(p);
                at = self.units[p].parent;
            }
            chain.reverse();
            self.units[i].ancestors = chain;
        }
    }
}
