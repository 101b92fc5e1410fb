//! Records stay one line: control characters and, without UTF-8, 8-bit characters show
//! as '?' in every sink (Postfix's msg_output applies printable() to each record).

#[test]
fn records_are_printable() {
    let capture = log::Capture::default();
    log::init(Box::new(capture.clone()));
    log::msg_warn!("bad line \"MAIL FROM:<a>\r\nRCPT TO:<b>\"\tend");
    log::msg_info!("caf\u{e9} ok");
    log::set_utf8(false);
    log::msg_info!("caf\u{e9} not ok");
    assert_eq!(
        capture.lines(),
        [
            "warning: bad line \"MAIL FROM:<a>??RCPT TO:<b>\"?end",
            "caf\u{e9} ok",
            "caf?? not ok",
        ]
    );
}
