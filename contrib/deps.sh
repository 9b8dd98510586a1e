# shellcheck shell=bash disable=SC2034  # the arrays are used by the scripts that source this
# Sourced by contrib/quickstart.sh and contrib/test.sh: the Debian packages tend needs,
# and one function that installs the missing ones with a single apt-get call.

# To build tend.
TEND_PKGS_BUILD=(build-essential autoconf automake libtool pkg-config
	libev-dev libinih-dev libsystemd-dev libc-ares-dev)
# To run the demo app and the test apps (Debian's /usr/bin/python3 has them).
TEND_PKGS_APPS=(python3-uvicorn python3-fastapi python3-starlette curl)
# To run every test: Criterion, ps/pgrep, unshare/prlimit/setsid, mount (private
# tmpfs /run and /etc in namespaces), clang for the fuzz targets
# (libclang-rt-dev pulls the libFuzzer runtime of Debian's default clang), valgrind,
# python3-yaml and systemd (systemd-socket-activate, systemd-analyze) for the kit tests.
TEND_PKGS_TEST=(libcriterion-dev procps util-linux mount clang libclang-rt-dev valgrind
	python3-yaml systemd)

deps_log() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Install the packages named as arguments that are not installed yet; apt-get update
# runs only when something is missing. Returns non-zero when it cannot install them.
deps_install() {
	local pkg status missing=() sudo=()

	if ! command -v dpkg-query >/dev/null 2>&1; then
		deps_log "not a Debian system: make sure these (or your system's equivalents) are installed: $*"
		return 0
	fi
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null 2>&1; then
			deps_log "missing packages and not root (no sudo either): apt-get install ${missing[*]}"
			return 1
		fi
		sudo=(sudo)
	fi
	deps_log "installing: ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}
