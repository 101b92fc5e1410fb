//! Templates compared with what Postfix 3.7's bounce daemon printed for the same inputs:
//! `golden/*.ref`, recorded by `golden/record.sh` (`postconf -b` and `postconf -t`,
//! which run Postfix's bounce, with the built-in templates and with the template files
//! there). The notices themselves are compared in tests/requests.rs.

use crate::settings::Settings;
use crate::template::Templates;
use std::path::{Path, PathBuf};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn config() -> params::Config {
    config_from("main.cf")
}

fn config_from(name: &str) -> params::Config {
    let path = golden().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let main = params::main_cf::MainCf::parse(&path, &text).unwrap();
    params::Config::new(&golden(), main)
}

fn settings(config: &params::Config) -> Settings {
    Settings::from_config(config).unwrap()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(golden().join(name)).unwrap()
}

#[test]
fn builtin_templates_expand_as_postconf_b_shows_them() {
    let config = config();
    let settings = settings(&config);
    assert_eq!(
        Templates::default().expand(&settings, &config),
        read("b.ref")
    );
}

#[test]
fn builtin_templates_dump_as_postconf_t_shows_them() {
    let config = config();
    let settings = settings(&config);
    assert_eq!(Templates::default().dump(settings.std_from), read("t.ref"));
}

#[test]
fn template_files_load_as_in_postfix() {
    let config = config();
    let settings = settings(&config);
    for file in ["tmpl", "tmpl2"] {
        let path = golden().join(format!("{file}.cf"));
        let mut templates = Templates::from_file(&path.display().to_string());
        let expanded = templates.clone().expand(&settings, &config);
        assert_eq!(expanded, read(&format!("b-{file}.ref")), "{file}");
        assert_eq!(
            templates.dump(settings.std_from),
            read(&format!("t-{file}.ref")),
            "{file}"
        );
    }
}

#[test]
fn host_and_domain_names_are_shown_in_unicode() {
    let config = config_from("main-idna.cf");
    let settings = settings(&config);
    let path = golden().join("tmpl-idna.cf");
    let mut templates = Templates::from_file(&path.display().to_string());
    assert_eq!(templates.expand(&settings, &config), read("b-idna.ref"));
}
