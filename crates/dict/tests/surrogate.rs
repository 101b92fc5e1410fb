//! Surrogate tables (Postfix's `dict_surrogate.c`): in a process that allows them, a table
//! that cannot be opened logs one `error:` at open time and then fails every access with a
//! warning, as Postfix 3.7's daemons do. A separate test binary, because the switch is
//! process-wide and the library's own tests expect open failures to be errors.

use dict::{DictError, Flags, dict_flags};

#[test]
fn unopenable_tables_become_surrogates_in_daemons() {
    let capture = log::Capture::default();
    log::retain_sinks(|_| false);
    log::add_sink(Box::new(capture.clone()));

    // Not allowed (commands): the open failure is returned to the caller.
    assert!(!dict::surrogate_allowed());
    assert!(matches!(
        dict::open("texthash:/nonexistent/aliases", Flags::default()),
        Err(DictError::Open(_))
    ));
    assert!(capture.lines().is_empty());

    dict::allow_surrogate(true);
    let table = dict::open("texthash:/nonexistent/aliases", Flags::default()).unwrap();
    assert_eq!(
        capture.lines(),
        ["error: open database /nonexistent/aliases: No such file or directory"]
    );
    let reason = "open database /nonexistent/aliases: No such file or directory";
    assert_eq!(table.spec(), "texthash:/nonexistent/aliases");
    assert_eq!(table.lookup("staff"), Err(DictError::Retry(reason.into())));
    assert_eq!(table.entries(), Err(DictError::Retry(reason.into())));
    let warning = format!("warning: texthash:/nonexistent/aliases is unavailable. {reason}");
    assert_eq!(capture.lines()[1..], [warning.clone(), warning]);
    // Partial searches (maps_find with a domain or localpart) skip it, as Postfix marks
    // a surrogate a pattern table.
    assert_eq!(table.impl_flags(), dict_flags::PATTERN);

    // An unknown type is a surrogate too; a malformed name stays an error.
    let table = dict::open("nosuchtype:x", Flags::default()).unwrap();
    assert!(table.lookup("k").is_err());
    assert_eq!(
        capture.lines()[3..],
        [
            "error: unsupported dictionary type: nosuchtype",
            "warning: nosuchtype:x is unavailable. unsupported dictionary type: nosuchtype",
        ]
    );
    assert!(matches!(
        dict::open("no-colon", Flags::default()),
        Err(DictError::Config(_))
    ));

    // A caller that handles the failure itself (the verify cache) still sees it.
    assert!(matches!(
        dict::try_open("texthash:/nonexistent/cache", Flags::default()),
        Err(DictError::Open(_))
    ));
    assert_eq!(capture.lines().len(), 5);
}
