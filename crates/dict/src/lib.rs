//! Lookup tables: `type:name` opened through one registry, each type with Postfix's rules.
//!
//! Postfix counterparts: `util/dict.c`, `dict_open.c` and the `dict_*.c` backends. A table
//! answers a lookup with a value, with "not found", or with an error; an error (a table
//! that cannot be read, a broken file) is never "not found", so callers defer mail rather
//! than take a wrong decision. Fixed-string tables fold keys to lower case unless asked not
//! to (`postmap -f`); pattern tables decide case by their own flags.
//!
//! Types: `inline:{ key=value, ... }`, `static:value`, `texthash:file`, `cdb:file`,
//! `lmdb:file`, `hash:file` and `btree:file` (cargo features `lmdb` and `berkeley-db`, on
//! by default),
//! `cidr:file`, `regexp:file`, `pcre:file` (feature `pcre`), `unionmap:{ t1, t2 }`, `pipemap:{ t1, t2 }`, `fail:name`,
//! `environ:name`, `unix:passwd.byname`, `debug:type:name`, which logs each lookup, and `proxy:type:name`, through proxymap. Indexed files are written through [`build`].

#[cfg(feature = "berkeley-db")]
mod berkeley;
pub mod build;
pub mod cdb;
pub mod cidr;
mod composite;
mod debug;
mod error;
pub mod fixed;
#[cfg(feature = "lmdb")]
mod lmdb;
mod pattern;
#[cfg(feature = "pcre")]
mod pcre;
pub mod proxy;
mod regexp;
mod simple;
pub mod source;
mod surrogate;

pub use error::DictError;
pub use surrogate::{allow_surrogate, surrogate_allowed};

/// How a table was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// Fold fixed-string keys and queries to lower case (Postfix's DICT_FLAG_FOLD_FIX).
    pub fold_fix: bool,
    /// What to do with a key that appears twice in a source file.
    pub duplicates: Duplicates,
    /// UTF-8 mode (smtputf8_enable): sources must be UTF-8 and folding is a Unicode case
    /// fold; otherwise folding touches ASCII letters only.
    pub utf8: bool,
    /// Whether indexed files store keys and values with a terminating null byte.
    pub nul: Nul,
}

/// The terminating null byte of keys and values in indexed files (`postmap -N`, `-n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nul {
    /// Each format's own habit (lmdb and hash write one, cdb does not); lookups try both.
    Default,
    /// Always write it, and look up only with it (`-N`).
    Always,
    /// Never write it, and look up only without it (`-n`).
    Never,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            fold_fix: true,
            duplicates: Duplicates::Warn,
            utf8: false,
            nul: Nul::Default,
        }
    }
}

impl Flags {
    /// A daemon's own cache table (verify's address_verify_map, tlsmgr's session
    /// caches): keys as given, last write wins, null-terminated as Postfix's writers
    /// store them.
    pub fn cache() -> Flags {
        Flags {
            fold_fix: false,
            duplicates: Duplicates::Replace,
            utf8: true,
            nul: Nul::Default,
        }
    }

    /// A key as fixed-string tables store and look it up.
    pub fn fold(&self, key: &str) -> String {
        if !self.fold_fix {
            key.to_string()
        } else if self.utf8 {
            casefold(key)
        } else {
            key.to_ascii_lowercase()
        }
    }
}

/// Unicode case folding as Postfix's `casefold()` does it in UTF-8 mode (util/casefold.c):
/// ICU's default full case folding, which is Unicode's CaseFolding.txt (status C and F,
/// not the Turkic T). It differs from lower-casing: `ﬁ` becomes `fi`, `ß` and `ẞ` `ss`,
/// `ϐ` `β`, `ς` `σ`, and Cherokee small letters become capitals. ASCII-only text is
/// lower-cased, as Postfix does before calling ICU.
pub fn casefold(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        caseless::default_case_fold_str(text)
    }
}

/// Duplicate keys in a table source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Keep the first and warn (Postfix's DICT_FLAG_DUP_WARN).
    Warn,
    /// Keep the first quietly.
    Ignore,
    /// Keep the last.
    Replace,
}

/// A lookup table.
pub trait Dict {
    /// `type:name`, as the configuration wrote it.
    fn spec(&self) -> &str;

    /// Looks `key` up: Ok(Some(value)), Ok(None) when not found, Err when the table failed.
    fn lookup(&self, key: &str) -> Result<Option<String>, DictError>;

    /// Every entry, for `postmap -s` and proxymap's sequence requests: Ok(None) when the
    /// type cannot be listed, Err when reading the table failed.
    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        Ok(None)
    }

    /// What kind of keys the table has, as Postfix's [`dict_flags`] FIXED / PATTERN /
    /// MULTI_WRITER bits: clients choose their lookup order by them (a pattern table gets
    /// only the full address), and proxymap passes them to its clients.
    fn impl_flags(&self) -> u32 {
        dict_flags::FIXED
    }
}

/// Postfix's DICT_FLAG_* bits, as they travel in the proxymap protocol.
pub mod dict_flags {
    /// Keys are fixed strings.
    pub const FIXED: u32 = 1 << 4;
    /// Keys are patterns.
    pub const PATTERN: u32 = 1 << 5;
    /// Take a lock around each access.
    pub const LOCK: u32 = 1 << 6;
    /// Fold fixed-string keys to lower case.
    pub const FOLD_FIX: u32 = 1 << 14;
    /// Fold keys of pattern tables.
    pub const FOLD_MUL: u32 = 1 << 15;
    /// Several processes may write the table at once.
    pub const MULTI_WRITER: u32 = 1 << 18;
    /// UTF-8 mode requested.
    pub const UTF8_REQUEST: u32 = 1 << 19;
    /// The bits that describe a table's implementation.
    pub const IMPL_MASK: u32 = FIXED | PATTERN | MULTI_WRITER;
}

/// The table types this build supports, as `postconf -m` lists them.
pub const TYPES: &[&str] = &[
    #[cfg(feature = "berkeley-db")]
    "btree",
    "cdb",
    "cidr",
    "debug",
    "environ",
    "fail",
    #[cfg(feature = "berkeley-db")]
    "hash",
    "inline",
    #[cfg(feature = "lmdb")]
    "lmdb",
    #[cfg(feature = "pcre")]
    "pcre",
    "pipemap",
    "proxy",
    "regexp",
    "static",
    "texthash",
    "unionmap",
    "unix",
];

/// Opens `type:name`. In a daemon (see [`allow_surrogate`]) a table that cannot be opened
/// is logged as an `error:` and replaced by a surrogate whose every lookup fails; only a
/// malformed `type:name` is still an error here, as Postfix's `dict_open` is fatal there.
pub fn open(spec: &str, flags: Flags) -> Result<Box<dyn Dict>, DictError> {
    let (kind, name) = split_spec(spec)?;
    match open_type(kind, name, flags) {
        Err(e) if surrogate_allowed() => Ok(boxed(surrogate::Surrogate::new(spec, &e))),
        other => other,
    }
}

/// Opens `type:name` and returns a failure even in a daemon, for a caller that handles it
/// itself (the verify cache creates a missing file, as Postfix opens it with O_CREAT).
pub fn try_open(spec: &str, flags: Flags) -> Result<Box<dyn Dict>, DictError> {
    let (kind, name) = split_spec(spec)?;
    open_type(kind, name, flags)
}

fn split_spec(spec: &str) -> Result<(&str, &str), DictError> {
    spec.split_once(':')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty())
        .ok_or_else(|| {
            DictError::Config(format!(
                "open dictionary: expecting \"type:name\" form instead of \"{spec}\""
            ))
        })
}

fn open_type(kind: &str, name: &str, flags: Flags) -> Result<Box<dyn Dict>, DictError> {
    match kind {
        "inline" => simple::Inline::open(name, flags).map(boxed),
        "static" => simple::Static::open(name).map(boxed),
        "fail" => Ok(boxed(simple::Fail::new(name))),
        "environ" => Ok(boxed(simple::Environ::new(name))),
        "unix" => simple::Unix::open(name).map(boxed),
        "texthash" => fixed::TextHash::open(name, flags).map(boxed),
        "cdb" => cdb::Cdb::open(name, flags).map(boxed),
        #[cfg(feature = "lmdb")]
        "lmdb" => lmdb::Lmdb::open(name, flags).map(boxed),
        #[cfg(feature = "berkeley-db")]
        "hash" | "btree" => berkeley::Berkeley::open(kind, name, flags).map(boxed),
        "cidr" => cidr::Cidr::open(name).map(boxed),
        "regexp" => regexp::Regexp::open(name).map(boxed),
        #[cfg(feature = "pcre")]
        "pcre" => pcre::PcreTable::open(name).map(boxed),
        "debug" => debug::Debug::open(name, flags).map(boxed),
        "proxy" => proxy::Proxy::open(name, flags).map(boxed),
        "unionmap" | "pipemap" => composite::Composite::open(kind, name, flags).map(boxed),
        _ => Err(DictError::Config(format!(
            "unsupported dictionary type: {kind}"
        ))),
    }
}

/// The files behind `type:name` whose change means the table must be reopened: the
/// indexed file of hash and cdb tables, the source of tables read into memory. lmdb files
/// are updated safely under readers, so they are not listed (Postfix's MULTI_WRITER).
pub fn table_files(spec: &str) -> Vec<std::path::PathBuf> {
    let Some((kind, name)) = spec.split_once(':') else {
        return Vec::new();
    };
    let suffix = match kind {
        "hash" | "btree" => ".db",
        "cdb" => ".cdb",
        "texthash" | "regexp" | "pcre" | "cidr" => "",
        _ => return Vec::new(),
    };
    vec![std::path::PathBuf::from(format!("{name}{suffix}"))]
}

fn boxed<T: Dict + 'static>(dict: T) -> Box<dyn Dict> {
    Box::new(dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_kind_of_failure_they_are() {
        let config = |spec: &str| matches!(open(spec, Flags::default()), Err(DictError::Config(_)));
        assert!(config("nosuchtype:name"));
        assert!(config("no-colon"));
        assert!(config("inline:no-braces"));
        assert!(config("unix:nosuch.byname"));
        match open("texthash:/nonexistent/table", Flags::default()) {
            Err(DictError::Open(text)) => {
                assert_eq!(
                    text,
                    "open database /nonexistent/table: No such file or directory"
                )
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("opened a missing file"),
        }
        let fail = open("fail:x", Flags::default()).unwrap();
        assert_eq!(
            fail.lookup("k"),
            Err(DictError::Retry("Application error".into()))
        );
    }

    #[test]
    fn listing_is_an_answer_not_an_exit() {
        let table = open("inline:{ a=1, b=2 }", Flags::default()).unwrap();
        assert_eq!(
            table.entries(),
            Ok(Some(vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into())
            ]))
        );
        let pattern = open("static:x", Flags::default()).unwrap();
        assert_eq!(pattern.entries(), Ok(None));
    }

    /// Folded keys as Debian's Postfix 3.7 (ICU 72) stores them: `postmap -s` of an
    /// inline table with smtputf8_enable = yes. These are the characters where folding
    /// and lower-casing differ, and the Kelvin sign and dotted capital I, where they agree.
    #[test]
    fn casefold_is_postfix_full_folding() {
        for (key, folded) in [
            ("ﬁle", "file"),
            ("straße", "strasse"),
            ("STRAẞE", "strasse"),
            ("ϐ", "β"),
            ("ς", "σ"),
            ("Σ", "σ"),
            ("\u{212A}elvin", "kelvin"),
            ("İ", "i\u{307}"),
            ("Ᏸ", "Ᏸ"),
            ("ᏸ", "Ᏸ"),
            ("ﬃ", "ffi"),
            ("User@Example.COM", "user@example.com"),
        ] {
            assert_eq!(casefold(key), folded, "{key}");
        }
        let ascii = Flags {
            utf8: false,
            ..Flags::default()
        };
        assert_eq!(ascii.fold("STRAẞE ﬁle"), "straẞe ﬁle");
    }
}
