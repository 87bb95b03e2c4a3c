//! From what diagnose found to the problems, most fundamental first, each with what to do.
//! Nothing here touches the network: the rules are tested on made-up findings.

use serde::Serialize;

use super::gather::{MemberReport, ThisPod};

/// One problem: what is wrong, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub problem: String,
    pub fix: String,
}

fn problem(problem: String, fix: impl Into<String>) -> Problem {
    Problem {
        problem,
        fix: fix.into(),
    }
}

/// A member behind the leader by more transactions than this is far behind.
const FAR_BEHIND: u64 = 10_000;

pub fn verdict(pod: &ThisPod, members: &[MemberReport]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(err) = &pod.error {
        problems.push(problem(
            format!("this pod's place in the ensemble is unknown: {err}"),
            "check the pod's host name (a StatefulSet's NAME-ORDINAL) and --servers, --ensemble",
        ));
        return problems;
    }

    if !pod.disagreements.is_empty() {
        let given: Vec<String> = pod
            .disagreements
            .iter()
            .map(|d| format!("{} {} (running: {})", d.given_by, d.given, d.running))
            .collect();
        problems.push(problem(
            format!(
                "flags or variables given disagree with the server running in this pod: {}",
                given.join(", ")
            ),
            "run zkpod diagnose without them to look at the server as it runs; if the manifest \
             holds them, the pod runs with older settings: restart it (kubectl delete pod) to \
             apply them",
        ));
    }

    if let Some(tls) = &pod.tls
        && let Some(why) = &tls.problem
    {
        problems.push(problem(
            format!("the TLS pair in {} cannot be used: {why}", tls.dir),
            "fix the Certificate (kubectl describe certificate shows cert-manager's view); a \
             running server keeps the pair it has, a starting one refuses to start",
        ));
    }

    let unresolved: Vec<String> = members
        .iter()
        .filter_map(|m| Some(format!("{} ({})", m.host, m.resolve_error.as_ref()?)))
        .collect();
    if !unresolved.is_empty() {
        problems.push(problem(
            format!("names do not resolve: {}", unresolved.join(", ")),
            format!(
                "the headless Service must set publishNotReadyAddresses: true (without it a pod \
                 that is not ready has no DNS name, and servers cannot find each other to \
                 become ready), and --domain must be that Service's domain (this pod's is {})",
                if pod.domain.is_empty() {
                    "empty"
                } else {
                    &pod.domain
                }
            ),
        ));
    }

    if let (Some(want), Some(on_disk)) = (pod.myid, &pod.myid_on_disk)
        && on_disk.parse::<u32>().ok() != Some(want)
    {
        problems.push(problem(
            format!(
                "this pod is server {want}, but the myid on its volume says {on_disk:?}: \
                 start-zookeeper refuses to start it"
            ),
            "the volume belongs to another server: check --myid_offset and which \
             PersistentVolumeClaim the pod mounts; fix or remove the file only if the volume \
             is this server's",
        ));
    }

    let differing: Vec<&str> = pod
        .files
        .iter()
        .filter(|f| f.state == "differs")
        .map(|f| f.path.as_str())
        .collect();
    if !differing.is_empty() {
        problems.push(problem(
            format!(
                "configuration differs from what start-zookeeper would write now: {}",
                differing.join(", ")
            ),
            "the pod runs with older flags or variables; restart it (kubectl delete pod) to \
             apply the current ones, after checking they are the ones you want",
        ));
    }

    let refusing: Vec<String> = members
        .iter()
        .filter(|m| !m.refused_words.is_empty())
        .map(|m| format!("{} ({})", m.host, m.refused_words.join(", ")))
        .collect();
    if !refusing.is_empty() {
        problems.push(problem(
            format!("four-letter words not whitelisted: {}", refusing.join(", ")),
            format!(
                "add them to 4lw.commands.whitelist (start-zookeeper's default list is {}); \
                 the probes need ruok and srvr, and conf in dynamic membership",
                crate::config::settings::FOUR_LETTER_WORDS
            ),
        ));
    }

    if let Some(me) = members.iter().find(|m| m.this_pod)
        && me.mode.as_deref() == Some("waiting (empty disk)")
    {
        problems.push(problem(
            "this pod waits: its data directory is empty and the ensemble may hold history".into(),
            "it starts once the other members serve; start them (or, only if they hold \
             nothing worth keeping, --unsafe_start_empty)",
        ));
    }

    let voters: Vec<&MemberReport> = members.iter().filter(|m| !m.observer).collect();
    let serving: Vec<&MemberReport> = voters.iter().copied().filter(|m| m.serves()).collect();
    let quorum = voters.len() / 2 + 1;
    if serving.len() < quorum {
        let names: Vec<&str> = serving.iter().map(|m| m.host.as_str()).collect();
        problems.push(problem(
            format!(
                "no quorum: {} of {} voters serve{}; a quorum needs {quorum}",
                serving.len(),
                voters.len(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", names.join(", "))
                }
            ),
            "start the members that are down or not serving (see below and kubectl logs); \
             the ensemble serves again once a quorum of voters runs and can reach each other",
        ));
    }

    let leaders: Vec<&str> = members
        .iter()
        .filter(|m| m.mode.as_deref() == Some("leader"))
        .map(|m| m.host.as_str())
        .collect();
    if leaders.len() > 1 {
        problems.push(problem(
            format!("{} leaders: {}", leaders.len(), leaders.join(", ")),
            "the members do not agree on the ensemble (split brain): check that every pod has \
             the same --servers, --ensemble and --domain",
        ));
    }

    let mut versions: Vec<(&str, &str)> = members
        .iter()
        .filter(|m| m.serves())
        .filter_map(|m| Some((m.config_version.as_deref()?, m.host.as_str())))
        .collect();
    versions.sort();
    let mut distinct: Vec<&str> = versions.iter().map(|(v, _)| *v).collect();
    distinct.dedup();
    if distinct.len() > 1 {
        let seen: Vec<String> = versions
            .iter()
            .map(|(v, host)| format!("{host} version {v}"))
            .collect();
        problems.push(problem(
            format!("members disagree on the membership: {}", seen.join(", ")),
            "a reconfiguration is in progress or did not reach every member; if it lasts, \
             restart the members with the older version",
        ));
    }

    if let Some(leader) = members.iter().find(|m| m.mode.as_deref() == Some("leader")) {
        for m in members.iter().filter(|m| m.serves() && m.id != leader.id) {
            // A follower of an earlier epoch has seen none of the leader's transactions (a
            // new follower reports 0x0 until the first one).
            let behind = match (leader.epoch, m.epoch, leader.counter(), m.counter()) {
                (Some(le), Some(me), Some(lc), _) if me < le => lc > FAR_BEHIND,
                (Some(le), Some(me), Some(lc), Some(mc)) if me == le => {
                    lc.saturating_sub(mc) > FAR_BEHIND
                }
                _ => false,
            };
            if behind {
                problems.push(problem(
                    format!(
                        "{} is far behind the leader: zxid {} against {}",
                        m.host,
                        m.zxid.as_deref().unwrap_or("?"),
                        leader.zxid.as_deref().unwrap_or("?")
                    ),
                    "it is still syncing, or its disk or network is slow: check its logs and \
                     its volume",
                ));
            }
        }
    }

    for m in members
        .iter()
        .filter(|m| m.resolve_error.is_none() && !m.serves())
    {
        if m.this_pod && m.mode.as_deref() == Some("waiting (empty disk)") {
            continue;
        }
        let why = match (&m.error, m.mode.as_deref()) {
            (Some(err), _) => err.clone(),
            (None, Some("not serving")) => {
                "it runs but is in no quorum (electing a leader, or syncing)".into()
            }
            (None, Some(mode)) => format!("mode {mode}"),
            (None, None) => "no answer".into(),
        };
        // A pod's DNS name starts with the pod's name; an address names no pod.
        let pod = match m.host.parse::<std::net::IpAddr>() {
            Ok(_) => format!("the pod at {}", m.host),
            Err(_) => crate::cli::values::pod_name(&m.host),
        };
        problems.push(problem(
            format!("{} does not serve: {why}", m.host),
            format!("kubectl logs and kubectl describe pod for {pod}"),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::gather::Port;

    fn member(id: u32, mode: &str, zxid: &str) -> MemberReport {
        MemberReport {
            id,
            host: format!("zk-{}.zk-hs", id - 1),
            client: Some(Port::Open),
            ruok: Some("imok".into()),
            mode: Some(mode.into()),
            zxid: Some(zxid.into()),
            epoch: u64::from_str_radix(zxid.trim_start_matches("0x"), 16)
                .ok()
                .map(|z| z >> 32),
            config_version: Some("100000000".into()),
            ..MemberReport::default()
        }
    }

    fn pod() -> ThisPod {
        ThisPod {
            host_name: "zk-0".into(),
            domain: "zk-hs".into(),
            myid: Some(1),
            myid_on_disk: Some("1".into()),
            ..ThisPod::default()
        }
    }

    fn healthy() -> Vec<MemberReport> {
        vec![
            member(1, "follower", "0x100000005"),
            member(2, "leader", "0x100000005"),
            member(3, "follower", "0x100000004"),
        ]
    }

    #[test]
    fn a_healthy_ensemble_has_no_problem() {
        assert_eq!(verdict(&pod(), &healthy()), []);
    }

    #[test]
    fn one_member_down_is_named_and_the_quorum_holds() {
        let mut members = healthy();
        members[2].mode = None;
        members[2].client = Some(Port::Refused);
        members[2].error = Some("the client port 2181 is not open".into());
        let problems = verdict(&pod(), &members);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].problem,
            "zk-2.zk-hs does not serve: the client port 2181 is not open"
        );
        assert_eq!(
            problems[0].fix,
            "kubectl logs and kubectl describe pod for zk-2"
        );
        members[2].host = "10.1.2.3".into();
        let problems = verdict(&pod(), &members);
        assert_eq!(
            problems[0].fix,
            "kubectl logs and kubectl describe pod for the pod at 10.1.2.3"
        );
    }

    #[test]
    fn no_quorum_comes_before_the_members_that_cause_it() {
        let mut members = healthy();
        for m in &mut members[1..] {
            m.mode = Some("not serving".into());
        }
        members[0].mode = Some("not serving".into());
        let problems = verdict(&pod(), &members);
        assert_eq!(
            problems[0].problem,
            "no quorum: 0 of 3 voters serve; a quorum needs 2"
        );
        assert_eq!(problems.len(), 4);
    }

    #[test]
    fn names_that_do_not_resolve_come_first_with_the_likely_cause() {
        let mut members = healthy();
        members[1].resolve_error = Some("cannot resolve zk-1.zk-hs".into());
        members[1].mode = None;
        let problems = verdict(&pod(), &members);
        assert!(
            problems[0]
                .problem
                .starts_with("names do not resolve: zk-1.zk-hs")
        );
        assert!(problems[0].fix.contains("publishNotReadyAddresses"));
    }

    #[test]
    fn wrong_myid_refused_words_two_leaders_disagreement_and_lag() {
        let mut pod = pod();
        pod.myid_on_disk = Some("3".into());
        let mut members = healthy();
        members[0].refused_words = vec!["srvr".into()];
        members[0].mode = Some("leader".into());
        members[2].config_version = Some("100000009".into());
        members[2].zxid = Some("0x100000001".into());
        members[0].zxid = Some(format!("0x{:x}", (1u64 << 32) + 50_000));
        let problems: Vec<String> = verdict(&pod, &members)
            .into_iter()
            .map(|p| p.problem)
            .collect();
        assert!(
            problems[0].contains("myid on its volume says \"3\""),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("four-letter words not whitelisted: zk-0.zk-hs (srvr)"));
        assert!(problems.iter().any(|p| p.starts_with("2 leaders")));
        assert!(problems.iter().any(|p| p.starts_with("members disagree")));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("zk-2.zk-hs is far behind"))
        );
    }

    #[test]
    fn a_new_follower_of_an_earlier_epoch_is_not_behind() {
        let mut members = healthy();
        members[0].zxid = Some("0x0".into());
        members[0].epoch = Some(0);
        members[1].zxid = Some("0x100000000".into());
        assert_eq!(verdict(&pod(), &members), []);
        members[1].zxid = Some(format!("0x{:x}", (1u64 << 32) + 20_000));
        assert!(verdict(&pod(), &members)[0].problem.contains("far behind"));
    }

    #[test]
    fn a_waiting_pod_says_why() {
        let mut members = healthy();
        members[0].this_pod = true;
        members[0].mode = Some("waiting (empty disk)".into());
        let problems = verdict(&pod(), &members);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].problem.starts_with("this pod waits"));
    }
}
