//! Plain documentation text to man(7) markup.
//!
//! Postfix counterpart: `mantools/srctoman` and `mantools/postconf2man`, which turn
//! Postfix's source comments and postconf.proto into roff. The input here is a doc
//! comment or a declaration's doc string: paragraphs separated by blank lines, `code` in
//! backticks, rustdoc links `[name]`, and indented blocks shown as they are.

/// Text made safe for roff: backslashes doubled as `\e`, a leading `.` or `'` (a request
/// to roff) guarded, and hyphens written as `\-` so options and names copy as typed.
pub fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

/// Like [`escape`], with break points (`\:`, which prints nothing) after commas and
/// inside words longer than a line can hold, so that a long default value such as
/// `1234567890!@%-_=+:,./abc...XYZ` wraps instead of running off the page.
pub fn breakable(text: &str) -> String {
    const LONGEST: usize = 30;
    let mut out = String::new();
    let mut piece = String::new();
    let mut run = 0;
    for c in text.chars() {
        piece.push(c);
        run = if c.is_whitespace() { 0 } else { run + 1 };
        if c == ',' || run >= LONGEST {
            out.push_str(&escape(&piece));
            out.push_str("\\:");
            piece.clear();
            run = 0;
        }
    }
    out.push_str(&escape(&piece));
    out
}

/// Inline markup: `code` in bold, rustdoc links reduced to their text.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut code = false;
    let text = text.replace("[`", "`").replace("`]", "`");
    for (i, piece) in text.split('`').enumerate() {
        if i > 0 {
            code = !code;
            out.push_str(if code { "\\fB" } else { "\\fR" });
        }
        out.push_str(&escape(piece).replace("\\&", ""));
    }
    if code {
        out.push_str("\\fR");
    }
    out
}

/// Paragraphs of documentation as man(7) body text.
pub fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut block = false;
    let flush = |paragraph: &mut Vec<&str>, out: &mut String| {
        if !paragraph.is_empty() {
            out.push_str(".PP\n");
            // Words joined then refilled by man itself; a line never begins with a dot.
            let joined = paragraph.join(" ");
            let line = inline(joined.trim());
            if line.starts_with('.') || line.starts_with('\'') {
                out.push_str("\\&");
            }
            out.push_str(&line);
            out.push('\n');
            paragraph.clear();
        }
    };
    for line in text.lines() {
        if line.starts_with("    ") && (block || paragraph.is_empty()) {
            // An indented block: shown as written, in its own paragraph.
            if !block {
                flush(&mut paragraph, &mut out);
                out.push_str(".PP\n.RS\n.nf\n");
                block = true;
            }
            out.push_str(&format!("\\&{}\n", escape(line.trim_start())));
            continue;
        }
        if block {
            out.push_str(".fi\n.RE\n");
            block = false;
        }
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
        } else {
            paragraph.push(line.trim());
        }
    }
    if block {
        out.push_str(".fi\n.RE\n");
    }
    flush(&mut paragraph, &mut out);
    out
}

/// The heading of a page: `.TH`, no hyphenation and no justification (names and paths
/// must not be split or stretched).
pub fn header(name: &str, section: &str, version: &str) -> String {
    format!(
        ".TH {} {section} \"\" \"ironpost {version}\" \"ironpost manual\"\n.nh\n.ad l\n",
        name.to_uppercase().replace('-', "\\-")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_markup() {
        assert_eq!(escape(".start"), "\\&.start");
        assert_eq!(escape("a\\b-c"), "a\\eb\\-c");
        assert_eq!(
            inline("run `postconf -n` now"),
            "run \\fBpostconf \\-n\\fR now"
        );
        assert_eq!(inline("see [`anonymise`]"), "see \\fBanonymise\\fR");
        assert_eq!(breakable("a,b-c"), "a,\\:b\\-c");
        assert_eq!(
            breakable(&"x".repeat(31)),
            format!("{}\\:x", "x".repeat(30))
        );
    }

    #[test]
    fn paragraphs_and_blocks() {
        let text = "One\nparagraph.\n\nTwo.\n\n    code line\n    next\nAfter.\n";
        assert_eq!(
            paragraphs(text),
            ".PP\nOne paragraph.\n.PP\nTwo.\n.PP\n.RS\n.nf\n\\&code line\n\\&next\n.fi\n.RE\n.PP\nAfter.\n"
        );
    }
}
