//! A readable dump of a token tree, for verbose logging and tests.
//!
//! Postfix counterpart: `tok822_print()` in the test driver of `global/tok822_parse.c`.
//! The format is the driver's, byte for byte, so that golden files recorded with Postfix's
//! driver compare directly: one token per line, two more spaces of indent per address level.

use super::Token;

/// The tree, one token per line: `OP "<"`, `atom "joe"`, `address` followed by its tokens
/// indented, `group ":"`, `quoted string "..."`, `comment "(...)"`, `domain literal "..."`.
/// Token text is shown as is, without escaping.
pub fn print_tree(tokens: &[Token]) -> String {
    let mut out = String::new();
    print(&mut out, tokens, 0);
    out
}

fn print(out: &mut String, tokens: &[Token], indent: usize) {
    for token in tokens {
        // Postfix prints "%*s %s" with an empty string: the indent, then one space.
        out.push_str(&" ".repeat(indent + 1));
        match token {
            Token::Op(op) => out.push_str(&format!("OP \"{op}\"\n")),
            Token::Addr(addr) => {
                out.push_str("address\n");
                print(out, &addr.tokens, indent + 2);
            }
            Token::StartGroup => out.push_str("group \":\"\n"),
            Token::Atom(text) => out.push_str(&format!("atom \"{text}\"\n")),
            Token::QuotedString(text) => out.push_str(&format!("quoted string \"{text}\"\n")),
            Token::Comment(text) => out.push_str(&format!("comment \"{text}\"\n")),
            Token::DomainLiteral(text) => out.push_str(&format!("domain literal \"{text}\"\n")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tok822::parse;

    #[test]
    fn dump_format() {
        let dump = print_tree(&parse("Joe <joe@x> (c)"));
        assert_eq!(
            dump,
            " atom \"Joe\"\n OP \"<\"\n address\n   atom \"joe\"\n   OP \"@\"\n   atom \"x\"\n OP \">\"\n comment \"(c)\"\n"
        );
    }
}
