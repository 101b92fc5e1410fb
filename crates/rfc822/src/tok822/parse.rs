//! Parsing an address list: clustering scanned tokens into addresses.
//!
//! Postfix counterpart: `global/tok822_parse.c` (`tok822_parse_limit()`, `tok822_group()`).
//!
//! The algorithm is Postfix's, step for step, because header rewriting must find the same
//! addresses and write back the same text. It walks the token list from right to left
//! between two sentinels, keeping `right`, the left edge of what is already done:
//!
//! - a comment moves to just before `right`, so comments end up after the address they
//!   annotate;
//! - `;` closes a named group, and the `:` further left then becomes [`Token::StartGroup`];
//! - `>` closes a route address: the tokens up to `<` become one address (comments inside
//!   move out, before `>`), and the phrase before `<` is skipped;
//! - two words in a row without an operator between them are two addresses, and a comma
//!   is inserted between them, as are commas after `>` and `;` when text follows.
//!
//! Nothing is ever dropped, so the tree can be written back as text. The list lives in an
//! arena of doubly linked nodes while it is rearranged, as in Postfix, which makes each
//! step constant time (Postfix itself walks the rest of the list on each grouping); the
//! whole parse is linear and uses no recursion.

use super::scan::scan_limit;
use super::{Addr, Token};

/// The address tree of external-form `text`, such as a header value (`tok822_parse()`).
pub fn parse(text: &str) -> Vec<Token> {
    parse_limit(text, 0)
}

/// [`parse`] of at most `limit` scanned tokens, or all with 0 (`tok822_parse_limit()`;
/// cleanup passes `token_limit`, 10240 by default, to bound work on hostile headers).
pub fn parse_limit(text: &str, limit: usize) -> Vec<Token> {
    let tokens = scan_limit(text, limit);
    if tokens.is_empty() {
        return Vec::new();
    }
    let mut list = List::new(tokens);
    list.cluster();
    list.into_tree()
}

const NIL: usize = usize::MAX;

/// Parser state: whether a word may follow without starting a new address, and whether
/// a `;` was seen, so that a `:` starts a group.
const DO_WORD: u8 = 1 << 0;
const DO_GROUP: u8 = 1 << 1;

enum Content {
    /// The left or right end of the list (Postfix: a token of type 0).
    Sentinel,
    /// A scanned token; never [`Token::Addr`].
    Leaf(Token),
    /// An address; its tokens are the sub-list `head..=tail`.
    Addr,
}

struct Node {
    content: Content,
    prev: usize,
    next: usize,
    head: usize,
}

struct List {
    nodes: Vec<Node>,
    /// The left sentinel; the right one is `nodes[1]`.
    first: usize,
}

impl List {
    /// Links the scanned tokens between two sentinels.
    fn new(tokens: Vec<Token>) -> List {
        let mut list = List {
            nodes: Vec::with_capacity(tokens.len() * 2 + 2),
            first: 0,
        };
        let head = list.alloc(Content::Sentinel);
        let tail = list.alloc(Content::Sentinel);
        let mut last = head;
        for token in tokens {
            let node = list.alloc(Content::Leaf(token));
            list.link(last, node);
            last = node;
        }
        list.link(last, tail);
        list.first = head;
        list
    }

    fn alloc(&mut self, content: Content) -> usize {
        self.nodes.push(Node {
            content,
            prev: NIL,
            next: NIL,
            head: NIL,
        });
        self.nodes.len() - 1
    }

    fn link(&mut self, left: usize, right: usize) {
        self.nodes[left].next = right;
        self.nodes[right].prev = left;
    }

    fn prev(&self, node: usize) -> usize {
        self.nodes[node].prev
    }

    fn leaf(&self, node: usize) -> Option<&Token> {
        match &self.nodes[node].content {
            Content::Leaf(token) => Some(token),
            _ => None,
        }
    }

    fn is_sentinel(&self, node: usize) -> bool {
        matches!(self.nodes[node].content, Content::Sentinel)
    }

    fn is_op(&self, node: usize, op: char) -> bool {
        matches!(self.leaf(node), Some(Token::Op(c)) if *c == op)
    }

    fn is_comment(&self, node: usize) -> bool {
        matches!(self.leaf(node), Some(Token::Comment(_)))
    }

    /// Moves the comment `node` to just before `right`; returns the node that was before
    /// it (the next to look at) and the moved comment (the new `right`).
    fn move_comment(&mut self, node: usize, right: usize) -> (usize, usize) {
        let prev = self.nodes[node].prev;
        let next = self.nodes[node].next;
        self.link(prev, next);
        let before_right = self.nodes[right].prev;
        self.link(before_right, node);
        self.link(node, right);
        (prev, node)
    }

    /// Clusters the tokens strictly between `left` and `right` into an address, and when
    /// `add_comma` puts a comma between `left` and the address (`tok822_group()`).
    /// Returns `left`.
    fn group(&mut self, left: usize, right: usize, add_comma: bool) -> usize {
        let first = self.nodes[left].next;
        if left == right || first == right {
            return left;
        }
        let last = self.nodes[right].prev;
        self.nodes[last].next = NIL;
        self.nodes[first].prev = NIL;
        let addr = self.alloc(Content::Addr);
        self.nodes[addr].head = first;
        self.link(addr, right);
        if add_comma {
            let comma = self.alloc(Content::Leaf(Token::Op(',')));
            self.link(left, comma);
            self.link(comma, addr);
        } else {
            self.link(left, addr);
        }
        left
    }

    /// The right-to-left pass that finds the addresses (the loop of `tok822_parse_limit()`).
    fn cluster(&mut self) {
        let mut state = DO_WORD;
        let mut right = 1;
        let mut tp = self.prev(right);
        while !self.is_sentinel(tp) {
            match self.leaf(tp) {
                Some(Token::Comment(_)) => {
                    (tp, right) = self.move_comment(tp, right);
                    continue;
                }
                Some(Token::Op(';')) => {
                    right = self.group(tp, right, true);
                    state = DO_GROUP | DO_WORD;
                }
                Some(Token::Op(':')) if state & DO_GROUP != 0 => {
                    self.nodes[tp].content = Content::Leaf(Token::StartGroup);
                    self.group(tp, right, false);
                    // The group's name is a phrase: skip it up to the previous comma.
                    while !self.is_sentinel(tp) && !self.is_op(tp, ',') {
                        tp = self.prev(tp);
                    }
                    right = tp;
                    continue;
                }
                Some(Token::Op('>')) => {
                    right = self.group(tp, right, true);
                    while !self.is_sentinel(tp) && !self.is_op(tp, '<') {
                        if self.is_comment(tp) {
                            (tp, right) = self.move_comment(tp, right);
                        } else {
                            tp = self.prev(tp);
                        }
                    }
                    self.group(tp, right, false);
                    // Skip the phrase before `<` up to the end of the previous address.
                    while !self.is_sentinel(tp)
                        && !matches!(self.leaf(tp), Some(Token::Op('>' | ';' | ',' | ':')))
                    {
                        tp = self.prev(tp);
                    }
                    right = tp;
                    state |= DO_WORD;
                    continue;
                }
                Some(Token::Atom(_) | Token::QuotedString(_) | Token::DomainLiteral(_)) => {
                    if state & DO_WORD == 0 {
                        let left = self.group(tp, right, true);
                        right = self.nodes[left].next;
                    }
                    state &= !DO_WORD;
                }
                Some(Token::Op(',')) => {
                    right = self.group(tp, right, false);
                    state |= DO_WORD;
                }
                _ => state |= DO_WORD,
            }
            tp = self.prev(tp);
        }
        self.group(tp, right, false);
    }

    /// Takes the tokens out of the arena as a tree.
    fn into_tree(mut self) -> Vec<Token> {
        let mut tree = Vec::new();
        let mut node = self.nodes[self.first].next;
        while node != NIL {
            match self.take(node) {
                Content::Sentinel => break,
                Content::Leaf(token) => tree.push(token),
                Content::Addr => {
                    let mut tokens = Vec::new();
                    let mut member = self.nodes[node].head;
                    while member != NIL {
                        // Addresses never nest: each grouping covers only tokens that no
                        // earlier grouping touched, so members are all leaves.
                        if let Content::Leaf(token) = self.take(member) {
                            tokens.push(token);
                        }
                        member = self.nodes[member].next;
                    }
                    tree.push(Token::Addr(Addr {
                        tokens,
                        parsed: true,
                    }));
                }
            }
            node = self.nodes[node].next;
        }
        tree
    }

    fn take(&mut self, node: usize) -> Content {
        std::mem::replace(&mut self.nodes[node].content, Content::Sentinel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tok822::{StrFlags, addresses, externalize, internalize};

    fn addrs(text: &str) -> Vec<String> {
        addresses(&parse(text))
            .iter()
            .map(|a| a.internalize())
            .collect()
    }

    #[test]
    fn plain_and_route_addresses() {
        assert_eq!(addrs("wietse@porcupine.org"), ["wietse@porcupine.org"]);
        assert_eq!(
            addrs("\"Joe Q.\" <joe@example.com>, bob (Bob)"),
            ["joe@example.com", "bob"]
        );
        assert_eq!(addrs("<@a,@b:u@d>"), ["@a,@b:u@d"]);
        assert_eq!(addrs("<>"), Vec::<String>::new());
    }

    #[test]
    fn groups() {
        let tree = parse("group: a@b, c@d;");
        assert_eq!(addrs("group: a@b, c@d;"), ["a@b", "c@d"]);
        assert!(tree.contains(&Token::StartGroup));
        assert_eq!(externalize(&tree, StrFlags::DEFL), "group: a@b, c@d;");
    }

    #[test]
    fn missing_commas_are_added() {
        assert_eq!(addrs("a b c"), ["a", "b", "c"]);
        assert_eq!(internalize(&parse("a b c"), StrFlags::DEFL), "a, b, c");
    }

    #[test]
    fn comments_move_after_the_address() {
        let tree = parse("<(x) a@b (y)>");
        assert_eq!(externalize(&tree, StrFlags::DEFL), "<a@b (x) (y)>");
    }

    #[test]
    fn empty_input() {
        assert!(parse("").is_empty());
        assert!(parse(" \t").is_empty());
    }

    #[test]
    fn long_inputs_parse_in_linear_time() {
        let many = "a@b, ".repeat(50_000);
        assert_eq!(addresses(&parse(&many)).len(), 50_000);
        let words = "x ".repeat(50_000);
        assert_eq!(addresses(&parse(&words)).len(), 50_000);
        let nested = format!("{}a@b{}", "<".repeat(50_000), ">".repeat(50_000));
        let text = internalize(&parse(&nested), StrFlags::DEFL);
        assert_eq!(text.matches('<').count(), 50_000, "nothing is dropped");
        assert_eq!(text.matches('>').count(), 50_000);
    }
}
