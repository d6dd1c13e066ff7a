//! og-issuer library.
