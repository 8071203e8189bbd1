//! The subcommands of `sipws`, one module each.

pub(crate) mod parse;
