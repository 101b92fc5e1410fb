//! Perl-compatible regular expressions through the system's libpcre2-8, the library
//! Postfix's `pcre:` tables use.
//!
//! Postfix counterpart: the PCRE2 calls in `util/dict_pcre.c`. Patterns work on bytes (no
//! UTF mode), as Postfix 3.7 compiles them; match offsets are byte offsets.

use std::ffi::{c_int, c_void};

#[repr(C)]
struct Code {
    _opaque: [u8; 0],
}

#[repr(C)]
struct MatchData {
    _opaque: [u8; 0],
}

#[link(name = "pcre2-8")]
unsafe extern "C" {
    fn pcre2_compile_8(
        pattern: *const u8,
        length: usize,
        options: u32,
        error_code: *mut c_int,
        error_offset: *mut usize,
        context: *mut c_void,
    ) -> *mut Code;
    fn pcre2_get_error_message_8(code: c_int, buffer: *mut u8, length: usize) -> c_int;
    fn pcre2_pattern_info_8(code: *const Code, what: u32, out: *mut c_void) -> c_int;
    fn pcre2_code_free_8(code: *mut Code);
    fn pcre2_match_data_create_from_pattern_8(
        code: *const Code,
        context: *mut c_void,
    ) -> *mut MatchData;
    fn pcre2_match_data_free_8(data: *mut MatchData);
    fn pcre2_match_8(
        code: *const Code,
        subject: *const u8,
        length: usize,
        start: usize,
        options: u32,
        data: *mut MatchData,
        context: *mut c_void,
    ) -> c_int;
    fn pcre2_get_ovector_pointer_8(data: *mut MatchData) -> *mut usize;
    fn pcre2_get_ovector_count_8(data: *mut MatchData) -> u32;
}

const PCRE2_INFO_CAPTURECOUNT: u32 = 4;
const PCRE2_ERROR_NOMATCH: c_int = -1;
const PCRE2_UNSET: usize = usize::MAX;

/// Compile options, as the pattern flags of a `pcre:` table set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// `i`: case-insensitive.
    pub caseless: bool,
    /// `m`: `^` and `$` match at embedded newlines.
    pub multiline: bool,
    /// `s`: `.` matches a newline.
    pub dotall: bool,
    /// `x`: white space and `#` comments in the pattern are ignored.
    pub extended: bool,
    /// `A`: the match must start at the beginning of the string.
    pub anchored: bool,
    /// `E`: `$` matches only at the very end, not before a final newline.
    pub dollar_endonly: bool,
    /// `U`: quantifiers are lazy unless followed by `?`.
    pub ungreedy: bool,
}

impl Options {
    fn bits(self) -> u32 {
        [
            (self.caseless, 0x0000_0008),
            (self.multiline, 0x0000_0400),
            (self.dotall, 0x0000_0020),
            (self.extended, 0x0000_0080),
            (self.anchored, 0x8000_0000),
            (self.dollar_endonly, 0x0000_0010),
            (self.ungreedy, 0x0004_0000),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }
}

/// PCRE2's text for an error code.
fn message(code: c_int) -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer and its length are passed together; PCRE2 NUL-terminates within it.
    let len = unsafe { pcre2_get_error_message_8(code, buffer.as_mut_ptr(), buffer.len()) };
    match usize::try_from(len) {
        Ok(len) => String::from_utf8_lossy(&buffer[..len.min(buffer.len())]).into_owned(),
        Err(_) => format!("error {code}"),
    }
}

/// A compiled pattern with its match data.
pub struct Pcre {
    code: *mut Code,
    data: *mut MatchData,
    groups: usize,
}

/// A failed compile: PCRE2's message and the byte offset it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Where in the pattern.
    pub offset: usize,
    /// What is wrong, in PCRE2's words.
    pub message: String,
}

impl Pcre {
    /// Compiles `pattern`.
    pub fn new(pattern: &str, options: Options) -> Result<Pcre, CompileError> {
        let mut code = 0;
        let mut offset = 0;
        // SAFETY: pattern pointer and length describe a live slice; no compile context.
        let compiled = unsafe {
            pcre2_compile_8(
                pattern.as_ptr(),
                pattern.len(),
                options.bits(),
                &mut code,
                &mut offset,
                std::ptr::null_mut(),
            )
        };
        if compiled.is_null() {
            return Err(CompileError {
                offset,
                message: message(code),
            });
        }
        let mut captures: u32 = 0;
        // SAFETY: compiled is a live pattern; CAPTURECOUNT writes a uint32_t.
        unsafe {
            pcre2_pattern_info_8(
                compiled,
                PCRE2_INFO_CAPTURECOUNT,
                (&mut captures as *mut u32).cast(),
            )
        };
        // SAFETY: compiled is a live pattern; no general context.
        let data =
            unsafe { pcre2_match_data_create_from_pattern_8(compiled, std::ptr::null_mut()) };
        if data.is_null() {
            // SAFETY: freed once, here, as the error path owns it.
            unsafe { pcre2_code_free_8(compiled) };
            return Err(CompileError {
                offset: 0,
                message: "out of memory".into(),
            });
        }
        Ok(Pcre {
            code: compiled,
            data,
            groups: captures as usize,
        })
    }

    /// The number of capture groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Matches `subject`: Ok(None) for no match, otherwise the byte ranges of the whole
    /// match and of each group (None for a group that took no part); Err with PCRE2's
    /// message when matching failed (a resource limit, for example).
    pub fn matches(&self, subject: &[u8]) -> Result<Option<crate::Groups>, String> {
        // SAFETY: live pattern and match data; the subject slice is live for the call.
        let status = unsafe {
            pcre2_match_8(
                self.code,
                subject.as_ptr(),
                subject.len(),
                0,
                0,
                self.data,
                std::ptr::null_mut(),
            )
        };
        if status == PCRE2_ERROR_NOMATCH {
            return Ok(None);
        }
        if status < 0 {
            return Err(message(status));
        }
        // SAFETY: after a successful match the ovector holds `count` pairs.
        let pairs = unsafe {
            let count = pcre2_get_ovector_count_8(self.data) as usize;
            std::slice::from_raw_parts(pcre2_get_ovector_pointer_8(self.data), count * 2)
        };
        Ok(Some(
            pairs
                .chunks(2)
                .take(self.groups + 1)
                .map(|p| (p[0] != PCRE2_UNSET).then_some((p[0], p[1])))
                .collect(),
        ))
    }
}

impl Drop for Pcre {
    fn drop(&mut self) {
        // SAFETY: both were created in `new` and are freed once, here.
        unsafe {
            pcre2_match_data_free_8(self.data);
            pcre2_code_free_8(self.code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_matches_and_reports_errors() {
        let defaults = Options {
            caseless: true,
            dotall: true,
            ..Options::default()
        };
        let re = Pcre::new("^(a+)(b)?(c)$", defaults).unwrap();
        assert_eq!(re.groups(), 3);
        assert_eq!(
            re.matches(b"AAc").unwrap(),
            Some(vec![Some((0, 3)), Some((0, 2)), None, Some((2, 3))])
        );
        assert_eq!(re.matches(b"x").unwrap(), None);
        let lazy = Pcre::new(
            "^(a+)(a*)$",
            Options {
                ungreedy: true,
                ..defaults
            },
        )
        .unwrap();
        assert_eq!(lazy.matches(b"aaa").unwrap().unwrap()[1], Some((0, 1)));
        let err = Pcre::new("fo(o", defaults).err().unwrap();
        assert_eq!(err.offset, 4);
        assert_eq!(err.message, "missing closing parenthesis");
    }
}
