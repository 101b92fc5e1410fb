//! postalias - build, query and update alias databases.
//!
//! Postfix counterpart: `postalias/postalias.c`. The source is aliases(5): `name: value,
//! value...` with continuation lines. Each line is tokenized as an RFC 822 address list,
//! so a quoted name may hold `:` or `@`; the name must be local (no `@` or `%`), and a
//! name or value that is missing, or a name that is a list, is skipped with Postfix's
//! warning. The name is stored unquoted and folded to lower case, the value in quoted
//! (external) form, as the local delivery agent re-parses it. After the entries come the
//! signatures Postfix writes: `@` = `@` (sendmail's "the database is complete"), and the
//! NIS entries `YP_LAST_MODIFIED` and `YP_MASTER_NAME`, stored without a null byte.
//! `-q`, `-s` (as `name:<TAB>value`), `-d`, `-i`, `-f`, `-r`, `-w` work as in postmap.

use dict::Flags;
use dict::build::Builder;
use rfc822::tok822::{StrFlags, Token, externalize, internalize, scan};
use util::readlline::LogicalLine;

/// Adds one `name: value` line, or warns as Postfix's postalias does.
fn parse_line(label: &str, line: &LogicalLine, builder: &mut Builder, flags: Flags) {
    let tokens = scan(&line.text);
    if tokens.is_empty() {
        return;
    }
    let warn = |what: &str| log::msg_warn!("{label}, line {}: {what}", line.first_line);
    let Some(colon) = tokens.iter().position(|t| *t == Token::Op(':')) else {
        return warn("need name:value pair");
    };
    let (name, rest) = tokens.split_at(colon);
    let value = &rest[1..];
    let before = |op: char| name.contains(&Token::Op(op));
    if name.is_empty() || value.is_empty() || before(',') {
        return warn("need name:value pair");
    }
    if before('@') || before('%') {
        return warn("name must be local");
    }
    let key = internalize(name, StrFlags::DEFL);
    builder.add(&flags.fold(&key), &externalize(value, StrFlags::DEFL));
}

fn main() {
    let command = global::mkmap::parse_command(
        "postalias",
        "Nc:d:finopq:rsuvw",
        "[-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [map_type:]file...",
    );
    let hostname = command
        .config
        .str(&params::decl::identity::MYHOSTNAME)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut signatures = |builder: &mut Builder| {
        builder.add_signature("@", "@", true);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        builder.add_signature("YP_LAST_MODIFIED", &format!("{now:010}"), false);
        builder.add_signature("YP_MASTER_NAME", &hostname, false);
    };
    command.run(":\t", &mut parse_line, &mut signatures)
}
