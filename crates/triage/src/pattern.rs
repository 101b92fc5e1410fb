//! Log line patterns with named captures: `database {db} is older than source file {src}`.
//!
//! Postfix counterpart: none. A rule base kept as data needs patterns a reader can check
//! against Postfix's msg_warn() formats at a glance; these are those formats with each
//! `%s` replaced by a named `{capture}`. Matching is unanchored at the start (the log
//! prefix and the queue id come first) and each literal piece is searched in order; a
//! capture takes the shortest text up to the next literal, the last one runs to the end
//! of the line. No regular expressions: the crate stays dependency-free.

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq)]
enum Piece<'a> {
    Literal(&'a str),
    Capture(&'a str),
}

fn pieces(pattern: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            out.push(Piece::Literal(&rest[..open]));
        }
        out.push(Piece::Capture(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    out
}

/// Matches `pattern` against `text`; the captures by name when it matches.
pub fn matches(pattern: &str, text: &str) -> Option<Vec<(String, String)>> {
    let pieces = pieces(pattern);
    // The first literal may start anywhere; later ones are searched after the previous
    // piece. A leading capture is not anchored either, so it starts at the line start.
    let mut starts: Vec<usize> = Vec::new();
    if let Some(Piece::Literal(first)) = pieces.first() {
        let mut from = 0;
        while let Some(at) = text[from..].find(first) {
            starts.push(from + at);
            from += at + first.len().max(1);
            if from > text.len() {
                break;
            }
        }
    } else {
        starts.push(0);
    }
    'start: for start in starts {
        let mut at = start;
        let mut captures = Vec::new();
        let mut open: Option<&str> = None;
        for piece in &pieces {
            match piece {
                Piece::Literal(lit) => {
                    let found = if open.is_some() {
                        text[at..].find(lit).map(|i| at + i)
                    } else {
                        text[at..].starts_with(lit).then_some(at)
                    };
                    let Some(found) = found else {
                        continue 'start;
                    };
                    if let Some(name) = open.take() {
                        captures.push((name.to_string(), text[at..found].to_string()));
                    }
                    at = found + lit.len();
                }
                Piece::Capture(name) => open = Some(name),
            }
        }
        if let Some(name) = open {
            captures.push((name.to_string(), text[at..].to_string()));
        }
        return Some(captures);
    }
    None
}

/// Replaces `{name}` in `template` by the captured values (unknown names stay).
pub fn fill(template: &str, captures: &[(String, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in captures {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_in_order() {
        let c = matches(
            "warning: database {db} is older than source file {src}",
            "Dec  6 10:00:00 h postfix/smtpd[1]: warning: database /e/t.db is older than source file /e/t",
        )
        .unwrap();
        assert_eq!(
            c,
            vec![
                ("db".into(), "/e/t.db".into()),
                ("src".into(), "/e/t".into())
            ]
        );
        assert_eq!(fill("postmap {src}", &c), "postmap /e/t");
    }

    #[test]
    fn literal_after_capture_must_follow() {
        assert!(
            matches(
                "connect to {host}: Connection refused",
                "connect to x: timed out"
            )
            .is_none()
        );
        assert!(matches("a {x} b", "zz a 1 c a 2 b").is_some());
        assert_eq!(
            matches("a {x} b", "a 1 c a 2 b").unwrap()[0].1,
            "1 c a 2",
            "the first start that matches wins"
        );
    }
}
