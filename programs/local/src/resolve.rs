//! An address found in an alias, :include: or .forward file: canonicalized and resolved
//! by the rewriting service, then delivered here when it resolves to this transport, or
//! forwarded otherwise.
//!
//! Postfix counterpart: `local/resolve.c` (`deliver_resolve_addr`,
//! `deliver_resolve_tree`). An unmatched address extension is put back on the result,
//! before the `@`, with the delimiter the original address used.

use crate::state::{State, UserAttr};
use crate::{Local, REWRITE_CANON};

/// Resolves and delivers the address text `addr` (`deliver_resolve_addr`).
pub fn deliver_resolve_addr(
    local: &mut Local,
    state: State,
    usr_attr: UserAttr,
    addr: &str,
) -> i32 {
    deliver_resolve_tree(local, state, usr_attr, rfc822::tok822::scan_addr(addr))
}

/// Resolves and delivers one parsed address (`deliver_resolve_tree`).
pub fn deliver_resolve_tree(
    local: &mut Local,
    mut state: State,
    usr_attr: UserAttr,
    mut addr: rfc822::tok822::Addr,
) -> i32 {
    state.level += 1;
    state.log("deliver_resolve_tree");
    // tok822_rewrite(addr, REWRITE_CANON), then tok822_resolve().
    let external = addr.externalize();
    let rewritten = local
        .rewriter
        .rewrite(REWRITE_CANON, &util::eight_bit::to_bytes(&external));
    addr.replace_external(&util::eight_bit::to_text(&rewritten));
    let internal = addr.internalize();
    let reply = local.rewriter.resolve("", &internal);
    if reply.flags & global::resolve_clnt::FLAG_FAIL != 0 {
        state.simple("4.3.0", "address resolver failure".into());
        return local.defer_append(&state);
    }
    if reply.flags & global::resolve_clnt::FLAG_ERROR != 0 {
        state.simple(
            "5.1.3",
            format!("bad recipient address syntax: {}", reply.recipient),
        );
        return local.bounce_append(&state);
    }
    let mut recipient = reply.recipient.clone();
    if let Some(unmatched) = &state.msg_attr.unmatched {
        let a = &state.msg_attr;
        let delim = a.local[a.user.len().min(a.local.len())..]
            .chars()
            .next()
            .unwrap_or('+');
        recipient = match recipient.rfind('@') {
            None => format!("{recipient}{delim}{unmatched}"),
            Some(at) => format!("{}{delim}{unmatched}{}", &recipient[..at], &recipient[at..]),
        };
    }
    state.msg_attr.rcpt.address = recipient;
    if reply.transport == local.service {
        crate::recipient::deliver_recipient(local, state, usr_attr)
    } else {
        crate::forward::deliver_indirect(local, state)
    }
}
