//! What a parameter declaration is, and the `params!` macro that writes them.
//!
//! Postfix counterpart: the `CONFIG_*_TABLE` arrays and `mail_params.h`'s `VAR_`/`DEF_` pairs.
//! One declaration gives a typed static (so reading an undeclared parameter does not compile),
//! an entry in [`crate::table`] (so `postconf -d` and the unused-parameter check know it), and
//! the documentation the generated reference prints.

use crate::config::Config;

/// The type of a parameter's value, which decides how it is checked and converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, `$name`-expanded when read.
    Str,
    /// Text used as is, never expanded (Postfix's `CONFIG_RAW_TABLE`).
    Raw,
    /// `yes` or `no`.
    Bool,
    /// A decimal number that fits a C `int`.
    Int,
    /// A decimal number that fits a C `long`.
    Long,
    /// A time: digits and an optional unit letter; the byte is the unit used when none is
    /// given (`s`, `m`, `h`, `d`, `w`).
    Time(u8),
}

/// How a default is written.
#[derive(Clone, Copy)]
pub enum Default {
    /// Text as Postfix writes it, `$name` references unexpanded.
    Text(&'static str),
    /// Computed at run time from the system or other settings (Postfix's
    /// `CONFIG_STR_FN_TABLE`), e.g. `myhostname` from the host name.
    Computed(fn(&Config) -> String),
}

impl std::fmt::Debug for Default {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Default::Text(t) => write!(f, "Text({t:?})"),
            Default::Computed(_) => f.write_str("Computed"),
        }
    }
}

/// One main.cf parameter.
#[derive(Debug)]
pub struct Param {
    /// The main.cf name.
    pub name: &'static str,
    /// The value's type.
    pub kind: Kind,
    /// The default.
    pub default: Default,
    /// The smallest value allowed, for numbers and times (in seconds).
    pub min: Option<i64>,
    /// The largest value allowed, for numbers and times (in seconds).
    pub max: Option<i64>,
    /// What the parameter does, in one paragraph.
    pub doc: &'static str,
}

/// Declares parameters. Each entry:
///
/// ```text
/// /// Documentation paragraph.
/// "smtpd_timeout" SMTPD_TIMEOUT: Time(b's') = "${stress?{10}:{300}}s", min 1;
/// "myhostname" MYHOSTNAME: Str = fn(function_defaults::myhostname);
/// "config_directory" CONFIG_DIRECTORY: Str = const(install::CONFIG_DIRECTORY);
/// ```
///
/// and the macro also defines `ALL`, the module's list of its parameters.
#[macro_export]
macro_rules! params {
    ($(
        $(#[doc = $doc:expr])*
        $name:literal $id:ident : $kind:ident $(($unit:expr))?
            = $(fn($func:path))? $(const($constant:path))? $($default:literal)?
            $(, min $min:expr)? $(, max $max:expr)? ;
    )*) => {
        $(
            $(#[doc = $doc])*
            pub static $id: $crate::def::Param = $crate::def::Param {
                name: $name,
                kind: $crate::def::Kind::$kind $(($unit))?,
                default: $crate::params!(@default $(fn($func))? $(const($constant))? $($default)?),
                min: $crate::params!(@bound $($min)?),
                max: $crate::params!(@bound $($max)?),
                doc: concat!($($doc, "\n"),*),
            };
        )*
        /// Every parameter this module declares.
        pub static ALL: &[&$crate::def::Param] = &[$(&$id),*];
    };
    (@default fn($func:path)) => { $crate::def::Default::Computed($func) };
    (@default const($constant:path)) => { $crate::def::Default::Text($constant) };
    (@default $default:literal) => { $crate::def::Default::Text($default) };
    (@bound $value:expr) => { Some($value) };
    (@bound) => { None };
}
