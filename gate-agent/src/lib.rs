//! og-gate library.
