//! One module per subcommand; each is a thin layer over a library call.

pub mod check;
pub mod common;
pub mod diff;
pub mod docs;
pub mod export;
pub mod import;
pub mod lab;
pub mod record;
pub mod redact;
pub mod report;
pub mod view;
