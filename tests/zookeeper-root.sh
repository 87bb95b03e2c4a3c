#!/bin/sh
# The root file system of Debian 13 "trixie" with its ZooKeeper 3.9 and Java 21, made from
# Debian's archive with mmdebstrap, that simulated pods enter to run ZooKeeper 3.9 (the tests
# of tests/common/statefulset.rs; the host's own ZooKeeper is Debian 12's 3.8). Prints its
# path. Made once and kept, in a directory named after this recipe, until the recipe changes;
# concurrent callers wait for one another.
#
#   tests/zookeeper-root.sh           make it if missing; print the path
#   tests/zookeeper-root.sh --clean   remove it
set -eu
cd "$(dirname "$0")/.."

MIRROR=http://deb.debian.org
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/zkpod-roots
# The image's packages (docker/Dockerfile): Debian 13's default Java (21) and ZooKeeper; and
# procps, for the `ps` the tests run in a pod.
PACKAGES=default-jre-headless,libzookeeper-java,procps

make_root() { # DIR
    # The JDK's post-install script writes man page links: the directory must exist.
    # /var/lib/zookeeper and /etc/hosts are mount points for the pod's volume and hosts file.
    # shellcheck disable=SC2016 # the hooks are for the shell mmdebstrap runs them in
    mmdebstrap --quiet --variant=minbase \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
        --customize-hook='mkdir -p "$1/var/lib/zookeeper" "$1/opt" && touch "$1/etc/hosts"' \
        --include="$PACKAGES" trixie "$1" "deb $MIRROR/debian trixie main"
}

key=$({ sed -n '/^make_root/,/^}/p' "$0"; echo "$MIRROR $PACKAGES"; } | sha256sum | cut -c1-12)
root=$CACHE/trixie-$key

if [ "${1:-}" = --clean ]; then
    rm -rf "$CACHE"
    exit 0
fi

mkdir -p "$CACHE"
exec 9>>"$CACHE/lock"
flock 9
if [ ! -e "$root/usr/share/java/zookeeper.jar" ]; then
    echo "making $root with mmdebstrap (Debian 13, ZooKeeper 3.9, Java 21)" >&2
    for old in "$CACHE"/trixie-*; do
        [ "$old" = "$root" ] || rm -rf "$old"
    done
    make_root "$root.tmp" >&2
    mv "$root.tmp" "$root"
fi
echo "$root"
