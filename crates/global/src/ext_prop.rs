//! propagate_unmatched_extensions: where an address extension that a table lookup
//! stripped is put back on the result.
//!
//! Postfix counterpart: `global/ext_prop.c`. cleanup (canonical, virtual), local (alias,
//! forward, include) and the SMTP client (generic) each test their own bit.

/// Through canonical_maps.
pub const CANONICAL: u32 = 1 << 0;
/// Through virtual_alias_maps.
pub const VIRTUAL: u32 = 1 << 1;
/// Through aliases.
pub const ALIAS: u32 = 1 << 2;
/// Through .forward files.
pub const FORWARD: u32 = 1 << 3;
/// Through :include: files.
pub const INCLUDE: u32 = 1 << 4;
/// Through smtp_generic_maps and lmtp_generic_maps.
pub const GENERIC: u32 = 1 << 5;

/// The names of the parameter's values.
const NAMES: &[(&str, u32)] = &[
    ("canonical", CANONICAL),
    ("virtual", VIRTUAL),
    ("alias", ALIAS),
    ("forward", FORWARD),
    ("include", INCLUDE),
    ("generic", GENERIC),
];

/// The mask for `value` of parameter `param` (`ext_prop_mask`); an unknown name is an
/// error in Postfix's words.
pub fn ext_prop_mask(param: &str, value: &str) -> Result<u32, String> {
    util::name_mask::name_mask(param, NAMES, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_make_the_mask() {
        assert_eq!(
            ext_prop_mask("p", "canonical, generic"),
            Ok(CANONICAL | GENERIC)
        );
        assert_eq!(ext_prop_mask("p", ""), Ok(0));
        assert!(ext_prop_mask("p", "bogus").is_err());
    }
}
