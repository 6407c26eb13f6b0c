#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked GNOME Keyring (Secret Service),
# then stop both daemons by PID and delete their files: nothing is left behind.
#   bash packaging/with_keyring.sh chatlio-segment-setup --self-test
# HOME and the XDG directories point into a temporary directory for the command too, so the
# app starts as on a new account. Needs dbus-daemon and gnome-keyring-daemon (Debian: dbus,
# gnome-keyring). Same recipe as tests/secret_service.py, for use outside pytest.
set -euo pipefail

[ $# -gt 0 ] || { sed -n '2,6p' "$0"; exit 2; }
for tool in dbus-daemon gnome-keyring-daemon dbus-send; do
  command -v "$tool" >/dev/null || { echo "with_keyring: $tool not found (apt-get install dbus gnome-keyring)" >&2; exit 3; }
done

root=$(mktemp -d "${TMPDIR:-/tmp}/chatlio-keyring.XXXXXX")
bus_pid="" keyring_pid=""
cleanup() {
  [ -n "$keyring_pid" ] && kill "$keyring_pid" 2>/dev/null && wait "$keyring_pid" 2>/dev/null
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
  rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOME="$root/home"
export XDG_RUNTIME_DIR="$root/runtime" XDG_CONFIG_HOME="$root/home/.config"
export XDG_DATA_HOME="$root/home/.local/share" XDG_CACHE_HOME="$root/home/.cache"
export XDG_STATE_HOME="$root/home/.local/state"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$root/services"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset PYTHON_KEYRING_BACKEND

# Only an empty service directory: the system's would let the bus start a password prompter
# that waits forever without a desktop.
cat >"$root/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$XDG_RUNTIME_DIR/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$root/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$root/bus.conf" --fork --print-pid=3 --print-address=4 \
  3>"$root/bus.pid" 4>"$root/bus.address" </dev/null
bus_pid=$(head -n1 "$root/bus.pid")
DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$root/bus.address")
export DBUS_SESSION_BUS_ADDRESS

# --unlock reads the new login keyring's password from standard input until end of file.
printf '%s' "chatlio-self-test" | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >/dev/null 2>"$root/keyring.log" &
keyring_pid=$!

serving=""
for _ in $(seq 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
      | grep -q "boolean true"; then
    serving=yes
    break
  fi
  kill -0 "$keyring_pid" 2>/dev/null || { echo "with_keyring: gnome-keyring-daemon exited:" >&2; cat "$root/keyring.log" >&2; exit 3; }
  sleep 0.1
done
[ -n "$serving" ] || { echo "with_keyring: no Secret Service on the bus after 10 s:" >&2; cat "$root/keyring.log" >&2; exit 3; }

status=0
"$@" || status=$?
exit "$status"
