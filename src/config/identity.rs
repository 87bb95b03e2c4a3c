//! Who this pod is in the ensemble: its myid, whether it observes, and every member's address.
//!
//! A StatefulSet names its pods `NAME-ORDINAL`; the headless Service gives them
//! `NAME-ORDINAL.DOMAIN`. Server N of the ensemble is the pod with ordinal N - myid_offset.

use std::ffi::CString;

use serde::Serialize;

use super::settings::{Ensemble, MAX_MYID, Members};
use crate::cli::error::{Error, Result};
use crate::cli::quote::quote;
use crate::cli::values::{is_host_name, pod_name};

/// One `server.N=` line of zoo.cfg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: u32,
    pub host: String,
    pub observer: bool,
}

/// This pod's place in the ensemble. Standalone servers have no myid and no members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub myid: Option<u32>,
    pub observer: bool,
    /// The members the flags name: in dynamic membership, the first ensemble.
    pub members: Vec<Member>,
    /// This server as the others reach it (its member entry), when it has a myid. In dynamic
    /// membership a pod past the first ensemble is in no `members` but has one.
    pub me: Option<Member>,
    /// Every other pod this one can name: the members, and in dynamic membership the pods
    /// before it past the first ensemble (ordinals 0 to its own).
    pub others: Vec<Member>,
}

/// This machine's names: the short host name and the DNS domain (`hostname -s`, `hostname -d`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostNames {
    pub short: String,
    pub domain: String,
}

impl HostNames {
    /// The fully qualified name: short name and domain.
    pub fn fqdn(&self) -> String {
        match self.domain.is_empty() {
            true => self.short.clone(),
            false => format!("{}.{}", self.short, self.domain),
        }
    }

    /// The names of this host, unless overridden. The domain is what `hostname -d` reports: the
    /// canonical name of the host (from /etc/hosts or DNS) minus the short name.
    /// `resolve` checks them, wherever they came from.
    pub fn discover(hostname: Option<&str>, domain: Option<&str>) -> Result<HostNames> {
        let node = match hostname {
            Some(name) => name.to_owned(),
            None => {
                let name = nix::unistd::gethostname()
                    .map_err(|err| Error::failed(format!("cannot read this host's name: {err}")))?;
                name.into_string().map_err(|name| {
                    Error::failed(format!(
                        "the host name {} is not UTF-8",
                        quote(&name.to_string_lossy())
                    ))
                })?
            }
        };
        let short = node.split('.').next().unwrap_or_default().to_owned();
        let domain = match domain {
            Some(domain) => domain.to_owned(),
            None => {
                let canonical = canonical_name(&node).unwrap_or_else(|| node.clone());
                canonical
                    .split_once('.')
                    .map(|(_, domain)| domain.trim_end_matches('.').to_owned())
                    .unwrap_or_default()
            }
        };
        Ok(HostNames { short, domain })
    }
}

/// The canonical name the resolver gives `host` (getaddrinfo with AI_CANONNAME), if any.
#[allow(unsafe_code)] // getaddrinfo and freeaddrinfo
fn canonical_name(host: &str) -> Option<String> {
    let c_host = CString::new(host).ok()?;
    // SAFETY: plain libc calls; hints is zeroed as getaddrinfo expects, and the result list is
    // read only before it is freed.
    unsafe {
        let mut hints: nix::libc::addrinfo = std::mem::zeroed();
        hints.ai_flags = nix::libc::AI_CANONNAME;
        hints.ai_family = nix::libc::AF_UNSPEC;
        let mut result: *mut nix::libc::addrinfo = std::ptr::null_mut();
        if nix::libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut result) != 0 {
            return None;
        }
        let name = if result.is_null() || (*result).ai_canonname.is_null() {
            None
        } else {
            std::ffi::CStr::from_ptr((*result).ai_canonname)
                .to_str()
                .ok()
                .map(str::to_owned)
        };
        nix::libc::freeaddrinfo(result);
        name
    }
}

impl Identity {
    /// This server's name as clients and the other members reach it, which its certificate
    /// must cover: its member entry's host, else (a standalone server) the pod's own name.
    pub fn server_name(&self, names: impl FnOnce() -> Result<HostNames>) -> Result<String> {
        match &self.me {
            Some(me) => Ok(me.host.clone()),
            None => Ok(names()?.fqdn()),
        }
    }

    /// Place this host in the ensemble. `names` is asked for only when the ensemble has more
    /// than one member (or may grow): a standalone server runs under any host name.
    pub fn resolve(
        ensemble: &Ensemble,
        names: impl FnOnce() -> Result<HostNames>,
    ) -> Result<Identity> {
        if ensemble.size() == 1 && !ensemble.dynamic {
            return Ok(Identity {
                myid: None,
                observer: false,
                members: Vec::new(),
                me: None,
                others: Vec::new(),
            });
        }
        let names = names()?;
        // Whatever gave them (flags, the machine, the resolver), the names go into zoo.cfg:
        // they must be DNS names, or they could add a line to it.
        if !is_host_name(&names.short) {
            return Err(Error::failed(format!(
                "the host name {} is not a DNS name (give one with --hostname)",
                quote(&names.short)
            )));
        }
        if !names.domain.is_empty() && !is_host_name(&names.domain) {
            return Err(Error::failed(format!(
                "the domain {} is not a DNS name (give one with --domain)",
                quote(&names.domain)
            )));
        }
        let with_domain = |host: &str| {
            if names.domain.is_empty() || host.contains('.') {
                host.to_owned()
            } else {
                format!("{host}.{}", names.domain)
            }
        };

        let (index, hosts): (u32, Vec<String>) = match &ensemble.members {
            Members::Counted { .. } => {
                let (set_name, ordinal) = split_ordinal(&names.short).ok_or_else(|| {
                    Error::failed(format!(
                        "the host name {} has no StatefulSet ordinal (NAME-0, NAME-1, …)",
                        quote(&names.short)
                    ))
                })?;
                let last_myid = ensemble.myid_offset.checked_add(ordinal);
                if ensemble.dynamic && last_myid.is_none_or(|id| id > MAX_MYID) {
                    return Err(Error::failed(format!(
                        "the ordinal {ordinal} of {} makes a myid past {MAX_MYID} (with \
                         --myid_offset {}); ZooKeeper takes 1-{MAX_MYID}",
                        quote(&names.short),
                        ensemble.myid_offset
                    )));
                }
                if ordinal >= ensemble.size() && !ensemble.dynamic {
                    return Err(Error::failed(format!(
                        "the ordinal {ordinal} of {} is outside the ensemble of {} \
                         (ordinals 0-{}); raise --servers or --observers",
                        quote(&names.short),
                        ensemble.size(),
                        ensemble.size() - 1
                    )));
                }
                let hosts = (0..ensemble.size().max(ordinal + 1))
                    .map(|i| with_domain(&format!("{set_name}-{i}")))
                    .collect();
                (ordinal, hosts)
            }
            Members::Named { hosts } => {
                let index = hosts
                    .iter()
                    .position(|h| pod_name(h) == pod_name(&names.short))
                    .ok_or_else(|| {
                        Error::failed(format!(
                            "the host name {} is not among the ensemble's members ({})",
                            quote(&names.short),
                            hosts.join(";")
                        ))
                    })?;
                (index as u32, hosts.iter().map(|h| with_domain(h)).collect())
            }
        };

        let voters = ensemble.voters();
        let mut members: Vec<Member> = hosts
            .into_iter()
            .enumerate()
            .map(|(i, host)| Member {
                id: ensemble.myid_offset + i as u32,
                host,
                // Past the first ensemble (dynamic membership), pods join as voters.
                observer: i as u32 >= voters && (i as u32) < ensemble.size(),
            })
            .collect();
        let me = members[index as usize].clone();
        let others = members.iter().filter(|m| m.id != me.id).cloned().collect();
        members.truncate(ensemble.size() as usize);
        Ok(Identity {
            myid: Some(me.id),
            observer: me.observer,
            members,
            me: Some(me),
            others,
        })
    }
}

/// `zk-2` → (`zk`, 2). A StatefulSet writes ordinals without leading zeros: `zk-01` is not
/// pod 1 of a set named `zk`.
pub(crate) fn split_ordinal(short: &str) -> Option<(&str, u32)> {
    let (name, ordinal) = short.rsplit_once('-')?;
    let canonical = ordinal == "0" || (!ordinal.starts_with('0') && !ordinal.is_empty());
    if name.is_empty() || !canonical || !ordinal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, ordinal.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(voters: u32, observers: u32, myid_offset: u32) -> Ensemble {
        Ensemble {
            members: Members::Counted { voters },
            observers,
            myid_offset,
            dynamic: false,
        }
    }

    fn names(short: &str) -> impl FnOnce() -> Result<HostNames> {
        let short = short.to_owned();
        move || {
            Ok(HostNames {
                short,
                domain: "zk-hs.default.svc.cluster.local".into(),
            })
        }
    }

    #[test]
    fn ordinal_gives_myid_and_members() {
        let id = Identity::resolve(&counted(3, 0, 1), names("zk-1")).unwrap();
        assert_eq!(id.myid, Some(2));
        assert!(!id.observer);
        let hosts: Vec<_> = id.members.iter().map(|m| (m.id, m.host.as_str())).collect();
        assert_eq!(
            hosts,
            vec![
                (1, "zk-0.zk-hs.default.svc.cluster.local"),
                (2, "zk-1.zk-hs.default.svc.cluster.local"),
                (3, "zk-2.zk-hs.default.svc.cluster.local"),
            ]
        );
    }

    #[test]
    fn standalone_needs_no_names() {
        let id = Identity::resolve(&counted(1, 0, 1), || {
            panic!("a standalone server must not look up host names")
        })
        .unwrap();
        assert_eq!(id.myid, None);
        assert!(id.members.is_empty());
    }

    #[test]
    fn observers_come_after_the_voters() {
        let id = Identity::resolve(&counted(3, 1, 1), names("zk-3")).unwrap();
        assert_eq!(id.myid, Some(4));
        assert!(id.observer);
        let observers: Vec<_> = id.members.iter().map(|m| m.observer).collect();
        assert_eq!(observers, vec![false, false, false, true]);
        let voter = Identity::resolve(&counted(3, 1, 1), names("zk-2")).unwrap();
        assert!(!voter.observer);
    }

    #[test]
    fn offset_shifts_every_id() {
        let id = Identity::resolve(&counted(3, 0, 4), names("zk-0")).unwrap();
        assert_eq!(id.myid, Some(4));
        assert_eq!(id.members.last().unwrap().id, 6);
    }

    #[test]
    fn names_without_ordinals_or_outside_the_ensemble_fail() {
        let err = Identity::resolve(&counted(3, 0, 1), names("zookeeper")).unwrap_err();
        assert!(err.to_string().contains("no StatefulSet ordinal"), "{err}");
        let err = Identity::resolve(&counted(3, 0, 1), names("zk-3")).unwrap_err();
        assert!(err.to_string().contains("ordinal 3"), "{err}");
        let err = Identity::resolve(&counted(3, 0, 1), names("zk-")).unwrap_err();
        assert!(err.to_string().contains("not a DNS name"), "{err}");
    }

    #[test]
    fn named_members_use_their_position() {
        let ensemble = Ensemble {
            members: Members::Named {
                hosts: vec!["zk-a".into(), "zk-b".into(), "other.example.org".into()],
            },
            observers: 0,
            myid_offset: 1,
            dynamic: false,
        };
        let id = Identity::resolve(&ensemble, names("zk-b")).unwrap();
        assert_eq!(id.myid, Some(2));
        assert_eq!(
            id.members[2].host, "other.example.org",
            "a full name is kept"
        );
        let err = Identity::resolve(&ensemble, names("zk-c")).unwrap_err();
        assert!(err.to_string().contains("not among"), "{err}");
    }

    #[test]
    fn without_a_domain_members_are_short_names() {
        let id = Identity::resolve(&counted(2, 0, 1), || {
            Ok(HostNames {
                short: "zk-0".into(),
                domain: String::new(),
            })
        })
        .unwrap();
        assert_eq!(id.members[1].host, "zk-1");
    }

    #[test]
    fn names_that_could_add_a_line_to_zoo_cfg_are_refused() {
        // Found by fuzzing: a resolver's domain with a newline reached the server lines.
        for (short, domain) in [
            ("zk-0", "x\nserver.9=evil"),
            ("zk-0;x", "zk-hs"),
            ("zk-0", "a b"),
        ] {
            let names = || {
                Ok(HostNames {
                    short: short.into(),
                    domain: domain.into(),
                })
            };
            let err = Identity::resolve(&counted(3, 0, 1), names)
                .unwrap_err()
                .to_string();
            assert!(err.contains("is not a DNS name"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn ordinals_split_at_the_last_dash() {
        assert_eq!(split_ordinal("my-zk-12"), Some(("my-zk", 12)));
        assert_eq!(split_ordinal("zk-1a"), None);
        assert_eq!(split_ordinal("-1"), None);
        assert_eq!(split_ordinal("zk-0"), Some(("zk", 0)));
        assert_eq!(
            split_ordinal("zk-01"),
            None,
            "not how a StatefulSet names pod 1"
        );
        assert_eq!(split_ordinal("zk-00"), None);
    }
}
