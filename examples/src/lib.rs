//! Shared helpers for the runnable examples (filled in by the hand-tuned SDK issue).
