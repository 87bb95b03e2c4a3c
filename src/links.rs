//! `zkpod install-links DIR`: the command names as symlinks to this binary, for images.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

/// The names zkpod answers to through symlinks.
pub const LINK_NAMES: [&str; 3] = ["start-zookeeper", "zookeeper-ready", "zookeeper-metrics"];

/// Create start-zookeeper, zookeeper-ready and zookeeper-metrics in DIR as symlinks to this
/// zkpod. Links that already point here are kept; anything else by those names is an error.
#[derive(Parser, Debug)]
#[command(name = "zkpod install-links", version)]
struct LinksArgs {
    /// The directory for the links, e.g. /usr/local/bin.
    dir: PathBuf,
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: LinksArgs = match crate::usage::parse(args, "zkpod install-links") {
        Ok(args) => args,
        Err(code) => return code,
    };
    match install(&args.dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zkpod install-links: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn install(dir: &Path) -> anyhow::Result<()> {
    let target = std::env::current_exe().context("finding this zkpod binary")?;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    // Check every name before creating any, so a refusal changes nothing.
    let mut missing = Vec::new();
    for name in LINK_NAMES {
        let link = dir.join(name);
        match std::fs::read_link(&link) {
            Ok(existing) if existing == target => {}
            Ok(existing) => bail!(
                "{} already points to {}; remove it first",
                link.display(),
                existing.display()
            ),
            Err(_) if link.symlink_metadata().is_ok() => {
                bail!(
                    "{} exists and is not a symlink; remove it first",
                    link.display()
                )
            }
            Err(_) => missing.push(link),
        }
    }
    for link in missing {
        std::os::unix::fs::symlink(&target, &link)
            .with_context(|| format!("creating {}", link.display()))?;
    }
    Ok(())
}
