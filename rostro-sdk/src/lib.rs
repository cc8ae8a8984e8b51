//! Typed Rust client for the Rostro API.
//!
//! This crate is being built up issue by issue; see the repository README.
