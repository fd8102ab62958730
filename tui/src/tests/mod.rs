//! Snapshot tests of every screen (80x24 and 120x40) and app-level key tests.

mod advice;
mod callsites;
mod keys;
mod live;
mod screens;
