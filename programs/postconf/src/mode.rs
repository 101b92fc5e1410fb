//! What postconf was asked to do: Postfix's `PCF_*` mode bits and their consistency rules.
//!
//! Postfix counterpart: the mode handling in `postconf/postconf.c`. Major modes (show main.cf
//! parameters, master.cf entries, fields or parameters, map or lock types...) exclude each
//! other; modifiers (`-n`, `-d`, `-x`, `-f`, `-h`, `-e`...) are checked against the major mode,
//! with Postfix's messages.

/// One mode bit, with the option that sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bit(u32, &'static str);

pub const SASL_SERVER: Bit = Bit(1 << 0, "-a");
pub const SASL_CLIENT: Bit = Bit(1 << 1, "-A");
pub const EXPAND_TEMPLATES: Bit = Bit(1 << 2, "-b");
pub const PARAM_CLASS: Bit = Bit(1 << 3, "-C");
pub const DEFAULTS: Bit = Bit(1 << 4, "-d");
pub const EDIT: Bit = Bit(1 << 5, "-e");
pub const FOLD: Bit = Bit(1 << 6, "-f");
pub const MASTER_FIELDS: Bit = Bit(1 << 7, "-F");
pub const HIDE_NAME: Bit = Bit(1 << 8, "-h");
pub const HIDE_VALUE: Bit = Bit(1 << 9, "-H");
pub const LOCKS: Bit = Bit(1 << 10, "-l");
pub const MAPS: Bit = Bit(1 << 11, "-m");
pub const MASTER_ENTRIES: Bit = Bit(1 << 12, "-M");
pub const NON_DEFAULT: Bit = Bit(1 << 13, "-n");
pub const OVERRIDE: Bit = Bit(1 << 14, "-o");
pub const MAIN_PARAMS: Bit = Bit(1 << 15, "-p");
pub const MASTER_PARAMS: Bit = Bit(1 << 16, "-P");
pub const DUMP_TEMPLATES: Bit = Bit(1 << 17, "-t");
pub const TLS: Bit = Bit(1 << 18, "-T");
pub const EVAL: Bit = Bit(1 << 19, "-x");
pub const EXCLUDE: Bit = Bit(1 << 20, "-X");
pub const COMMENT_OUT: Bit = Bit(1 << 21, "-#");
pub const MASTER_MERGED: Bit = Bit(1 << 22, "-PP");

/// Every bit, in the order Postfix names them in messages.
const NAMES: [Bit; 23] = [
    SASL_SERVER,
    SASL_CLIENT,
    EXPAND_TEMPLATES,
    PARAM_CLASS,
    DEFAULTS,
    EDIT,
    FOLD,
    MASTER_FIELDS,
    HIDE_NAME,
    HIDE_VALUE,
    LOCKS,
    MAPS,
    MASTER_ENTRIES,
    NON_DEFAULT,
    OVERRIDE,
    MAIN_PARAMS,
    MASTER_PARAMS,
    DUMP_TEMPLATES,
    TLS,
    EVAL,
    EXCLUDE,
    COMMENT_OUT,
    MASTER_MERGED,
];

const fn mask(bits: &[Bit]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < bits.len() {
        m |= bits[i].0;
        i += 1;
    }
    m
}

const MAJOR: u32 = mask(&[
    SASL_SERVER,
    SASL_CLIENT,
    EXPAND_TEMPLATES,
    LOCKS,
    MAPS,
    DUMP_TEMPLATES,
    MAIN_PARAMS,
    MASTER_ENTRIES,
    MASTER_FIELDS,
    MASTER_PARAMS,
    TLS,
]);

/// Groups of which at most one member may be given.
const EXCLUSIVE: [u32; 7] = [
    MAJOR,
    mask(&[MASTER_MERGED, EDIT, COMMENT_OUT, EXCLUDE]),
    mask(&[DEFAULTS, EDIT, NON_DEFAULT, COMMENT_OUT, EXCLUDE]),
    mask(&[FOLD, EDIT, COMMENT_OUT, EXCLUDE]),
    mask(&[EVAL, EDIT, COMMENT_OUT, EXCLUDE]),
    mask(&[OVERRIDE, DEFAULTS, EDIT, COMMENT_OUT, EXCLUDE]),
    mask(&[HIDE_NAME, EDIT, COMMENT_OUT, EXCLUDE, HIDE_VALUE]),
];

/// For each mode, the modifiers it accepts.
const COMPATIBLE: [(Bit, u32); 12] = [
    (SASL_SERVER, 0),
    (SASL_CLIENT, 0),
    (EXPAND_TEMPLATES, 0),
    (LOCKS, 0),
    (MAPS, 0),
    (TLS, 0),
    (DUMP_TEMPLATES, 0),
    (
        MAIN_PARAMS,
        mask(&[
            EDIT,
            EXCLUDE,
            COMMENT_OUT,
            FOLD,
            HIDE_NAME,
            PARAM_CLASS,
            EVAL,
            DEFAULTS,
            NON_DEFAULT,
            OVERRIDE,
            HIDE_VALUE,
        ]),
    ),
    (
        MASTER_ENTRIES,
        mask(&[EDIT, EXCLUDE, COMMENT_OUT, FOLD, OVERRIDE, EVAL]),
    ),
    (
        MASTER_FIELDS,
        mask(&[EDIT, FOLD, HIDE_NAME, OVERRIDE, EVAL, HIDE_VALUE]),
    ),
    (
        MASTER_PARAMS,
        mask(&[
            EDIT,
            EXCLUDE,
            FOLD,
            HIDE_NAME,
            OVERRIDE,
            EVAL,
            HIDE_VALUE,
            MASTER_MERGED,
        ]),
    ),
    (PARAM_CLASS, mask(&[MAIN_PARAMS, DEFAULTS, NON_DEFAULT])),
];

/// Parameter classes for `-C`.
pub const CLASS_BUILTIN: u32 = 1;
/// Service-dependent parameters (`<service>_destination_concurrency_limit`...).
pub const CLASS_SERVICE: u32 = 2;
/// User-defined parameters.
pub const CLASS_USER: u32 = 4;
/// Every class.
pub const CLASS_ALL: u32 = CLASS_BUILTIN | CLASS_SERVICE | CLASS_USER;

/// The modes of one postconf run.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    bits: u32,
    /// The parameter classes `-C` selected.
    pub class: u32,
}

impl Default for Mode {
    fn default() -> Self {
        Mode {
            bits: 0,
            class: CLASS_ALL,
        }
    }
}

impl Mode {
    /// Turns a mode bit on.
    pub fn set(&mut self, bit: Bit) {
        self.bits |= bit.0;
    }

    /// Turns a mode bit off.
    pub fn clear(&mut self, bit: Bit) {
        self.bits &= !bit.0;
    }

    /// Whether a mode bit is on.
    pub fn has(&self, bit: Bit) -> bool {
        self.bits & bit.0 != 0
    }

    /// Parses a `-C` value.
    pub fn set_class(&mut self, value: &str) {
        self.set(PARAM_CLASS);
        let mut class = 0;
        for word in util::tokens::split(value, util::tokens::COMMA_SPACE) {
            class |= match word.to_ascii_lowercase().as_str() {
                "builtin" => CLASS_BUILTIN,
                "service" => CLASS_SERVICE,
                "user" => CLASS_USER,
                "all" => CLASS_ALL,
                _ => log::msg_fatal!("unknown -C option value \"{word}\" in \"{value}\""),
            };
        }
        self.class = class;
    }

    /// Fills in implied modes and checks the combination, as Postfix does before any work.
    pub fn complete(&mut self, operands: &[String]) {
        if self.bits & MAJOR == 0 {
            self.set(MAIN_PARAMS);
        }
        let main_or_master = mask(&[MAIN_PARAMS, MASTER_ENTRIES, MASTER_FIELDS, MASTER_PARAMS]);
        if self.bits & main_or_master != 0 && operands.first().is_some_and(|o| o.contains('=')) {
            self.set(EDIT);
        }
        for group in EXCLUSIVE {
            let given = group & self.bits;
            if given.count_ones() > 1 {
                log::msg_fatal!("specify one of {}", names(given));
            }
        }
        for (bit, allowed) in COMPATIBLE {
            let excess = self.bits & !(bit.0 | allowed);
            if self.has(bit) && excess != 0 {
                log::msg_fatal!("with option {}, do not specify {}", bit.1, names(excess));
            }
        }
        if self.has(EDIT) && operands.is_empty() {
            log::msg_fatal!("-e requires name=value argument");
        }
    }

    /// Whether this run edits main.cf or master.cf.
    pub fn edits(&self) -> bool {
        self.bits & mask(&[EDIT, COMMENT_OUT, EXCLUDE]) != 0
    }

    /// Whether this run is about master.cf.
    pub fn any_master(&self) -> bool {
        self.bits & mask(&[MASTER_ENTRIES, MASTER_FIELDS, MASTER_PARAMS]) != 0
    }
}

/// The option names of the bits in `bits`, space separated, in Postfix's order.
fn names(bits: u32) -> String {
    NAMES
        .iter()
        .filter(|b| bits & b.0 != 0)
        .map(|b| b.1)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_postfix_order() {
        assert_eq!(names(EDIT.0 | OVERRIDE.0), "-e -o");
    }
}
