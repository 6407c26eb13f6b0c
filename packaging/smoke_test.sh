#!/usr/bin/env bash
# Install the .deb with apt, check the installed app as a user would meet it, then remove it.
#   sudo bash packaging/smoke_test.sh [dist/chatlio-segment-setup_<version>_<arch>.deb] [out-dir]
# 1. apt-get install ./the.deb (its dependencies come from the system's repositories);
# 2. the files are where they belong: /opt, the command on the PATH, menu entry, icons, metainfo;
# 3. `chatlio-segment-setup --self-test` in a clean environment with a private Secret Service;
# 4. the installed GUI starts under Xvfb (xcb platform) and paints its window: screenshot saved;
# 5. apt-get remove --purge, and nothing of the package is left.
# Exits non-zero at the first failure. Needs root, apt, xvfb-run (xvfb, xauth), dbus,
# gnome-keyring, and a Python with PySide6 for the screenshot (SMOKE_PYTHON, default the build's
# virtual environment build/venv-pack).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
package=chatlio-segment-setup
app_id=io.github.chatlio_segment_setup.ChatlioSegmentSetup
deb=${1:-$(ls -t "$root"/dist/${package}_*.deb 2>/dev/null | head -n1)}
out=${2:-$root/build/smoke}
python=${SMOKE_PYTHON:-$root/build/venv-pack/bin/python}

fail() { echo "smoke test FAILED: $*" >&2; exit 1; }
step() { echo; echo "==> $*"; }

[ -n "$deb" ] && [ -f "$deb" ] || fail "no .deb given or found in dist/ (run python packaging/build.py)"
[ "$(id -u)" -eq 0 ] || fail "run as root: installing a .deb needs it"
command -v xvfb-run >/dev/null || fail "xvfb-run not found (apt-get install xvfb xauth)"
"$python" -c "import PySide6.QtGui" 2>/dev/null || fail "$python has no PySide6 (set SMOKE_PYTHON)"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
mkdir -p "$out"

if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
  fail "$package is already installed: remove it first, this test must start from nothing"
fi

step "Installing $(basename "$deb") with apt"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "$deb" >"$out/apt-install.log" 2>&1; then
  # The dependencies may be missing from a stale package list.
  apt-get update -q >>"$out/apt-install.log" 2>&1
  apt-get install -y -q --no-install-recommends "$deb" >>"$out/apt-install.log" 2>&1 \
    || { tail -n 30 "$out/apt-install.log" >&2; fail "apt-get install"; }
fi
cleanup_on_failure() {
  status=$?
  if [ "$status" -ne 0 ] && dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q installed; then
    echo "Removing $package after the failure" >&2
    apt-get remove --purge -y -q "$package" >/dev/null 2>&1 || true
  fi
}
trap cleanup_on_failure EXIT

step "Checking the installed files"
for path in \
  /opt/$package/$package \
  /usr/share/applications/$app_id.desktop \
  /usr/share/metainfo/$app_id.metainfo.xml \
  /usr/share/icons/hicolor/scalable/apps/$app_id.svg \
  /usr/share/icons/hicolor/48x48/apps/$app_id.png \
  /usr/share/icons/hicolor/256x256/apps/$app_id.png; do
  [ -e "$path" ] || fail "$path is missing"
done
[ -x /opt/$package/$package ] || fail "/opt/$package/$package is not executable"
[ "$(command -v $package)" = /usr/bin/$package ] || fail "$package is not on the PATH as /usr/bin/$package"
[ "$(readlink -f /usr/bin/$package)" = /opt/$package/$package ] || fail "/usr/bin/$package does not lead to /opt"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/$app_id.desktop || fail "the installed .desktop file is invalid"
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net /usr/share/metainfo/$app_id.metainfo.xml >"$out/appstream.log" 2>&1 \
    || { cat "$out/appstream.log" >&2; fail "the installed metainfo is invalid"; }
fi
echo "ok: /opt/$package, /usr/bin/$package, menu entry, icons and metainfo"

# The installed app gets no help from the build: a minimal environment, another directory.
clean_env=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}")

step "$package --self-test (in a private D-Bus session with GNOME Keyring)"
cd /
"${clean_env[@]}" bash "$here/with_keyring.sh" $package --self-test | tee "$out/self-test.txt" \
  || fail "the installed app's self-test (see above)"
grep -q "^Self-test passed" "$out/self-test.txt" || fail "the self-test did not report success"

step "Starting the installed GUI under Xvfb and taking a screenshot"
cat >"$out/gui.sh" <<EOF
set -u
QT_QPA_PLATFORM=xcb $package >"$out/gui.log" 2>&1 &
app=\$!
"$python" "$here/screenshot.py" --out "$out/installed-gui.png" --pid \$app --timeout 30
shot=\$?
if kill -0 \$app 2>/dev/null; then kill \$app; wait \$app 2>/dev/null; else echo "the app exited early" >&2; shot=1; fi
exit \$shot
EOF
"${clean_env[@]}" bash "$here/with_keyring.sh" \
  xvfb-run -a -s "-screen 0 1024x768x24" bash "$out/gui.sh" \
  || { cat "$out/gui.log" >&2; fail "the installed GUI did not paint a window"; }
if grep -qiE "could not (load|find) the qt platform plugin|cannot open display" "$out/gui.log"; then
  cat "$out/gui.log" >&2
  fail "Qt reported a platform problem"
fi
echo "ok: screenshot in $out/installed-gui.png"

step "Removing $package with apt-get remove --purge"
apt-get remove --purge -y -q $package >"$out/apt-remove.log" 2>&1 || { cat "$out/apt-remove.log" >&2; fail "apt-get remove"; }
for path in /opt/$package /usr/bin/$package /usr/share/applications/$app_id.desktop \
  /usr/share/metainfo/$app_id.metainfo.xml /usr/share/icons/hicolor/scalable/apps/$app_id.svg \
  /usr/share/icons/hicolor/48x48/apps/$app_id.png /usr/share/doc/$package; do
  [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is still there after purging the package"
done
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "installed"; then
  fail "dpkg still lists $package"
fi
echo "ok: nothing left behind"

echo
echo "Smoke test passed: $(basename "$deb") installed, self-tested, started and removed."
