//! `$name` expansion with Postfix's full grammar.
//!
//! Postfix counterpart: `util/mac_parse.c` and `util/mac_expand.c`. Supported forms: `$name`,
//! `${name}`, `$(name)`, `$$`, `${name?text}`, `${name:text}`, `${name?{a}:{b}}` and the
//! relational forms `${{text1} op {text2} ? {a} : {b}}` with `== != < <= >= >` (numerical when
//! both operands are all digits, lexicographical otherwise). Error texts are Postfix's own,
//! because administrators search for them.

/// Deepest macro nesting before expansion gives up; this is how recursion is caught.
const MAX_NESTING: usize = 100;

/// Characters Postfix treats as whitespace inside `${...}`.
const WHITESPACE: &[u8] = b" \t\r\n";

/// How a name is asked for: its value (`$name`) or only whether it is non-empty (`${name?..}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The value is interpolated.
    Use,
    /// The value only decides a conditional.
    Test,
}

/// Expansion options, Postfix's `MAC_EXP_FLAG_*`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// Expand `$name` found inside looked-up values (never for untrusted data).
    pub recurse: bool,
    /// Walk every branch and report names without producing output.
    pub scan: bool,
    /// The nesting level to start at (postconf evaluates a parameter as if from `$name`,
    /// one level deeper than its value).
    pub start_level: usize,
}

/// An expansion failure. Like Postfix, expansion goes on after most errors, so there may be
/// several warnings; a failed numeric conversion is fatal at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Error {
    /// What Postfix logs as warnings, in order.
    pub warnings: Vec<String>,
    /// What Postfix logs as fatal, if anything.
    pub fatal: Option<String>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = self.fatal.as_ref().or(self.warnings.last());
        f.write_str(last.map_or("macro processing error", String::as_str))
    }
}

impl std::error::Error for Error {}

/// The result of a successful expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The expanded text.
    pub text: String,
    /// Some `$name` was not defined (Postfix's `MAC_PARSE_UNDEF`).
    pub undefined: bool,
}

/// Expands `pattern`, asking `lookup` for each name; `None` means undefined.
pub fn expand<F>(pattern: &str, flags: Flags, lookup: F) -> Result<Expansion, Error>
where
    F: FnMut(&str, Mode) -> Option<String>,
{
    expand_except(pattern, flags, lookup, |_| false)
}

/// Like [`expand`], but the values of names for which `dont_parse` is true are used as they
/// are even when expanding recursively (Postfix's `mac_expand7` with `dont_parse`, for
/// parameters that must not be expanded).
pub fn expand_except<F, D>(
    pattern: &str,
    flags: Flags,
    lookup: F,
    dont_parse: D,
) -> Result<Expansion, Error>
where
    F: FnMut(&str, Mode) -> Option<String>,
    D: Fn(&str) -> bool,
{
    let mut ctx = Context {
        flags,
        lookup,
        dont_parse,
        level: flags.start_level,
        out: Expansion::default(),
        error: Error::default(),
    };
    ctx.parse(pattern);
    if let Some(fatal) = ctx.error.fatal.take() {
        return Err(Error {
            warnings: std::mem::take(&mut ctx.error.warnings),
            fatal: Some(fatal),
        });
    }
    if ctx.error.warnings.is_empty() {
        Ok(ctx.out)
    } else {
        Err(ctx.error)
    }
}

/// Lists every name that `pattern` refers to, in every branch, without expanding anything.
pub fn scan(pattern: &str) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    let flags = Flags {
        recurse: false,
        scan: true,
        start_level: 0,
    };
    expand(pattern, flags, |name, _| {
        names.push(name.to_string());
        None
    })?;
    Ok(names)
}

/// A piece of text with `$name` references: what Postfix's `mac_parse` hands its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text, with `$$` already turned into `$`.
    Literal(String),
    /// The inside of `$name`, `${...}` or `$(...)`.
    Name(String),
}

/// Splits `value` into literal text and references; an error (truncated or empty
/// reference) ends the split, after the pieces before it.
pub fn pieces(value: &str) -> (Vec<Piece>, Option<String>) {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            let next = value[i..].find('$').map_or(bytes.len(), |n| i + n);
            literal.push_str(&value[i..next]);
            i = next;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            literal.push('$');
            i += 2;
            continue;
        }
        if !literal.is_empty() {
            out.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        i += 1;
        let expr = match bytes.get(i) {
            Some(&open @ (b'{' | b'(')) => {
                let close = if open == b'{' { b'}' } else { b')' };
                let mut depth = 1;
                let start = i + 1;
                let mut end = start;
                loop {
                    match bytes.get(end) {
                        None => {
                            return (out, Some(format!("truncated macro reference: \"{value}\"")));
                        }
                        Some(&c) if c == open => depth += 1,
                        Some(&c) if c == close => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                    end += 1;
                }
                i = end + 1;
                &value[start..end]
            }
            _ => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                &value[start..i]
            }
        };
        if expr.is_empty() {
            return (out, Some(format!("empty macro name: \"{value}\"")));
        }
        out.push(Piece::Name(expr.to_string()));
    }
    if !literal.is_empty() {
        out.push(Piece::Literal(literal));
    }
    (out, None)
}

struct Context<F, D> {
    flags: Flags,
    lookup: F,
    dont_parse: D,
    level: usize,
    out: Expansion,
    error: Error,
}

impl<F, D> Context<F, D>
where
    F: FnMut(&str, Mode) -> Option<String>,
    D: Fn(&str) -> bool,
{
    fn failed(&self) -> bool {
        !self.error.warnings.is_empty() || self.error.fatal.is_some()
    }

    /// Records a warning; Postfix then returns without undoing the nesting count.
    fn warn(&mut self, text: String) {
        self.error.warnings.push(text);
    }

    /// Expands `value` piece by piece (`mac_parse` with the expansion callback). Like
    /// Postfix, it goes on after an error in one reference, except for a truncated or empty
    /// one, and drops the trailing text once something failed.
    fn parse(&mut self, value: &str) {
        let (pieces, error) = pieces(value);
        let count = pieces.len();
        for (index, piece) in pieces.into_iter().enumerate() {
            if self.error.fatal.is_some() {
                return;
            }
            match piece {
                Piece::Literal(text) => {
                    let trailing = index + 1 == count && error.is_none();
                    if !(trailing && self.failed()) {
                        self.literal(&text);
                    }
                }
                Piece::Name(expr) => self.expression(&expr),
            }
        }
        if let Some(error) = error {
            self.warn(error);
        }
    }

    /// Counts one level of nesting, as every Postfix callback does; false if expansion must
    /// stop here.
    fn enter(&mut self, text: &str) -> bool {
        self.level += 1;
        if self.level > MAX_NESTING + 1 {
            self.warn(format!("unreasonable macro call nesting: \"{text}\""));
        }
        !self.failed()
    }

    fn literal(&mut self, text: &str) {
        if !self.enter(text) {
            return;
        }
        if !self.flags.scan {
            self.out.text.push_str(text);
        }
        self.level -= 1;
    }

    /// Evaluates the inside of one `$name`, `${...}` or `$(...)` (`mac_expand_callback`).
    fn expression(&mut self, expr: &str) {
        if !self.enter(expr) {
            return;
        }
        if let Err(text) = self.evaluate(expr) {
            self.warn(text);
            return;
        }
        if !self.failed() {
            self.level -= 1;
        }
    }

    fn evaluate(&mut self, expr: &str) -> Result<(), String> {
        let mut parse_value = true;
        let (value, op, rest) = if let Some(cp) = find_left_curly(expr) {
            let Some((value, rest)) = self.relational(cp)? else {
                return Ok(());
            };
            match rest.as_bytes().first() {
                None => (value, None, rest),
                Some(&c @ (b'?' | b':')) => (value, Some(c), &rest[1..]),
                Some(_) => {
                    return Err(format!(
                        "\"?\" or \":\" expected at: \"...}}>>>{}\"",
                        prefix20(rest)
                    ));
                }
            }
        } else {
            let body = skip_space(expr);
            let offset = expr.len() - body.len();
            let bytes = body.as_bytes();
            let mut end = 0;
            loop {
                let after_space = end + span(&bytes[end..], WHITESPACE);
                match bytes.get(after_space) {
                    None => break,
                    Some(b'?' | b':') => break,
                    _ => {}
                }
                let c = bytes[end];
                if !c.is_ascii_alphanumeric() && c != b'_' {
                    return Err(format!(
                        "attribute name syntax error at: \"...{}>>>{}\"",
                        &expr[..offset + end],
                        prefix20(&body[end..])
                    ));
                }
                end += 1;
            }
            let name = &body[..end];
            let after = skip_space(&body[end..]);
            let (op, rest) = match after.as_bytes().first() {
                Some(&c) => (Some(c), &after[1..]),
                None => (None, ""),
            };
            let mode = if op.is_some() { Mode::Test } else { Mode::Use };
            parse_value = !(self.dont_parse)(name);
            ((self.lookup)(name, mode), op, rest)
        };
        let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
        match op {
            Some(b'?') => {
                let (iftrue, rest) = operand(rest)?;
                if non_empty || self.flags.scan {
                    self.parse(iftrue);
                }
                if !rest.is_empty() {
                    let Some(rest) = rest.strip_prefix(':') else {
                        return Err(format!(
                            "\":\" expected at: \"...{iftrue}}}>>>{}\"",
                            prefix20(rest)
                        ));
                    };
                    self.if_false(rest, non_empty)?;
                }
            }
            Some(_) => self.if_false(rest, non_empty)?,
            None => match value {
                None => self.out.undefined = true,
                Some(v) if v.is_empty() || self.flags.scan => {}
                Some(v) if self.flags.recurse && parse_value => self.parse(&v),
                Some(v) => self.out.text.push_str(&v),
            },
        }
        Ok(())
    }

    fn if_false(&mut self, text: &str, non_empty: bool) -> Result<(), String> {
        let (iffalse, rest) = operand(text)?;
        if !non_empty || self.flags.scan {
            self.parse(iffalse);
        }
        if !rest.is_empty() {
            return Err(format!(
                "unexpected input at: \"...{iffalse}}}>>>{}\"",
                prefix20(rest)
            ));
        }
        Ok(())
    }

    /// Parses and evaluates `{left} op {right}`; the value is "true" or "", as Postfix fakes
    /// it. None when an operand failed (already reported).
    #[allow(clippy::type_complexity)]
    fn relational<'e>(
        &mut self,
        text: &'e str,
    ) -> Result<Option<(Option<String>, &'e str)>, String> {
        let (left, rest) = curly_payload(text)?;
        let op_len = span(rest.as_bytes(), b"<>!=?+-*/~&|%");
        let op = &rest[..op_len];
        if !matches!(op, "==" | "!=" | "<" | "<=" | ">=" | ">") {
            return Err(format!(
                "\"==\" or \"!=\"\" or \"<\"\" or \"<=\"\" or \">=\"\" or \">\" expected at: \"...{left}}}>>>{}\"",
                prefix20(rest)
            ));
        }
        let mut after_op = &rest[op_len..];
        let suffix_len = after_op
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let suffix = &after_op[..suffix_len];
        if !suffix.is_empty() && suffix != "level" {
            return Err(format!("bad operator suffix at: \"...{op}>>>{suffix}\""));
        }
        after_op = &after_op[suffix_len..];
        let Some(right_text) = find_left_curly(after_op) else {
            return Err(format!(
                "\"{{expression}}\" expected at: \"...{{{left}}} {op}>>>{}\"",
                prefix20(after_op)
            ));
        };
        let (right, rest) = curly_payload(right_text)?;
        let left = self.sub_expand(left);
        let right = self.sub_expand(right);
        if self.failed() {
            return Ok(None);
        }
        if self.flags.scan {
            return Ok(Some((None, rest)));
        }
        let order = if !suffix.is_empty() {
            compat_level(&left)?.cmp(&compat_level(&right)?)
        } else if all_digits(&left) && all_digits(&right) {
            let (Ok(l), Ok(r)) = (left.parse::<i64>(), right.parse::<i64>()) else {
                let bad = if left.parse::<i64>().is_err() {
                    &left
                } else {
                    &right
                };
                self.error.fatal = Some(format!("mac_exp_eval: bad conversion: {bad}"));
                return Ok(None);
            };
            l.cmp(&r)
        } else {
            left.as_bytes().cmp(right.as_bytes())
        };
        let truth = match op {
            "==" => order.is_eq(),
            "!=" => order.is_ne(),
            "<" => order.is_lt(),
            "<=" => order.is_le(),
            ">=" => order.is_ge(),
            _ => order.is_gt(),
        };
        Ok(Some((
            Some(if truth { "true" } else { "" }.to_string()),
            rest,
        )))
    }

    /// Expands a relational operand on its own, keeping the nesting count.
    fn sub_expand(&mut self, text: &str) -> String {
        let saved = std::mem::take(&mut self.out.text);
        self.parse(text);
        std::mem::replace(&mut self.out.text, saved)
    }
}

/// Parses a compatibility level (`3`, `3.6`, `3.6.1`) for the `<level`-style operators
/// (Postfix's `global/compat_level.c`).
fn compat_level(text: &str) -> Result<(u32, u32, u32), String> {
    let bad = || format!("malformed compatibility level syntax: \"{text}\"");
    let mut parts = [0u32; 3];
    for (count, part) in text.split('.').enumerate() {
        if count == 3 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        parts[count] = part.parse().map_err(|_| bad())?;
    }
    Ok((parts[0], parts[1], parts[2]))
}

/// Returns the text at the `{` if only whitespace precedes it.
fn find_left_curly(text: &str) -> Option<&str> {
    let rest = skip_space(text);
    rest.starts_with('{').then_some(rest)
}

/// A conditional result: `{text}` with whitespace around it ignored, or the plain rest.
fn operand(text: &str) -> Result<(&str, &str), String> {
    match find_left_curly(text) {
        Some(curly) => curly_payload(curly),
        None => Ok((text, "")),
    }
}

/// Takes `{payload}` from the start of `text` with balanced braces; skips space after it.
fn curly_payload(text: &str) -> Result<(&str, &str), String> {
    let mut depth = 0;
    for (i, c) in text.bytes().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&text[1..i], skip_space(&text[i + 1..])));
                }
            }
            _ => {}
        }
    }
    Err(format!(
        "unbalanced {{}} in attribute expression: \"{text}\""
    ))
}

fn span(bytes: &[u8], set: &[u8]) -> usize {
    bytes.iter().take_while(|b| set.contains(b)).count()
}

fn skip_space(text: &str) -> &str {
    &text[span(text.as_bytes(), WHITESPACE)..]
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// At most 20 bytes of `text` (the `%.20s` in Postfix's messages), cut on a char boundary.
fn prefix20(text: &str) -> &str {
    let mut end = text.len().min(20);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Option<String> {
        match name {
            "empty" => Some(String::new()),
            "name" => Some("value".into()),
            "ref" => Some("<$name>".into()),
            "loop" => Some("$loop".into()),
            "n5" => Some("5".into()),
            _ => None,
        }
    }

    fn run(pattern: &str) -> Result<String, String> {
        let flags = Flags {
            recurse: true,
            scan: false,
            start_level: 0,
        };
        expand(pattern, flags, |n, _| table(n))
            .map(|e| e.text)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn plain_forms() {
        assert_eq!(
            run("a $name b ${name} $(name) $$x"),
            Ok("a value b value value $x".into())
        );
        assert_eq!(run("$undefined."), Ok(".".into()));
        assert_eq!(run("$ref"), Ok("<value>".into()));
    }

    #[test]
    fn conditionals() {
        assert_eq!(run("${name?yes}"), Ok("yes".into()));
        assert_eq!(run("${empty?yes}"), Ok("".into()));
        assert_eq!(run("${undefined:no}"), Ok("no".into()));
        assert_eq!(run("${name:no}"), Ok("".into()));
        assert_eq!(run("${name?a:b}"), Ok("a:b".into()));
        assert_eq!(run("${name ? {a} : {b}}"), Ok("a".into()));
        assert_eq!(run("${empty?{a}:{b $name}}"), Ok("b value".into()));
        assert_eq!(run("${empty?{a}:b}"), Ok("b".into()));
    }

    #[test]
    fn relational() {
        assert_eq!(run("${{$n5} == {5} ? {eq} : {ne}}"), Ok("eq".into()));
        assert_eq!(run("${{10} > {9}?{gt}:{le}}"), Ok("gt".into()));
        assert_eq!(run("${{10} > {9x}?{gt}:{le}}"), Ok("le".into()));
        assert_eq!(run("${{a} != {b}}"), Ok("true".into()));
        assert!(run("${{a} = {b}}").unwrap_err().contains("expected at"));
        assert_eq!(run("${{3.6} <level {3.10} ? {lt} : {ge}}"), Ok("lt".into()));
        assert_eq!(run("${{0} <level {1} ? {} : {yes}}"), Ok("".into()));
        assert!(
            run("${{a} <foo {b}}")
                .unwrap_err()
                .starts_with("bad operator suffix")
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            run("${name"),
            Err("truncated macro reference: \"${name\"".into())
        );
        assert_eq!(run("a$"), Err("empty macro name: \"a$\"".into()));
        assert_eq!(
            run("${na me}"),
            Err("attribute name syntax error at: \"...na>>> me\"".into())
        );
        assert_eq!(
            run("$loop"),
            Err("unreasonable macro call nesting: \"loop\"".into())
        );
    }

    #[test]
    fn scan_finds_every_branch() {
        let names = scan("$a ${b?{$c}:{$d}} ${{$e} == {x}}").unwrap();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
    }
}
