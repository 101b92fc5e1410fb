//! The answer of the address resolving service: the flags that say what kind of
//! destination an address has.
//!
//! Postfix counterpart: `global/resolve_clnt.h` (`RESOLVE_FLAG_*`, `RESOLVE_CLASS_*`).
//! trivial-rewrite sets them in its `resolve` replies; smtpd (`reject_unauth_destination`),
//! cleanup and qmgr decide by them. They travel as the `flags` attribute.

/// Final delivery (`RESOLVE_FLAG_FINAL`).
pub const FLAG_FINAL: i32 = 1 << 0;
/// The destination is routed (`user@a@b`, `a!b`, `a%b` in the local part).
pub const FLAG_ROUTED: i32 = 1 << 1;
/// Bad destination syntax.
pub const FLAG_ERROR: i32 = 1 << 2;
/// The request failed (a table lookup error): try again.
pub const FLAG_FAIL: i32 = 1 << 3;
/// mydestination, inet_interfaces, proxy_interfaces.
pub const CLASS_LOCAL: i32 = 1 << 8;
/// virtual_alias_domains.
pub const CLASS_ALIAS: i32 = 1 << 9;
/// virtual_mailbox_domains.
pub const CLASS_VIRTUAL: i32 = 1 << 10;
/// relay_domains.
pub const CLASS_RELAY: i32 = 1 << 11;
/// Everything else (what `reject_unauth_destination` refuses).
pub const CLASS_DEFAULT: i32 = 1 << 12;
/// The classes delivered on this system.
pub const CLASS_FINAL: i32 = CLASS_LOCAL | CLASS_ALIAS | CLASS_VIRTUAL;
/// Every class bit.
pub const CLASS_MASK: i32 = CLASS_LOCAL | CLASS_ALIAS | CLASS_VIRTUAL | CLASS_RELAY | CLASS_DEFAULT;
