//! Request limits checked before a document is validated or executed: body size, lexical
//! tokens (before the parser runs), aliases, and the size and depth of the document once its
//! fragments are expanded. The last matters because a few bytes of fragments that spread
//! others twice expand exponentially, and every later pass (validation, execution) walks the
//! expansion; here each fragment is measured once, so the check itself stays linear. The
//! schema's validation then applies complexity, depth and directives (see `SchemaLimits`).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::Name;

#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub body_bytes: usize,
    pub tokens: usize,
    pub aliases: usize,
    /// Fields after fragment expansion; the complexity limit, which counts every field at
    /// least once, can never pass more.
    pub expanded_fields: usize,
    pub depth: usize,
}

impl RequestLimits {
    /// Counts tokens without building anything, so a huge document is refused cheaply.
    pub fn check_tokens(&self, query: &str) -> Result<(), String> {
        let count = count_tokens(query, self.tokens + 1);
        if count > self.tokens {
            return Err(format!(
                "The document has more than {} tokens (limit GATEWAY_MAX_TOKENS).",
                self.tokens
            ));
        }
        Ok(())
    }

    pub fn check_document(&self, document: &ExecutableDocument) -> Result<(), String> {
        let mut aliases = 0;
        for (_, operation) in document.operations.iter() {
            aliases += count_aliases(&operation.node.selection_set.node);
        }
        for fragment in document.fragments.values() {
            aliases += count_aliases(&fragment.node.selection_set.node);
        }
        if aliases > self.aliases {
            return Err(format!(
                "The document uses {aliases} aliases; at most {} are allowed (limit GATEWAY_MAX_ALIASES).",
                self.aliases
            ));
        }
        let mut expansion = Expansion {
            document,
            measured: HashMap::new(),
            open: HashSet::new(),
        };
        for (_, operation) in document.operations.iter() {
            let size = expansion.set(&operation.node.selection_set.node)?;
            if size.fields > self.expanded_fields as u64 {
                return Err(format!(
                    "Query is too complex: it expands to more than {} fields (limit GATEWAY_MAX_COMPLEXITY).",
                    self.expanded_fields
                ));
            }
            if size.depth > self.depth as u64 {
                return Err(format!(
                    "Query is nested too deep: more than {} levels (limit GATEWAY_MAX_DEPTH).",
                    self.depth
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Size {
    fields: u64,
    depth: u64,
}

/// Measures selection sets with fragments expanded, each fragment once.
struct Expansion<'a> {
    document: &'a ExecutableDocument,
    measured: HashMap<&'a Name, Size>,
    /// Fragments being measured: meeting one again is a cycle.
    open: HashSet<&'a Name>,
}

impl<'a> Expansion<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Result<Size, String> {
        let mut total = Size::default();
        for item in &set.items {
            let (inner, is_field) = match &item.node {
                Selection::Field(field) => (self.set(&field.node.selection_set.node)?, true),
                Selection::InlineFragment(fragment) => {
                    (self.set(&fragment.node.selection_set.node)?, false)
                }
                Selection::FragmentSpread(spread) => {
                    (self.fragment(&spread.node.fragment_name.node)?, false)
                }
            };
            let own = u64::from(is_field);
            total.fields = total
                .fields
                .saturating_add(own)
                .saturating_add(inner.fields);
            total.depth = total.depth.max(inner.depth.saturating_add(own));
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a Name) -> Result<Size, String> {
        if let Some(size) = self.measured.get(name) {
            return Ok(*size);
        }
        // An unknown fragment is left for validation to name.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Size::default());
        };
        if !self.open.insert(name) {
            return Err(format!("Fragment \"{name}\" spreads itself."));
        }
        let size = self.set(&fragment.node.selection_set.node)?;
        self.open.remove(name);
        self.measured.insert(name, size);
        Ok(size)
    }
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some())
                    + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// GraphQL lexical tokens (punctuators, names, numbers, strings), stopping once `stop` is
/// reached. Whitespace, commas and comments are ignored, as the grammar does.
fn count_tokens(text: &str, stop: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() && count < stop {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            0xEF if bytes[i..].starts_with("\u{feff}".as_bytes()) => i += 3,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                count += 1;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                count += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                i += 3;
                count += 1;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'+' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
                count += 1;
            }
            _ => {
                // A punctuator, or a character the parser will reject: one token either way.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits {
            body_bytes: 1 << 16,
            tokens: 2000,
            aliases: 30,
            expanded_fields: 1000,
            depth: 16,
        }
    }

    fn check(query: &str) -> Result<(), String> {
        limits().check_document(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn fragments_that_double_are_measured_in_linear_time() {
        // 60 fragments each spreading the next twice: 2^60 fields once expanded.
        let mut query = String::from("{ ...F0 }\n");
        for i in 0..60 {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        query.push_str("fragment F60 on Query { __typename }");
        let err = check(&query).unwrap_err();
        assert!(err.contains("GATEWAY_MAX_COMPLEXITY"), "{err}");
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let err = check("{ ...A } fragment A on Query { ...A ...A }").unwrap_err();
        assert!(err.contains("spreads itself"), "{err}");
        let err =
            check("{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }")
                .unwrap_err();
        assert!(err.contains("spreads itself"), "{err}");
    }

    #[test]
    fn depth_counts_fields_through_fragments() {
        let mut deep = String::from("name");
        for _ in 0..16 {
            deep = format!("f {{ {deep} }}");
        }
        assert!(
            check(&format!("{{ ...A }} fragment A on Query {{ {deep} }}"))
                .unwrap_err()
                .contains("GATEWAY_MAX_DEPTH")
        );
        assert!(check("{ a { ...B } } fragment B on X { b { c } }").is_ok());
    }

    #[test]
    fn counts_graphql_tokens_again_from_here() {
        assert_eq!(count_tokens("{ a }", 100), 3);
    }

    #[test]
    fn counts_graphql_tokens() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = -1.5e3) { f(a: \"s, t\") @d ...F }", 100),
            22
        );
        assert_eq!(count_tokens("# only a comment\n,,,", 100), 0);
        assert_eq!(count_tokens("\"\"\"block \\\"\"\" string\"\"\" x", 100), 2);
        assert_eq!(count_tokens(&"a ".repeat(1000), 10), 10);
    }
}
