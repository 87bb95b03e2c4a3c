#!/usr/bin/python3
"""docker/zookeeper.yaml, read for tests/image.sh.

  manifest.py shell MANIFEST       the StatefulSet as shell variables: command, probes, volumes
                                   and the podman options that stand for its security settings
  manifest.py restricted MANIFEST  check the pod (every container) against the "restricted" Pod
                                   Security Standard and the settings this project asks for on
                                   top of it
  manifest.py pod MANIFEST         the server container's command, variables and memory limit,
                                   and the StatefulSet's names, as shell variables
  manifest.py checkov REPORT       read checkov's JSON report: no failure, and every skipped check
                                   has a reason

A security setting or volume that the container test cannot reproduce (a capability added, a
hostPath, a seccomp profile from a file, ...) is an error here, so that the test never passes
while ignoring one. What only Kubernetes does is not reproduced: scheduling (affinity, pod
management), resource requests, lifecycle hooks, and when and how often probes run (the test
runs each probe's command until it passes).
"""

import json
import re
import shlex
import sys

import yaml


def documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    if len(found) != 1:
        sys.exit(f"manifest.py: expected one {kind}, found {len(found)}")
    return found[0]


def bytes_of(quantity):
    """A Kubernetes memory quantity (512Mi, 1Gi, 1G, 1000000) in bytes."""
    units = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    m = re.fullmatch(r"(\d+)([A-Za-z]*)", str(quantity))
    if not m or m.group(2) not in units:
        sys.exit(f"manifest.py: cannot read the quantity {quantity!r}")
    return int(m.group(1)) * units[m.group(2)]


def the_pod(docs):
    sts = one(docs, "StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    if len(pod["containers"]) != 1 or pod.get("initContainers"):
        sys.exit("manifest.py: the test runs one container per pod")
    return sts, pod, pod["containers"][0]


def probe(container, name):
    p = container[name]
    return {
        "command": p["exec"]["command"],
        "timeout": p.get("timeoutSeconds", 1),
    }


def shell(path):
    docs = documents(path)
    sts, pod, c = the_pod(docs)
    pod_sc = pod.get("securityContext", {})
    sc = c.get("securityContext", {})
    out = {}

    out["STS_NAME"] = sts["metadata"]["name"]
    out["SERVICE_NAME"] = sts["spec"]["serviceName"]
    out["REPLICAS"] = sts["spec"]["replicas"]
    out["GRACE"] = pod.get("terminationGracePeriodSeconds", 30)
    # Kubernetes: command replaces the image's ENTRYPOINT and args its CMD.
    if c.get("args"):
        sys.exit("manifest.py: args are not supported, only command")
    out["COMMAND_JSON"] = json.dumps(c["command"])
    for name, var in [("startupProbe", "STARTUP"), ("readinessProbe", "READINESS"),
                      ("livenessProbe", "LIVENESS")]:
        p = probe(c, name)
        out[var] = shlex.join(p["command"])
        out[var + "_TIMEOUT"] = p["timeout"]
    ports = {p.get("name"): p["containerPort"] for p in c["ports"]}
    out["CLIENT_PORT"] = ports["client"]
    # Where start-zookeeper puts the configuration and myid, from the command's flags.
    flags = dict(a[2:].split("=", 1) for a in c["command"][1:] if a.startswith("--") and "=" in a)
    out["CONF_DIR"] = flags.get("conf_dir", "/opt/zookeeper/conf")
    out["DATA_DIR"] = flags.get("data_dir", "/var/lib/zookeeper/data")

    # Volumes: the claim template is the data volume; emptyDirs become tmpfs mounts.
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    data_mount, empty_dirs = None, []
    for m in c.get("volumeMounts", []):
        if m["name"] in claims:
            if data_mount:
                sys.exit("manifest.py: one persistent volume per pod")
            data_mount = m["mountPath"]
        elif "emptyDir" in volumes.get(m["name"], {}):
            size = (volumes[m["name"]]["emptyDir"] or {}).get("sizeLimit")
            empty_dirs.append((m["mountPath"], size))
        else:
            sys.exit(f"manifest.py: the volume {m['name']} is neither a claim nor an emptyDir")
    out["DATA_MOUNT"] = data_mount

    # The security settings, as podman options.
    hardened = []
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    if user is not None:
        hardened += ["--user", f"{user}:{group}" if group is not None else str(user)]
    if "fsGroup" in pod_sc:
        hardened += ["--group-add", str(pod_sc["fsGroup"])]
    if sc.get("readOnlyRootFilesystem"):
        # Kubernetes mounts nothing writable on a read-only root: no tmpfs on /tmp or /run.
        hardened += ["--read-only", "--read-only-tmpfs=false"]
    caps = sc.get("capabilities", {})
    if caps.get("add"):
        sys.exit("manifest.py: capabilities.add is not supported")
    for cap in caps.get("drop", []):
        hardened += ["--cap-drop", cap]
    if sc.get("allowPrivilegeEscalation") is False:
        hardened += ["--security-opt", "no-new-privileges"]
    elif "allowPrivilegeEscalation" in sc:
        sys.exit("manifest.py: allowPrivilegeEscalation must be false")
    seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
    if seccomp not in (None, "RuntimeDefault"):
        # RuntimeDefault is podman's default profile; unset means Unconfined on Kubernetes.
        sys.exit(f"manifest.py: seccompProfile {seccomp} is not supported")
    if seccomp is None:
        hardened += ["--security-opt", "seccomp=unconfined"]
    if sc.get("privileged"):
        sys.exit("manifest.py: privileged containers are not supported")
    # The memory limit is the pod's in either mode (its --heap may be a share of it).
    memory = c.get("resources", {}).get("limits", {}).get("memory")
    out["MEMORY_LIMIT"] = str(bytes_of(memory)) if memory else ""
    for mount, size in empty_dirs:
        # An emptyDir is writable by the pod's user (fsGroup); U gives the tmpfs to the user.
        options = "rw,U" + (f",size={bytes_of(size)}" if size else "")
        hardened += ["--tmpfs", f"{mount}:{options}"]
    out["HARDENED_ARGS"] = shlex.join(hardened)
    out["EMPTY_DIRS"] = " ".join(m for m, _ in empty_dirs)
    out["RUN_AS"] = f"{user}:{group}"
    for key, value in out.items():
        print(f"{key}={shlex.quote(str(value))}")


def pod(path):
    """The server container of the StatefulSet's pod, whatever else the pod has: names,
    replicas, command, variables and memory limit, as shell variables."""
    docs = documents(path)
    sts = one(docs, "StatefulSet")
    c = sts["spec"]["template"]["spec"]["containers"][0]
    env = []
    for e in c.get("env", []):
        if "value" not in e:
            sys.exit(f"manifest.py: the variable {e['name']} has no plain value")
        env.append(f"{e['name']}={e['value']}")
    out = {
        "STS_NAME": sts["metadata"]["name"],
        "SERVICE_NAME": sts["spec"]["serviceName"],
        "REPLICAS": sts["spec"]["replicas"],
        "COMMAND_JSON": json.dumps(c["command"]),
        "ENV_JSON": json.dumps(env),
        "MEMORY_LIMIT": bytes_of(c["resources"]["limits"]["memory"]),
    }
    for key, value in out.items():
        print(f"{key}={shlex.quote(str(value))}")


# The "restricted" Pod Security Standard (Kubernetes 1.25+), as it applies to one pod.
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                   "persistentVolumeClaim", "projected", "secret"}


def restricted(path):
    docs = documents(path)
    sts = one(docs, "StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    containers = pod["containers"] + pod.get("initContainers", [])
    pod_sc = pod.get("securityContext", {})
    problems = []

    def need(ok, what):
        print(f"{'ok' if ok else 'NOT'}: {what}")
        if not ok:
            problems.append(what)

    need(not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")),
         "no host namespaces")
    need(all(set(v) - {"name"} <= ALLOWED_VOLUMES for v in pod.get("volumes", [])),
         "only the volume types the profile allows")
    need(not pod_sc.get("sysctls"), "no sysctls")
    need(pod.get("automountServiceAccountToken") is False, "automountServiceAccountToken: false")
    for c in containers:
        sc = c.get("securityContext", {})
        name = c["name"]
        need(not sc.get("privileged"), f"{name}: not privileged")
        need(not any(p.get("hostPort") for p in c.get("ports", [])), f"{name}: no host ports")
        need(sc.get("procMount", "Default") == "Default", f"{name}: default /proc mount")
        caps = sc.get("capabilities", {})
        need("ALL" in caps.get("drop", []), f"{name}: capabilities: drop ALL")
        need(set(caps.get("add", [])) <= {"NET_BIND_SERVICE"},
             f"{name}: capabilities: add none but NET_BIND_SERVICE")
        need(sc.get("allowPrivilegeEscalation") is False,
             f"{name}: allowPrivilegeEscalation: false")
        need(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True,
             f"{name}: runAsNonRoot: true")
        need(sc.get("runAsUser", pod_sc.get("runAsUser", 1)) != 0, f"{name}: runAsUser is not 0")
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
        need(seccomp in ("RuntimeDefault", "Localhost"), f"{name}: seccompProfile: RuntimeDefault")
        # On top of the profile:
        need(sc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem: true")
        need(bool(c.get("resources", {}).get("limits", {}).get("memory")),
             f"{name}: a memory limit")

    # The NetworkPolicy: clients reach the client port (and the metrics port, if any); 2888
    # and 3888 only from the ensemble.
    labels = sts["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"]: p["containerPort"] for c in containers for p in c.get("ports", [])}
    public = {ports["client"]} | ({ports["metrics"]} if "metrics" in ports else set())
    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"
                and d["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()]
    need(len(policies) == 1, "one NetworkPolicy selects the pods")
    if policies:
        spec = policies[0]["spec"]
        need("Ingress" in spec.get("policyTypes", []), "the NetworkPolicy governs ingress")
        open_to_all, open_to_peers = set(), set()
        for rule in spec.get("ingress", []):
            rule_ports = {p["port"] for p in rule.get("ports", [])}
            sources = rule.get("from")
            if not sources:
                open_to_all |= rule_ports or {"every port"}
            elif all(s.get("podSelector", {}).get("matchLabels", {}).items() <= labels.items()
                     and list(s) == ["podSelector"] for s in sources):
                open_to_peers |= rule_ports or {"every port"}
            else:
                open_to_all |= rule_ports or {"every port"}
        need(open_to_all == public, f"anyone reaches only ports {sorted(public)}")
        need(open_to_peers == {ports["server"], ports["leader-election"]},
             f"only the ensemble reaches {ports['server']} and {ports['leader-election']}")
    if problems:
        sys.exit(f"manifest.py: the pod does not meet: {'; '.join(problems)}")


def checkov(path):
    with open(path) as f:
        report = json.load(f)
    reports = report if isinstance(report, list) else [report]
    failed = 0
    passed = 0
    for r in reports:
        summary = r.get("summary", {})
        print(f"checkov {r.get('check_type')}: {summary.get('passed')} passed, "
              f"{summary.get('failed')} failed, {summary.get('skipped')} skipped, "
              f"{summary.get('parsing_errors')} parsing errors")
        failed += summary.get("parsing_errors", 0)
        passed += summary.get("passed", 0)
        results = r.get("results", {})
        for check in results.get("failed_checks", []):
            failed += 1
            print(f"  FAILED {check['check_id']} {check['resource']}: {check['check_name']}")
        for check in results.get("skipped_checks", []):
            reason = (check.get("check_result") or {}).get("suppress_comment", "")
            if not reason or reason == "No comment provided":
                failed += 1
                reason = "NO REASON GIVEN"
            print(f"  skipped {check['check_id']} {check['resource']}: {reason}")
    if failed:
        sys.exit(f"manifest.py: checkov: {failed} failures")
    if not passed:
        sys.exit("manifest.py: checkov: no check passed: it read no resource")


if __name__ == "__main__":
    commands = {"shell": shell, "pod": pod, "restricted": restricted, "checkov": checkov}
    if len(sys.argv) != 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2])
