//! The Landfall desktop wizard.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(landfall_desktop::run());
}
