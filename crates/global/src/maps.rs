//! A list of tables searched in order, as parameters like `virtual_alias_maps` name them.
//!
//! Postfix counterpart: `global/maps.c`. The first table that has the key answers; a
//! table that fails stops the search with an error (callers defer); an empty string
//! result is a configuration error, reported as Postfix does. A "partial" search (for a
//! piece of an address such as `@domain`) skips pattern tables, which only ever see whole
//! addresses.

use dict::{Dict, DictError, Flags, dict_flags};

/// Tables searched in order.
pub struct Maps {
    title: String,
    dicts: Vec<Box<dyn Dict>>,
}

/// Why a search gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapsError {
    /// A table failed (try again later).
    Retry(String),
    /// A table returned an empty string.
    Config(String),
}

impl Maps {
    /// Opens the tables in `value` (commas or white space between `type:name`s); `title`
    /// names the list in messages, usually the parameter name.
    pub fn new(title: &str, value: &str, flags: Flags) -> Result<Maps, DictError> {
        let names = util::tokens::split_braced(value, util::tokens::COMMA_SPACE)
            .map_err(|e| DictError::Config(format!("{title}: {e}")))?;
        let dicts = names
            .into_iter()
            .map(|name| dict::open(name, flags))
            .collect::<Result<_, _>>()?;
        Ok(Maps {
            title: title.to_string(),
            dicts,
        })
    }

    /// The list's name in messages.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The tables in search order, for a caller that reads them one by one with its own
    /// messages (local's alias lookup: Postfix's alias.c uses dict_get, not maps_find).
    pub fn dicts(&self) -> &[Box<dyn Dict>] {
        &self.dicts
    }

    /// Whether the list has no tables.
    pub fn is_empty(&self) -> bool {
        self.dicts.is_empty()
    }

    /// Looks `name` up; with `partial`, pattern tables are skipped.
    pub fn find(&self, name: &str, partial: bool) -> Result<Option<String>, MapsError> {
        if name.is_empty() {
            return Ok(None);
        }
        for dict in &self.dicts {
            if partial && dict.impl_flags() & dict_flags::FIXED == 0 {
                continue;
            }
            match dict.lookup(name) {
                Ok(Some(value)) if value.is_empty() => {
                    log::msg_warn!(
                        "{} lookup of {name} returns an empty string result",
                        self.title
                    );
                    log::msg_warn!(
                        "{} should return NO RESULT in case of NOT FOUND",
                        self.title
                    );
                    return Err(MapsError::Config(self.title.clone()));
                }
                Ok(Some(value)) => {
                    if log::verbose() > 0 {
                        let shown: String = value.chars().take(100).collect();
                        let more = if value.chars().count() > 100 {
                            "..."
                        } else {
                            ""
                        };
                        log::msg_info!(
                            "maps_find: {}: {}: {name} = {shown}{more}",
                            self.title,
                            dict.spec()
                        );
                    }
                    return Ok(Some(value));
                }
                Ok(None) => {}
                Err(_) => {
                    log::msg_warn!("{} lookup error for \"{name}\"", dict.spec());
                    return Err(MapsError::Retry(self.title.clone()));
                }
            }
        }
        if log::verbose() > 0 {
            log::msg_info!("maps_find: {}: {name}: not found", self.title);
        }
        Ok(None)
    }
}
