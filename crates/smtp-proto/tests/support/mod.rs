//! Test support shared by the golden tests and the fuzz targets.
pub mod case;
pub mod session;
