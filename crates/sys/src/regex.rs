//! POSIX regular expressions from the C library, for `regexp:` tables.
//!
//! Postfix counterpart: the `regcomp`/`regexec` calls in `util/dict_regexp.c`. Postfix uses
//! the system's POSIX engine (leftmost-longest matching), so ironpost does too: the same
//! patterns give the same `$1`...`$9` on the same system.

use std::ffi::CString;

/// Compile options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// REG_EXTENDED.
    pub extended: bool,
    /// REG_ICASE.
    pub icase: bool,
    /// REG_NEWLINE.
    pub newline: bool,
    /// REG_NOSUB: only whether it matches.
    pub nosub: bool,
}

/// glibc's `regex_t`, whose `re_nsub` the libc crate keeps private.
#[repr(C)]
struct GlibcRegex {
    buffer: *mut libc::c_void,
    allocated: libc::size_t,
    used: libc::size_t,
    syntax: libc::c_ulong,
    fastmap: *mut libc::c_char,
    translate: *mut libc::c_char,
    re_nsub: libc::size_t,
    bitfield: u8,
}

const _: () = assert!(size_of::<GlibcRegex>() == size_of::<libc::regex_t>());

/// A compiled expression.
pub struct Regex {
    compiled: Box<libc::regex_t>,
}

impl Regex {
    /// Compiles `pattern`; the error is the C library's message.
    pub fn new(pattern: &str, options: Options) -> Result<Regex, String> {
        let pattern = CString::new(pattern).map_err(|_| "null byte in pattern".to_string())?;
        let mut flags = 0;
        if options.extended {
            flags |= libc::REG_EXTENDED;
        }
        if options.icase {
            flags |= libc::REG_ICASE;
        }
        if options.newline {
            flags |= libc::REG_NEWLINE;
        }
        if options.nosub {
            flags |= libc::REG_NOSUB;
        }
        // SAFETY: regex_t is plain data, so all-zero is a valid value for regcomp to fill.
        let mut compiled: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `compiled` is writable and the pattern is a valid C string for the call.
        let rc = unsafe { libc::regcomp(&mut *compiled, pattern.as_ptr(), flags) };
        if rc != 0 {
            let mut buf = [0u8; 256];
            // SAFETY: regerror writes at most buf.len() bytes into buf.
            unsafe { libc::regerror(rc, &*compiled, buf.as_mut_ptr().cast(), buf.len()) };
            let text = std::ffi::CStr::from_bytes_until_nul(&buf)
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(text);
        }
        Ok(Regex { compiled })
    }

    /// The number of parenthesised subexpressions.
    pub fn groups(&self) -> usize {
        let view: *const GlibcRegex = (&*self.compiled as *const libc::regex_t).cast();
        // SAFETY: GlibcRegex has glibc's regex_t layout (checked by size below) and the
        // value was initialised by regcomp; only the count is read.
        unsafe { (*view).re_nsub }
    }

    /// Matches `text`: None when it does not match, else the byte ranges of the whole
    /// match and the first `want` groups (None for a group that did not take part).
    pub fn matches(&self, text: &str, want: usize) -> Option<crate::Groups> {
        let text = CString::new(text).ok()?;
        let count = want + 1;
        let mut found = vec![
            libc::regmatch_t {
                rm_so: -1,
                rm_eo: -1
            };
            count
        ];
        // SAFETY: `compiled` was initialised by regcomp; `found` has room for `count`
        // matches and `text` is a valid C string.
        let rc =
            unsafe { libc::regexec(&*self.compiled, text.as_ptr(), count, found.as_mut_ptr(), 0) };
        if rc != 0 {
            return None;
        }
        Some(
            found
                .iter()
                .map(|m| (m.rm_so >= 0).then_some((m.rm_so as usize, m.rm_eo as usize)))
                .collect(),
        )
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: `compiled` was initialised by a successful regcomp and is freed once.
        unsafe { libc::regfree(&mut *self.compiled) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERE_ICASE: Options = Options {
        extended: true,
        icase: true,
        newline: false,
        nosub: false,
    };

    #[test]
    fn posix_semantics() {
        let re = Regex::new("^(.*)@(example\\.com)$", ERE_ICASE).unwrap();
        assert_eq!(re.groups(), 2);
        let m = re.matches("User@EXAMPLE.com", 2).unwrap();
        assert_eq!(m[1], Some((0, 4)));
        assert!(re.matches("user@example.org", 2).is_none());
        // Leftmost-longest: POSIX picks the longer alternative.
        let re = Regex::new("(a|ab)(c|bcd)", ERE_ICASE).unwrap();
        assert_eq!(re.matches("abcd", 2).unwrap()[0], Some((0, 4)));
        assert!(Regex::new("(unclosed", ERE_ICASE).is_err());
    }
}
