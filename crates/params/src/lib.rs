//! Configuration: the parameter table, main.cf and master.cf.
//!
//! Postfix counterparts: `global/mail_params.[hc]` (the parameters), `global/mail_conf*.c`
//! (reading main.cf and typed access), `master/master_ent.c` and `postconf/postconf_master.c`
//! (master.cf).
//!
//! Every parameter ironpost reads is declared exactly once, in a `decl` module, with its
//! type, its default written the way Postfix writes it, its bounds and a paragraph of
//! documentation. The rest of Postfix 3.7's parameter namespace is listed by name and default
//! in `postfix-3.7.params`, so that a stock main.cf raises no false "unused parameter"
//! warnings and `postconf` can show every name Postfix would.

pub mod config;
pub mod decl;
pub mod def;
pub mod env;
pub mod function_defaults;
pub mod install;
pub mod main_cf;
pub mod master_cf;
pub mod table;

pub use config::{Config, ConfigError};
pub use def::{Default, Kind, Param};
pub use main_cf::CfError;
