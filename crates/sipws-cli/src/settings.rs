//! Settings from a TOML file (`--config FILE`, or the `SIPWS_CONFIG`
//! variable): every key is the long name of a flag, so the file says
//! what a command line would.
//!
//! ```toml
//! # Keys at the top apply to every command that has that flag.
//! url = "wss://127.0.0.1:15443"
//! user = "alice"
//! domain = "sipws.test"
//! password = "sipws-secret"    # allowed; never printed or logged
//! ca-file = "/tmp/sipws-kamailio/ca.pem"
//!
//! # A table applies to one command.
//! [register]
//! expires = 300
//! stay = true
//!
//! [connect]
//! idle = "5s"
//! delays = ["1s", "2s", "4s"]   # an array repeats the flag
//!
//! [serve]
//! user = ["alice:alice-secret", "bob:bob-secret"]
//! ```
//!
//! How it works: before clap parses the command line, the file's values
//! for the chosen command are turned into arguments (`--key=value`;
//! `--key` for `true`, nothing for `false`; an array repeats the flag;
//! `url` is the positional URL) and put after the command name, so clap
//! validates them like typed ones. A flag given on the command line wins:
//! its key in the file is skipped (so are the file's URLs when the command
//! line has a `ws://` or `wss://` URL). Keys are flag names with `-` (or
//! `_`); a key at the top that names no flag of the command is skipped if
//! some other command has it, and an error otherwise, as is any unknown
//! key in a command's table: exit 2 with the file's name. `verbose = N` at
//! the top is `-v` N times.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Command;
use toml::{Table, Value};

/// A settings file that cannot be used (the message names the file).
#[derive(Debug)]
pub(crate) struct SettingsError(pub(crate) String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The command line with the file's settings put in, and the file they
/// came from (`None` when no file was given).
pub(crate) struct Expanded {
    /// The arguments for clap.
    pub(crate) args: Vec<OsString>,
    /// The settings file used, if any.
    pub(crate) file: Option<PathBuf>,
}

/// Where the settings file is: `--config FILE` / `--config=FILE`, else
/// `SIPWS_CONFIG` (an empty value means none).
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let Some(s) = a.to_str() else { continue };
        if s == "--" {
            break;
        }
        if s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("SIPWS_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The position of the subcommand's name: the first word that is neither
/// a global option nor its value.
fn subcommand_index(args: &[OsString], cli: &Command) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        let s = args[i].to_str()?;
        if s == "--config" {
            i += 2;
            continue;
        }
        if s.starts_with('-') {
            i += 1;
            continue;
        }
        return cli.find_subcommand(s).map(|_| i);
    }
    None
}

/// Reads `path` and puts its settings into `args` (see the module doc).
pub(crate) fn expand(args: Vec<OsString>, cli: &Command) -> Result<Expanded, SettingsError> {
    let Some(path) = config_path(&args) else {
        return Ok(Expanded { args, file: None });
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| SettingsError(format!("{}: {e}", path.display())))?;
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        SettingsError(format!(
            "{}: not valid TOML: {}",
            path.display(),
            e.to_string().trim_end()
        ))
    })?;
    let args = apply(args, cli, &table, &path)?;
    Ok(Expanded {
        args,
        file: Some(path),
    })
}

/// Normalises a key to a flag name.
fn flag_name(key: &str) -> String {
    key.replace('_', "-")
}

/// The long flags of a command, and whether it has a positional URL.
fn flags_of(cmd: &Command) -> (Vec<String>, bool) {
    let mut longs = Vec::new();
    let mut url = false;
    for a in cmd.get_arguments() {
        if let Some(l) = a.get_long() {
            longs.push(l.to_owned());
        } else if a.is_positional() && matches!(a.get_id().as_str(), "url" | "urls") {
            url = true;
        }
    }
    (longs, url)
}

fn apply(
    args: Vec<OsString>,
    cli: &Command,
    table: &Table,
    path: &Path,
) -> Result<Vec<OsString>, SettingsError> {
    let file = path.display();
    let sub = subcommand_index(&args, cli);
    let sub_name = sub.and_then(|i| args[i].to_str()).map(str::to_owned);
    let known_anywhere = |flag: &str| {
        flag == "url"
            || cli
                .get_subcommands()
                .any(|c| c.get_arguments().any(|a| a.get_long() == Some(flag)))
    };
    let mut globals: Vec<OsString> = Vec::new();
    // (flag, value) pairs for the chosen command; table entries win over
    // top-level ones.
    let mut chosen: Vec<(String, Value)> = Vec::new();
    let sub_cmd = sub_name.as_deref().and_then(|n| cli.find_subcommand(n));
    let (flags, has_url) = sub_cmd.map(flags_of).unwrap_or_default();
    let global_flags = ["config", "help", "version", "verbose"];
    for (key, value) in table {
        if let Value::Table(t) = value {
            let Some(c) = cli.find_subcommand(key) else {
                return Err(SettingsError(format!(
                    "{file}: unknown table [{key}] (tables are named after commands: {})",
                    cli.get_subcommands()
                        .map(|c| c.get_name())
                        .filter(|n| *n != "help")
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            let (cflags, curl) = flags_of(c);
            for (k, v) in t {
                let flag = flag_name(k);
                let known = (flag == "url" && curl) || cflags.contains(&flag);
                if !known || global_flags.contains(&flag.as_str()) {
                    return Err(SettingsError(format!(
                        "{file}: unknown key `{k}` in [{key}] (`sipws {key} --help` lists the flags)"
                    )));
                }
                if Some(key.as_str()) == sub_name.as_deref() {
                    chosen.retain(|(f, _)| *f != flag);
                    chosen.push((flag, v.clone()));
                }
            }
            continue;
        }
        let flag = flag_name(key);
        if flag == "verbose" && !matches!(value, Value::Table(_)) {
            let n = value
                .as_integer()
                .filter(|n| (0..=3).contains(n))
                .ok_or_else(|| SettingsError(format!("{file}: `{key}` must be 0, 1, 2 or 3")))?;
            if n > 0 {
                globals.push(format!("-{}", "v".repeat(n as usize)).into());
            }
            continue;
        }
        if global_flags.contains(&flag.as_str()) || !known_anywhere(&flag) {
            return Err(SettingsError(format!(
                "{file}: unknown key `{key}` (keys are long flag names of the commands)"
            )));
        }
        let applies = (flag == "url" && has_url) || flags.contains(&flag);
        if applies && !chosen.iter().any(|(f, _)| *f == flag) {
            chosen.push((flag, value.clone()));
        }
    }
    let Some(sub) = sub else {
        // No command (e.g. `sipws --help`): only the global settings.
        return Ok(insert_after(args, 0, globals, Vec::new()));
    };
    let given = &args[sub + 1..];
    // Flags typed on the command line (up to a `--`).
    let typed = |flag: &str| {
        let long = format!("--{flag}");
        let with_value = format!("--{flag}=");
        given
            .iter()
            .map_while(|a| a.to_str().filter(|a| *a != "--"))
            .any(|a| a == long || a.starts_with(&with_value))
    };
    let typed_url = given
        .iter()
        .filter_map(|a| a.to_str())
        .any(|a| a.starts_with("ws://") || a.starts_with("wss://"));
    let mut injected: Vec<OsString> = Vec::new();
    let mut positional: Vec<OsString> = Vec::new();
    for (flag, value) in chosen {
        let values: Vec<&Value> = match &value {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        if flag == "url" {
            if !typed_url {
                for v in values {
                    positional.push(scalar(&file, &flag, v)?.into());
                }
            }
            continue;
        }
        if typed(&flag) {
            continue;
        }
        for v in values {
            match v {
                Value::Boolean(true) => injected.push(format!("--{flag}").into()),
                Value::Boolean(false) => {}
                v => injected.push(format!("--{flag}={}", scalar(&file, &flag, v)?).into()),
            }
        }
    }
    injected.extend(positional);
    Ok(insert_after(args, sub, globals, injected))
}

/// `args` with `globals` after the program name and `injected` after
/// position `at` (the command's name).
fn insert_after(
    args: Vec<OsString>,
    at: usize,
    globals: Vec<OsString>,
    injected: Vec<OsString>,
) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len() + globals.len() + injected.len());
    for (i, a) in args.into_iter().enumerate() {
        out.push(a);
        if i == 0 {
            out.extend(globals.iter().cloned());
        }
        if i == at && at != 0 {
            out.extend(injected.iter().cloned());
        }
    }
    out
}

/// A value as command-line text.
fn scalar(file: &impl std::fmt::Display, flag: &str, v: &Value) -> Result<String, SettingsError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(SettingsError(format!(
            "{file}: `{flag}` must be a string, a number, a boolean or an array of them"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn cli() -> Command {
        Command::new("sipws")
            .arg(Arg::new("config").long("config").global(true))
            .subcommand(
                Command::new("register")
                    .arg(Arg::new("url").required(true))
                    .arg(Arg::new("user").long("user"))
                    .arg(Arg::new("expires").long("expires"))
                    .arg(Arg::new("stay").long("stay").action(ArgAction::SetTrue)),
            )
            .subcommand(
                Command::new("serve")
                    .arg(Arg::new("users").long("user").action(ArgAction::Append))
                    .arg(Arg::new("json").long("json").action(ArgAction::SetTrue)),
            )
    }

    fn run(args: &[&str], toml: &str) -> Result<Vec<String>, String> {
        let table: Table = toml.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let args = args.iter().map(OsString::from).collect();
        apply(args, &cli(), &table, Path::new("s.toml"))
            .map(|v| v.into_iter().map(|a| a.into_string().unwrap()).collect())
            .map_err(|e| e.0)
    }

    #[test]
    fn file_values_go_after_the_command_and_the_command_line_wins() {
        let toml = "url = \"ws://a\"\nuser = \"alice\"\njson = true\n[register]\nexpires = 60\nstay = true\n";
        let out = run(&["sipws", "register", "--user", "bob"], toml).unwrap();
        assert_eq!(
            out,
            [
                "sipws",
                "register",
                "--expires=60",
                "--stay",
                "ws://a",
                "--user",
                "bob"
            ]
        );
        let out = run(&["sipws", "register", "ws://b", "--expires=5"], toml).unwrap();
        assert_eq!(
            out,
            [
                "sipws",
                "register",
                "--stay",
                "--user=alice",
                "ws://b",
                "--expires=5"
            ]
        );
    }

    #[test]
    fn arrays_repeat_and_false_is_left_out() {
        let toml = "json = false\n[serve]\nuser = [\"a:1\", \"b:2\"]\n";
        let out = run(&["sipws", "serve"], toml).unwrap();
        assert_eq!(out, ["sipws", "serve", "--user=a:1", "--user=b:2"]);
    }

    #[test]
    fn unknown_keys_and_tables_name_the_file() {
        let e = run(&["sipws", "serve"], "colour = 3\n").unwrap_err();
        assert!(e.starts_with("s.toml: unknown key `colour`"), "{e}");
        let e = run(&["sipws", "serve"], "[register]\nstayy = true\n").unwrap_err();
        assert!(
            e.contains("s.toml: unknown key `stayy` in [register]"),
            "{e}"
        );
        let e = run(&["sipws", "serve"], "[dance]\nx = 1\n").unwrap_err();
        assert!(e.contains("unknown table [dance]"), "{e}");
        let e = run(&["sipws", "serve"], "[serve]\nuser = { a = 1 }\n").unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        // A top-level key of another command is fine.
        assert!(run(&["sipws", "serve"], "expires = 5\n").is_ok());
    }

    #[test]
    fn the_config_path_comes_from_the_flag() {
        let args: Vec<OsString> = ["sipws", "--config", "x.toml", "serve"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(config_path(&args), Some(PathBuf::from("x.toml")));
        assert_eq!(subcommand_index(&args, &cli()), Some(3));
        let args: Vec<OsString> = ["sipws", "serve", "--config=y.toml"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(config_path(&args), Some(PathBuf::from("y.toml")));
    }
}
