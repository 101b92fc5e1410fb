//! Folding a header whose addresses were rewritten.
//!
//! Postfix counterparts: `cleanup_fold_header()` in `cleanup/cleanup_message.c`, and the
//! copy of it in `smtp_header_rewrite()` (`smtp/smtp_proto.c`). Header rewriting puts one
//! address on each line; cleanup and the SMTP client (smtp_generic_maps) join them.

/// Joins the one-address-per-line result of header rewriting into lines of up to about
/// 70 characters (`cleanup_fold_header`); the tab in front of continuation lines is added
/// when the header is written (by cleanup, or by the SMTP client as it sends it).
pub fn fold_header(header: &mut [u8]) {
    let mut start_line = 0;
    let mut line = 0;
    loop {
        let end_line = header[line..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(header.len(), |i| line + i);
        if line > start_line {
            if end_line - start_line < 70 {
                header[line - 1] = b' ';
            } else {
                start_line = line;
            }
        }
        if end_line >= header.len() {
            break;
        }
        line = end_line + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::fold_header;

    #[test]
    fn folding_joins_short_lines() {
        let mut h = b"To: a@example.com,\nb@example.com,\nc@example.com".to_vec();
        fold_header(&mut h);
        assert_eq!(h, b"To: a@example.com, b@example.com, c@example.com");
        let long = format!("To: {}@example.com,\nb@example.com", "x".repeat(70));
        let mut h = long.clone().into_bytes();
        fold_header(&mut h);
        assert_eq!(h, long.as_bytes());
    }
}
