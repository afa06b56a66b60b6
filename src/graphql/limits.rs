//! Request limits checked before a document is validated or executed: body size, lexical
//! tokens (before the parser runs), and aliases. Depth, complexity and directives per field
//! are enforced by the schema's validation (see `SchemaLimits`).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub body_bytes: usize,
    pub tokens: usize,
    pub aliases: usize,
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
        Ok(())
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
    use super::count_tokens;

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
