//! focal-tui: an exact, keyboard-driven explorer for softmax focal loss.
//!
//! Data flows one way: terminal event → [`action::Action`] → [`app::App::update`]
//! → recompute ([`loss`]) → [`ui::view`] → [`screen::Screen`] (the changed
//! cells to the terminal). The [`loss`] and [`parse`] modules
//! are pure and know nothing of terminals; [`calc`] is the headless report.

pub mod action;
pub mod app;
pub mod calc;
pub mod cli;
pub mod data;
pub mod dataset;
pub mod example;
pub mod field;
pub mod format;
pub mod input;
pub mod keys;
pub mod lens;
pub mod logits_input;
pub mod loss;
pub mod nudge;
pub mod parse;
pub mod presets;
pub mod report;
pub mod screen;
pub mod shown;
pub(crate) mod simd;
#[cfg(test)]
mod test_rng;
pub mod text;
pub mod theme;
pub mod tui;
pub mod ui;
pub mod verify;
