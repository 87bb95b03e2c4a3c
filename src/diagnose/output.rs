//! The report, as an aligned table for people or as JSON for tools.

use super::Report;
use super::gather::Port;

/// The report as text: this pod, a table of members, the verdict.
pub fn table(report: &Report) -> String {
    let pod = &report.this_pod;
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<11} {text}\n"));
    line(
        "this pod",
        format!(
            "{} (domain {}), membership {}",
            or_dash(&pod.host_name),
            or_dash(&pod.domain),
            pod.membership
        ),
    );
    line(
        "myid",
        format!(
            "{} expected, {} on disk",
            pod.myid.map_or("none".into(), |id| id.to_string()),
            pod.myid_on_disk.as_deref().unwrap_or("none")
        ),
    );
    if let Some(zoo_cfg) = &pod.running_config {
        line("running", format!("the server started with {zoo_cfg}"));
    }
    if let Some(tls) = &pod.tls {
        line(
            "tls",
            format!(
                "{}: {}; the server has {} pair",
                tls.dir,
                tls.problem.as_deref().unwrap_or("the pair is good"),
                match tls.installed {
                    "none" => "no",
                    installed => installed,
                }
            ),
        );
    }
    if !pod.files.is_empty() {
        let files: Vec<String> = pod
            .files
            .iter()
            .map(|f| format!("{} {}", file_name(&f.path), f.state))
            .collect();
        line("config", files.join(", "));
    }
    let data = &pod.data_dir;
    line(
        "data",
        format!(
            "{}: {}{}{}",
            data.path,
            if data.history { "history" } else { "empty" },
            match (&data.newest_snapshot, &data.newest_log) {
                (None, None) => String::new(),
                (snap, log) => format!(
                    " (newest {})",
                    [snap.as_deref(), log.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            data.free_bytes
                .map(|b| format!(", {} free", size(b)))
                .unwrap_or_default()
        ),
    );
    out.push('\n');

    let header = [
        "id", "member", "address", "client", "quorum", "election", "ruok", "mode", "zxid", "epoch",
        "config", "latency",
    ];
    let rows: Vec<[String; 12]> = report
        .members
        .iter()
        .map(|m| {
            let port = |p: Option<Port>| match p {
                None => "-".to_owned(),
                Some(Port::Open) => "open".into(),
                Some(Port::Refused) => "refused".into(),
                Some(Port::TimedOut) => "timeout".into(),
                Some(Port::Unreachable) => "unreach".into(),
            };
            let address = match (&m.resolve_error, m.addresses.first()) {
                (Some(_), _) => "unresolved".to_owned(),
                (None, Some(a)) => a.clone(),
                (None, None) => "-".into(),
            };
            let mut mode = m.mode.clone().unwrap_or_else(|| "-".into());
            if m.observer && !mode.contains("observer") {
                mode.push_str(" (observer)");
            }
            let config = match &m.config_version {
                Some(v) => format!(
                    "{v}: {}",
                    m.config_members
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                None => "-".into(),
            };
            [
                format!("{}{}", m.id, if m.this_pod { "*" } else { "" }),
                m.host.clone(),
                address,
                port(m.client),
                port(m.quorum),
                port(m.election),
                m.ruok.clone().unwrap_or_else(|| "-".into()),
                mode,
                m.zxid.clone().unwrap_or_else(|| "-".into()),
                m.epoch.map_or("-".into(), |e| e.to_string()),
                config,
                m.latency.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut push_row = |cells: Vec<&str>| {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    };
    push_row(header.to_vec());
    for row in &rows {
        push_row(row.iter().map(String::as_str).collect());
    }
    out.push('\n');

    if report.problems.is_empty() {
        out.push_str("verdict: healthy\n");
    } else {
        out.push_str(&format!(
            "verdict: {} problem{}, most fundamental first\n",
            report.problems.len(),
            if report.problems.len() == 1 { "" } else { "s" }
        ));
        for (i, p) in report.problems.iter().enumerate() {
            out.push_str(&format!("{}. {}\n   fix: {}\n", i + 1, p.problem, p.fix));
        }
    }
    out
}

/// The report as one JSON object.
pub fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn size(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    if bytes as f64 >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB)
    } else {
        format!("{:.0} MiB", bytes as f64 / MIB)
    }
}
