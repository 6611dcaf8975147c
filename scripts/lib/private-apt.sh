# shellcheck shell=bash
# A private apt configuration for fetching binary packages of another Debian suite
# without touching the host's apt state. Source it, then call private_apt_init.

# private_apt_init WORKDIR SUITE: prepares WORKDIR and fills the PRIVATE_APT array of options.
private_apt_init() {
  local workdir="$1" suite="$2" mirror
  mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  [ -n "$mirror" ] || mirror="$(awk '/^deb / && !/security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
  mkdir -p "$workdir/lists/partial" "$workdir/archives/partial" "$workdir/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$workdir/sources.list"
  : >"$workdir/status"
  PRIVATE_APT=(
    -o "Dir::Etc::SourceList=$workdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$workdir/lists" -o "Dir::State::status=$workdir/status"
    -o "Dir::Cache=$workdir" -o "Dir::Cache::archives=$workdir/archives"
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root
  )
  apt-get "${PRIVATE_APT[@]}" -qq update
}

# private_apt_unpack WORKDIR PREFIX PACKAGE...: downloads the packages and unpacks them into PREFIX.
private_apt_unpack() {
  local workdir="$1" prefix="$2" deb
  shift 2
  (cd "$workdir/debs" && apt-get "${PRIVATE_APT[@]}" -qq download "$@")
  mkdir -p "$prefix"
  for deb in "$workdir/debs"/*.deb; do dpkg -x "$deb" "$prefix"; done
}
