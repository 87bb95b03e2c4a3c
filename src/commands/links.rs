//! `zkpod install-links DIR`: the command names as symlinks to this binary, for images.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command, value_parser};

use super::APPLETS;
use crate::cli::error::{Context as _, Error, Result};
use crate::cli::quote::quote;

pub fn command() -> Command {
    Command::new("install-links")
        .about(
            "Create start-zookeeper, zookeeper-ready and zookeeper-metrics in DIR as symlinks \
             to this zkpod. Links that already point here are kept; anything else by those \
             names is an error, and then nothing is created.",
        )
        .after_help("Exit status: 0 done; 1 refused (see the message); 2 bad arguments.")
        .arg(
            Arg::new("dir")
                .value_name("DIR")
                .required(true)
                .value_parser(value_parser!(PathBuf))
                .help("The directory for the links, e.g. /usr/local/bin"),
        )
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let dir = matches.get_one::<PathBuf>("dir").expect("required");
    install(dir)?;
    Ok(0)
}

fn install(dir: &Path) -> Result<()> {
    let target = std::env::current_exe().context(|| "finding this zkpod binary".into())?;
    let shown = |path: &Path| quote(&path.display().to_string());
    if !dir.is_dir() {
        return Err(Error::failed(format!("{} is not a directory", shown(dir))));
    }
    // Check every name before creating any, so a refusal changes nothing.
    let mut missing = Vec::new();
    for name in APPLETS.iter().filter_map(|applet| applet.link) {
        let link = dir.join(name);
        match std::fs::read_link(&link) {
            Ok(existing) if existing == target => {}
            Ok(existing) => {
                return Err(Error::failed(format!(
                    "{} already points to {}; remove it first",
                    shown(&link),
                    shown(&existing)
                )));
            }
            Err(_) if link.symlink_metadata().is_ok() => {
                return Err(Error::failed(format!(
                    "{} exists and is not a symlink; remove it first",
                    shown(&link)
                )));
            }
            Err(_) => missing.push(link),
        }
    }
    for link in missing {
        std::os::unix::fs::symlink(&target, &link)
            .context(|| format!("creating {}", shown(&link)))?;
    }
    Ok(())
}
