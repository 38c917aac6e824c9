//! Test support for the L2TP suite.
