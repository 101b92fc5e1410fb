//! How ironpost's daemons talk to each other and to Postfix's: the attribute protocol.
//!
//! Postfix counterparts: `util/attr_print0.c`, `attr_scan0.c` (`name\0value\0...\0`) and
//! `util/attr_print_plain.c`, `attr_scan_plain.c` (`name=value\n...\n`). A request or a reply
//! is a list of named values ended by an empty name. Speaking the same bytes as Postfix
//! lets an ironpost daemon serve Postfix's clients, and the reverse, and keeps the traffic
//! readable in `strace`.

pub mod attr;
pub mod mail_attr;

pub use attr::{AttrError, Attrs, Flavor};
