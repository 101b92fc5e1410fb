//! `pcre:` tables: Perl-compatible patterns through libpcre2.
//!
//! Postfix counterpart: `util/dict_pcre.c` (see pcre_table(5)). The rule language is in
//! [`crate::pattern`]; this is the engine. Patterns are case-insensitive and let `.` match
//! a newline by default; the flags `i`, `m`, `s`, `x`, `A`, `E` and `U` toggle caseless,
//! multi-line, dot-all, extended, anchored, dollar-end-only and ungreedy matching, and the
//! obsolete `X` is accepted with a warning.

use crate::pattern::{Engine, Groups, PatternTable};
use sys::pcre::{Options, Pcre};

/// A pcre table.
pub type PcreTable = PatternTable<Pcre>;

impl Engine for Pcre {
    const TYPE: &'static str = "pcre";
    const SECOND_PATTERN: bool = false;
    const NO_CLOSING_ACTION: &'static str = "ignoring this rule";
    type Options = Options;

    fn default_options() -> Options {
        Options {
            caseless: true,
            dotall: true,
            ..Options::default()
        }
    }

    fn flag(options: &mut Options, letter: char) -> Result<Option<String>, ()> {
        let toggle = match letter {
            'i' => &mut options.caseless,
            'm' => &mut options.multiline,
            's' => &mut options.dotall,
            'x' => &mut options.extended,
            'A' => &mut options.anchored,
            'E' => &mut options.dollar_endonly,
            'U' => &mut options.ungreedy,
            'X' => {
                return Ok(Some(format!(
                    "ignoring obsolete regexp option \"{letter}\""
                )));
            }
            _ => return Err(()),
        };
        *toggle = !*toggle;
        Ok(None)
    }

    fn compile(text: &str, options: Options, _nosub: bool) -> Result<Pcre, String> {
        Pcre::new(text, options)
            .map_err(|e| format!("error in regex at offset {}: {}", e.offset, e.message))
    }

    fn groups(&self) -> usize {
        Pcre::groups(self)
    }

    fn find(&self, text: &str, _want: usize) -> Result<Option<Groups>, String> {
        self.matches(text.as_bytes())
    }
}
