//! Diagnosis from the mail log: the triage rule base and engine, and the per-message timeline.
//!
//! Postfix counterpart: none; DEBUG_README's "Look for obvious signs of trouble" done by
//! a program. Everything but [`cli`] reads log text only (no configuration, no queue), so
//! that it works unchanged on a log written by Postfix 3.7; no dependencies outside the
//! workspace.

pub mod cli;
pub mod crash;
pub mod engine;
pub mod json;
pub mod logline;
pub mod pattern;
pub mod rules;
pub mod timeline;
