//! `regexp:` tables: POSIX patterns from the C library.
//!
//! Postfix counterpart: `util/dict_regexp.c` (see regexp_table(5)). The rule language is
//! in [`crate::pattern`]; this is the engine. Patterns are extended and case-insensitive
//! by default; the flags `i`, `x` and `m` toggle case folding, extended syntax and newline
//! handling. `/p1/!/p2/` requires p1 and not p2.

use crate::pattern::{Engine, Groups, PatternTable};
use sys::regex::{Options, Regex};

/// A regexp table.
pub type Regexp = PatternTable<Regex>;

impl Engine for Regex {
    const TYPE: &'static str = "regexp";
    const SECOND_PATTERN: bool = true;
    const NO_CLOSING_ACTION: &'static str = "skipping this rule";
    type Options = Options;

    fn default_options() -> Options {
        Options {
            extended: true,
            icase: true,
            newline: false,
            nosub: false,
        }
    }

    fn flag(options: &mut Options, letter: char) -> Result<Option<String>, ()> {
        match letter {
            'i' => options.icase = !options.icase,
            'm' => options.newline = !options.newline,
            'x' => options.extended = !options.extended,
            _ => return Err(()),
        }
        Ok(None)
    }

    fn compile(text: &str, options: Options, nosub: bool) -> Result<Regex, String> {
        Regex::new(text, Options { nosub, ..options })
    }

    fn groups(&self) -> usize {
        Regex::groups(self)
    }

    fn find(&self, text: &str, want: usize) -> Result<Option<Groups>, String> {
        Ok(self.matches(text, want))
    }
}
