//! The names of the attributes that Postfix's programs exchange, and of their protocols.
//!
//! Postfix counterpart: the `MAIL_ATTR_*` names of `global/mail_proto.h`
//! (`MAIL_ATTR_REQ` is [`REQ`] here). They are declared with the attribute protocol
//! rather than in `global` because every speaker of it needs them, dict's proxymap client
//! too, which sits below `global` in ironpost (Postfix keeps it in its global library). A
//! name used by one program only stays in that program.

/// The request a client makes (`MAIL_ATTR_REQ`).
pub const REQ: &str = "request";
/// The protocol a server announces when a client connects (`MAIL_ATTR_PROTO`).
pub const PROTO: &str = "protocol";
/// The outcome of a request (`MAIL_ATTR_STATUS`).
pub const STATUS: &str = "status";
/// Why a request failed (`MAIL_ATTR_WHY`).
pub const WHY: &str = "reason";
/// Request or reply flags (`MAIL_ATTR_FLAGS`).
pub const FLAGS: &str = "flags";
/// A queue ID (`MAIL_ATTR_QUEUEID`).
pub const QUEUEID: &str = "queue_id";
/// The rewriting context of a rewrite request (`MAIL_ATTR_RULE`).
pub const RULE: &str = "rule";
/// An address (`MAIL_ATTR_ADDR`).
pub const ADDR: &str = "address";
/// A delivery transport (`MAIL_ATTR_TRANSPORT`).
pub const TRANSPORT: &str = "transport";
/// A next-hop destination (`MAIL_ATTR_NEXTHOP`).
pub const NEXTHOP: &str = "nexthop";
/// A recipient (`MAIL_ATTR_RECIP`).
pub const RECIP: &str = "recipient";
/// A table name (`MAIL_ATTR_TABLE`).
pub const TABLE: &str = "table";
/// A lookup key (`MAIL_ATTR_KEY`).
pub const KEY: &str = "key";
/// A lookup result (`MAIL_ATTR_VALUE`).
pub const VALUE: &str = "value";
/// First or next, in a table sequence request (`MAIL_ATTR_FUNC`).
pub const FUNC: &str = "function";
/// The DSN envelope ID (`MAIL_ATTR_DSN_ENVID`).
pub const DSN_ENVID: &str = "envelope_id";
/// The DSN RET value (`MAIL_ATTR_DSN_RET`).
pub const DSN_RET: &str = "ret_flags";
/// The DSN NOTIFY value of a recipient (`MAIL_ATTR_DSN_NOTIFY`).
pub const DSN_NOTIFY: &str = "notify_flags";
/// The DSN ORCPT value of a recipient (`MAIL_ATTR_DSN_ORCPT`).
pub const DSN_ORCPT: &str = "dsn_orig_rcpt";
/// The rewriting context for headers (`MAIL_ATTR_RWR_CONTEXT`).
pub const RWR_CONTEXT: &str = "rewrite_context";
/// The content encoding (`MAIL_ATTR_ENCODING`).
pub const ENCODING: &str = "encoding";
/// Requested delivery tracing (`MAIL_ATTR_TRACE_FLAGS`).
pub const TRACE_FLAGS: &str = "trace_flags";

/// postdrop's announcement (`MAIL_ATTR_PROTO_POSTDROP`).
pub const PROTO_POSTDROP: &str = "postdrop_protocol";
/// The cleanup service's announcement (`MAIL_ATTR_PROTO_CLEANUP`).
pub const PROTO_CLEANUP: &str = "cleanup_protocol";
/// trivial-rewrite's announcement (`MAIL_ATTR_PROTO_TRIVIAL`).
pub const PROTO_TRIVIAL: &str = "trivial_rewrite_protocol";
/// proxymap's announcement.
pub const PROTO_PROXYMAP: &str = "proxymap_protocol";
/// anvil's announcement.
pub const PROTO_ANVIL: &str = "anvil_protocol";
