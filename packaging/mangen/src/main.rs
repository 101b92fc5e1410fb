//! mangen - writes ironpost's manual pages from the documentation already in the sources.
//!
//! Postfix counterpart: `mantools/postconf2man` (postconf(5) from `proto/postconf.proto`)
//! and `mantools/srctoman` (each program's page from the comment at the top of its
//! source). `mangen [-c "command ..."] WORKSPACE OUTDIR` writes, under OUTDIR:
//!
//!     man5/postconf.5   every parameter: each declaration's name, default and doc
//!                       (crates/params/src/decl), then the Postfix 3.7 names ironpost
//!                       accepts without reading them yet, with their defaults
//!     man1/NAME.1       each command named with -c (scripts/install's list), and
//!     man8/NAME.8       each other program, from the `//!` comment that opens
//!                       programs/NAME/src/main.rs
//!     man7/ironpost.7   the overview: README.md's opening, the pages, the directories
//!
//! Nothing is written twice: a parameter is documented where it is declared and a program
//! where it is written, and these pages are generated from there at packaging time.

mod roff;

use params::table::Known;
use std::path::{Path, PathBuf};

/// One program's page, taken from its source.
struct Page {
    name: String,
    section: &'static str,
    /// The NAME line's left side (`smtp, lmtp`) and summary.
    names: String,
    summary: String,
    /// The rest of the comment.
    body: String,
}

fn fail(message: &str) -> ! {
    eprintln!("mangen: {message}");
    std::process::exit(1)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut commands: Vec<String> = Vec::new();
    if args.first().map(String::as_str) == Some("-c") && args.len() > 1 {
        commands = args[1].split_whitespace().map(String::from).collect();
        args.drain(..2);
    }
    let [workspace, out] = &args[..] else {
        fail("usage: mangen [-c \"command ...\"] WORKSPACE OUTDIR")
    };
    let (workspace, out) = (PathBuf::from(workspace), PathBuf::from(out));
    let version = params::install::MAIL_VERSION;

    let mut pages = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace.join("programs"))
        .unwrap_or_else(|e| fail(&format!("programs: {e}")))
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let section = if commands.contains(&name) { "1" } else { "8" };
        match program_page(&dir.join("src/main.rs"), &name, section) {
            Some(page) => pages.push(page),
            None => {
                eprintln!("mangen: warning: {name}: no \"//! {name} - summary\" comment, no page")
            }
        }
    }
    for page in &pages {
        write(&out, &page.name, page.section, &program_man(page, version));
    }
    write(&out, "postconf", "5", &postconf_man(version));
    let readme = std::fs::read_to_string(workspace.join("README.md")).unwrap_or_default();
    write(
        &out,
        "ironpost",
        "7",
        &overview_man(&readme, &pages, version),
    );
}

fn write(out: &Path, name: &str, section: &str, text: &str) {
    let dir = out.join(format!("man{section}"));
    let path = dir.join(format!("{name}.{section}"));
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, text)) {
        fail(&format!("{}: {e}", path.display()));
    }
}

/// The page of one program: the opening `//!` comment of its main.rs, whose first
/// paragraph is `name - summary`.
fn program_page(main_rs: &Path, name: &str, section: &'static str) -> Option<Page> {
    let source = std::fs::read_to_string(main_rs).ok()?;
    let comment: Vec<&str> = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let first_blank = comment
        .iter()
        .position(|l| l.trim().is_empty())
        .unwrap_or(comment.len());
    let title = comment[..first_blank].join(" ");
    let (names, summary) = title.split_once(" - ")?;
    if !names.split(", ").any(|n| n == name) {
        return None;
    }
    Some(Page {
        name: name.to_string(),
        section,
        names: names.to_string(),
        summary: summary.trim_end_matches('.').to_string(),
        body: comment[first_blank..].join("\n"),
    })
}

fn see_also(name: &str) -> String {
    let mut refs = vec!["ironpost(7)".to_string()];
    if name != "postconf" {
        refs.push("postconf(5)".to_string());
    }
    format!(".SH \"SEE ALSO\"\n{}\n", roff::escape(&refs.join(", ")))
}

fn program_man(page: &Page, version: &str) -> String {
    let mut out = roff::header(&page.name, page.section, version);
    out.push_str(&format!(
        ".SH NAME\n{} \\- {}\n.SH DESCRIPTION\n",
        roff::escape(&page.names),
        roff::escape(&page.summary)
    ));
    out.push_str(&roff::paragraphs(&page.body));
    out.push_str(&see_also(&page.name));
    out
}

/// How a default reads in postconf(5), as Postfix writes it there.
fn default_text(default: &params::Default) -> String {
    match default {
        params::Default::Text("") => "empty".to_string(),
        params::Default::Text(text) => text.to_string(),
        params::Default::Computed(_) => "see \"postconf -d\" output".to_string(),
    }
}

fn postconf_man(version: &str) -> String {
    let mut out = roff::header("postconf", "5", version);
    out.push_str(".SH NAME\npostconf \\- ironpost configuration parameters\n.SH DESCRIPTION\n");
    out.push_str(&roff::paragraphs(
        "The main.cf file holds `name = value` lines, as Postfix's does. A line that starts \
         with white space continues the previous one; `#` starts a comment line. A value \
         may refer to other parameters as `$name`, `${name}`, `${name?value}` and \
         `${name:value}`. `postconf -n` shows the settings in main.cf, `postconf -d` the \
         defaults, and `postconf name` one value.\n\n\
         Each parameter below is read by ironpost; its text comes from the parameter's \
         declaration. The last section lists the other Postfix 3.7 parameters, which \
         ironpost accepts (no unused-parameter warning) but does not use yet.\n",
    ));
    let mut others = Vec::new();
    for (name, known) in params::table::all() {
        match known {
            Known::Declared(param) => {
                out.push_str(&format!(
                    ".SH \"{} (default: {})\"\n",
                    roff::escape(name),
                    roff::breakable(&default_text(&param.default)).replace('"', "\"\"")
                ));
                out.push_str(&roff::paragraphs(param.doc));
            }
            Known::PostfixOnly(default) => others.push((name, default)),
        }
    }
    out.push_str(".SH \"OTHER POSTFIX 3.7 PARAMETERS\"\n");
    for (name, default) in others {
        let default = if default.is_empty() { "empty" } else { default };
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n(default: {})\n",
            roff::escape(name),
            roff::breakable(default)
        ));
    }
    out.push_str(&see_also("postconf"));
    out
}

/// README.md's opening paragraphs (up to the first `##` heading), as plain text.
fn readme_opening(readme: &str) -> String {
    readme
        .lines()
        .skip_while(|l| l.starts_with("# ") || l.trim().is_empty())
        .take_while(|l| !l.starts_with("## "))
        .map(|l| l.replace("**", ""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn overview_man(readme: &str, pages: &[Page], version: &str) -> String {
    let mut out = roff::header("ironpost", "7", version);
    out.push_str(
        ".SH NAME\nironpost \\- a mail transfer agent that runs Postfix's configuration\n.SH DESCRIPTION\n",
    );
    out.push_str(&roff::paragraphs(&readme_opening(readme)));
    for (section, title) in [("1", "COMMANDS"), ("8", "DAEMONS")] {
        out.push_str(&format!(".SH {title}\n"));
        for page in pages.iter().filter(|p| p.section == section) {
            out.push_str(&format!(
                ".TP\n\\fB{}\\fR({section})\n{}\n",
                roff::escape(&page.name),
                roff::escape(&page.summary)
            ));
        }
    }
    out.push_str(".SH FILES\n");
    for (what, dir) in [
        ("main.cf, master.cf", params::install::CONFIG_DIRECTORY),
        ("commands", params::install::COMMAND_DIRECTORY),
        ("daemons", params::install::DAEMON_DIRECTORY),
        ("the mail queue", params::install::QUEUE_DIRECTORY),
        ("caches and other data", params::install::DATA_DIRECTORY),
    ] {
        out.push_str(&format!(
            ".TP\n{}\n{}\n",
            roff::escape(dir),
            roff::escape(what)
        ));
    }
    out.push_str(".SH \"SEE ALSO\"\npostconf(5), postconf(1), postfix(1), master(8)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_page_from_its_comment() {
        let dir = std::env::temp_dir().join(format!("mangen-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let main_rs = dir.join("main.rs");
        std::fs::write(
            &main_rs,
            "//! smtp, lmtp - the SMTP and LMTP client: delivers mail\n//! to other hosts.\n//!\n//! Details `-v`.\n\nfn main() {}\n",
        )
        .unwrap();
        let page = program_page(&main_rs, "smtp", "8").unwrap();
        assert_eq!(page.names, "smtp, lmtp");
        assert_eq!(
            page.summary,
            "the SMTP and LMTP client: delivers mail to other hosts"
        );
        let man = program_man(&page, "1.0");
        assert!(
            man.contains(".SH NAME\nsmtp, lmtp \\- the SMTP and LMTP client"),
            "{man}"
        );
        assert!(man.contains(".PP\nDetails \\fB\\-v\\fR.\n"), "{man}");
        assert!(program_page(&main_rs, "qmgr", "8").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn postconf_5_has_every_declared_parameter_with_its_doc() {
        let man = postconf_man("1.0");
        for param in params::decl::all() {
            let heading = format!(".SH \"{} (default: ", roff::escape(param.name));
            assert!(man.contains(&heading), "{}", param.name);
        }
        assert!(
            man.contains(".SH \"mail_version (default: "),
            "mail_version"
        );
        assert!(man.contains("OTHER POSTFIX 3.7 PARAMETERS"));
    }
}
