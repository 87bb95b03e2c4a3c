//! The JVM heap: the size `--heap` gives, or its share of the container's memory limit.
//!
//! The limit is the memory cgroup's, found as the kernel shows it to the process: its line in
//! /proc/self/cgroup, the cgroup file system's mount in /proc/self/mountinfo, and the limit
//! file in the cgroup's directory and each parent up to the mount (the smallest wins):
//! `memory.max` with cgroup v2, `memory.limit_in_bytes` with v1. Clusters run both; where a
//! node has both, the memory controller is on v1's hierarchy when /proc/self/cgroup names it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::error::{Error, Result};
use crate::config::flags::{Given, Heap};

const MIB: u64 = 1024 * 1024;
/// cgroup v1 says "no limit" with the largest page-aligned count it holds (9223372036854771712
/// with 4 KiB pages); anything this large is no limit.
const V1_UNLIMITED: u64 = 1 << 62;

/// A memory limit and the file that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    pub file: PathBuf,
}

/// The heap the server gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sized {
    /// What -Xmx and -Xms take: as given, or whole MiB (`768m`) for a share.
    pub size: String,
    /// How it was found, for the dry run: `2G (--heap)`, `768m: 50% of 1536 MiB (FILE)`.
    pub how: String,
    /// Set when the heap leaves less than a quarter of the memory limit to everything else.
    pub warning: Option<String>,
}

/// The heap for `heap`, reading the container's memory limit (needed for a share; for a size,
/// only to warn).
pub fn size(heap: &Given<Heap>) -> Result<Sized> {
    let limit = memory_limit();
    match &heap.value {
        Heap::Share(percent) => {
            let Some(limit) = limit else {
                return Err(Error::failed(format!(
                    "{}: {percent}% of the memory limit, but this container has no memory \
                     limit: set one (resources.limits.memory) or give a size such as 2G",
                    heap.origin
                )));
            };
            share(heap, *percent, &limit)
        }
        Heap::Size(size) => {
            let how = format!("{size} ({})", heap.origin);
            let warning = match (bytes(size), &limit) {
                (Some(bytes), Some(limit)) => crowded(heap, bytes, limit),
                _ => None,
            };
            Ok(Sized {
                size: size.clone(),
                how,
                warning,
            })
        }
    }
}

/// `percent` of `limit`, in whole MiB.
fn share(heap: &Given<Heap>, percent: u8, limit: &Limit) -> Result<Sized> {
    let mib = (u128::from(limit.bytes) * u128::from(percent) / 100 / u128::from(MIB)) as u64;
    if mib == 0 {
        return Err(Error::failed(format!(
            "{}: {percent}% of the memory limit of {} bytes ({}) is less than 1 MiB",
            heap.origin,
            limit.bytes,
            limit.file.display()
        )));
    }
    Ok(Sized {
        size: format!("{mib}m"),
        how: format!(
            "{mib}m: {percent}% ({}) of the memory limit, {} MiB ({})",
            heap.origin,
            limit.bytes / MIB,
            limit.file.display()
        ),
        warning: crowded(heap, mib * MIB, limit),
    })
}

/// The warning for a heap that leaves less than a quarter of the limit: the JVM's own memory
/// (metaspace, thread stacks, direct buffers) and everything else in the container live there,
/// and going over the limit is an OOM kill, not an OutOfMemoryError.
fn crowded(heap: &Given<Heap>, heap_bytes: u64, limit: &Limit) -> Option<String> {
    let left = limit.bytes.saturating_sub(heap_bytes);
    (left < limit.bytes / 4).then(|| {
        format!(
            "{}={}: a heap of {} MiB leaves {} MiB of the {} MiB memory limit for the rest of \
             the JVM and the container, less than a quarter: expect the container to be killed \
             for memory; give a smaller heap, or a share such as 50%",
            heap.origin,
            heap.value,
            heap_bytes / MIB,
            left / MIB,
            limit.bytes / MIB
        )
    })
}

/// A JVM size (`512M`, `2g`, `65536k`, `1048576`) in bytes.
fn bytes(size: &str) -> Option<u64> {
    let (digits, unit) = match size.char_indices().last()? {
        (at, c) if c.is_ascii_alphabetic() => (&size[..at], c.to_ascii_lowercase()),
        _ => (size, 'b'),
    };
    let shift = match unit {
        'b' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// This process's memory limit, if it has one that can be read.
pub fn memory_limit() -> Option<Limit> {
    let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let (version, dir, mount) = memory_cgroup(&cgroup, &mountinfo)?;
    let mut limit: Option<Limit> = None;
    for dir in dir.ancestors().take_while(|d| d.starts_with(&mount)) {
        let file = dir.join(version.limit_file());
        let Some(bytes) = fs::read_to_string(&file)
            .ok()
            .and_then(|text| version.limit(&text))
        else {
            continue;
        };
        if limit.as_ref().is_none_or(|l| bytes < l.bytes) {
            limit = Some(Limit { bytes, file });
        }
    }
    limit
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn limit_file(self) -> &'static str {
        match self {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        }
    }

    /// The limit a limit file holds; None for none.
    fn limit(self, text: &str) -> Option<u64> {
        let bytes = text.trim().parse::<u64>().ok()?; // v2 says "max" for none
        (self == Version::V2 || bytes < V1_UNLIMITED).then_some(bytes)
    }
}

/// The memory cgroup's directory and its file system's mount point, from /proc/self/cgroup
/// and /proc/self/mountinfo: v1's `memory` controller when it is mounted, else v2's.
fn memory_cgroup(cgroup: &str, mountinfo: &str) -> Option<(Version, PathBuf, PathBuf)> {
    // /proc/self/cgroup: `ID:CONTROLLERS:PATH`; v2's line is `0::PATH`.
    let path_of = |version: Version| {
        cgroup.lines().find_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            let ours = match version {
                Version::V1 => controllers.split(',').any(|c| c == "memory"),
                Version::V2 => id == "0" && controllers.is_empty(),
            };
            ours.then_some(path)
        })
    };
    [Version::V1, Version::V2].into_iter().find_map(|version| {
        let path = path_of(version)?;
        let (root, mount) = mount_of(mountinfo, version)?;
        // The mount shows the hierarchy from `root` down (a container's cgroup namespace
        // shows its own cgroup as `/`). A root outside this process's view (`/..`, from
        // another cgroup namespace) leaves the mount itself as the nearest place to look.
        let dir = match Path::new(path).strip_prefix(&root) {
            Ok(relative) => mount.join(relative),
            Err(_) => mount.clone(),
        };
        Some((version, dir, mount))
    })
}

/// The root and mount point of the cgroup file system of `version` that has the memory
/// controller. A mountinfo line: `ID PARENT DEV ROOT MOUNT OPTIONS [TAGS…] - TYPE SOURCE SUPER`.
fn mount_of(mountinfo: &str, version: Version) -> Option<(PathBuf, PathBuf)> {
    mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let theirs: Vec<&str> = after.split(' ').collect();
        let (root, mount) = (fields.get(3)?, fields.get(4)?);
        let (kind, options) = (theirs.first()?, theirs.get(2).copied().unwrap_or(""));
        let ours = match version {
            Version::V1 => *kind == "cgroup" && options.split(',').any(|o| o == "memory"),
            Version::V2 => *kind == "cgroup2",
        };
        ours.then(|| (PathBuf::from(root), PathBuf::from(mount)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::values::Origin;

    fn given(heap: Heap) -> Given<Heap> {
        Given {
            value: heap,
            origin: Origin::Flag("heap"),
        }
    }

    fn limit(mib: u64) -> Limit {
        Limit {
            bytes: mib * MIB,
            file: PathBuf::from("/sys/fs/cgroup/memory.max"),
        }
    }

    // A node with both versions (the memory controller on v1), as this kernel's lines read.
    const HYBRID_CGROUP: &str = "4:memory:/kubepods/pod1/ctr\n1:cpu:/\n0::/kubepods/pod1/ctr\n";
    const HYBRID_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn the_memory_cgroup_is_found_in_either_version() {
        // v1, the memory controller's own hierarchy.
        assert_eq!(
            memory_cgroup(HYBRID_CGROUP, HYBRID_MOUNTS),
            Some((
                Version::V1,
                PathBuf::from("/sys/fs/cgroup/memory/kubepods/pod1/ctr"),
                PathBuf::from("/sys/fs/cgroup/memory")
            ))
        );
        // v2 only, in a container's cgroup namespace: its cgroup is the mount's root.
        let mounts =
            "29 22 0:26 / /sys/fs/cgroup ro,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            memory_cgroup("0::/\n", mounts),
            Some((
                Version::V2,
                PathBuf::from("/sys/fs/cgroup"),
                PathBuf::from("/sys/fs/cgroup")
            ))
        );
        // v2 without a cgroup namespace: the path is under the mount.
        assert_eq!(
            memory_cgroup("0::/kubepods.slice/pod1/ctr\n", mounts).map(|(_, dir, _)| dir),
            Some(PathBuf::from("/sys/fs/cgroup/kubepods.slice/pod1/ctr"))
        );
        // v1 mounted at the container's own cgroup (no cgroup namespace, Docker's way).
        let mounts = "50 40 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        assert_eq!(
            memory_cgroup("9:memory:/docker/abc\n", mounts).map(|(_, dir, _)| dir),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        // A mount root from another cgroup namespace: the mount itself.
        let mounts = "50 40 0:32 /.. /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        assert_eq!(
            memory_cgroup("9:memory:/\n", mounts).map(|(_, dir, _)| dir),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        // The memory controller named but not mounted: v2's, if any.
        assert_eq!(
            memory_cgroup(
                "4:memory:/x\n0::/\n",
                "40 31 0:37 / /c2 rw - cgroup2 cgroup2 rw\n"
            )
            .map(|(v, _, _)| v),
            Some(Version::V2)
        );
        assert_eq!(memory_cgroup("1:cpu:/\n", HYBRID_MOUNTS), None);
    }

    #[test]
    fn limit_files_say_none_their_own_way() {
        assert_eq!(Version::V2.limit("max\n"), None);
        assert_eq!(Version::V2.limit("402653184\n"), Some(402653184));
        assert_eq!(Version::V1.limit("9223372036854771712\n"), None);
        assert_eq!(Version::V1.limit("536870912\n"), Some(536870912));
        assert_eq!(Version::V1.limit("garbage"), None);
    }

    #[test]
    fn a_share_is_whole_mebibytes_of_the_limit() {
        let sized = share(&given(Heap::Share(50)), 50, &limit(1536)).unwrap();
        assert_eq!(sized.size, "768m");
        assert!(
            sized
                .how
                .contains("50% (--heap) of the memory limit, 1536 MiB"),
            "{}",
            sized.how
        );
        assert_eq!(sized.warning, None);
        assert_eq!(
            share(&given(Heap::Share(75)), 75, &limit(1000))
                .unwrap()
                .size,
            "750m"
        );
        let tiny = Limit {
            bytes: MIB,
            file: PathBuf::from("/x"),
        };
        let err = share(&given(Heap::Share(50)), 50, &tiny).unwrap_err();
        assert!(err.to_string().contains("less than 1 MiB"), "{err}");
    }

    #[test]
    fn a_heap_that_crowds_the_limit_is_warned_of() {
        // The OOM kill others' images hit: a 1024 MB heap in a 384 Mi limit.
        let heap = given(Heap::Size("1024M".into()));
        let warning = crowded(&heap, bytes("1024M").unwrap(), &limit(384)).unwrap();
        assert!(
            warning.starts_with("--heap=1024M: a heap of 1024 MiB leaves 0 MiB of the 384 MiB"),
            "{warning}"
        );
        // Exactly a quarter left is enough; a MiB less is not.
        assert_eq!(crowded(&heap, 768 * MIB, &limit(1024)), None);
        assert!(crowded(&heap, 769 * MIB, &limit(1024)).is_some());
        assert!(
            share(&given(Heap::Share(80)), 80, &limit(1000))
                .unwrap()
                .warning
                .is_some()
        );
    }

    #[test]
    fn jvm_sizes_in_bytes() {
        assert_eq!(bytes("512M"), Some(512 * MIB));
        assert_eq!(bytes("2g"), Some(2048 * MIB));
        assert_eq!(bytes("65536k"), Some(64 * MIB));
        assert_eq!(bytes("4096"), Some(4096));
        assert_eq!(bytes("1t"), Some(1 << 40));
        assert_eq!(bytes("99999999999999t"), None);
    }
}
