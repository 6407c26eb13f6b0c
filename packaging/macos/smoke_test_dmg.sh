#!/usr/bin/env bash
# macOS: check the app the way a user gets it. Mounts the DMG read-only, copies the .app out of
# it (as dragging it to Applications does), detaches, then checks the copy: its code signature,
# Gatekeeper's verdict, both architectures in the executable, the declared minimum macOS, and
# `--self-test` (Qt, the Keychain under the hardened runtime, TLS) with its exit status.
#   bash packaging/macos/smoke_test_dmg.sh dist/chatlio-segment-setup-<v>-macos-universal2.dmg [LOG_DIR]
# MACOS_EXPECT_NOTARIZED=1 (the build was signed and notarized): Gatekeeper must accept the app
# as notarized and the ticket must be stapled. Otherwise Gatekeeper's verdict is only reported:
# an unsigned (ad hoc) build is rejected by design.
set -euo pipefail
shopt -s nullglob

dmg=${1:?usage: smoke_test_dmg.sh APP.dmg [LOG_DIR]}
logs=${2:-build/smoke}
executable=chatlio-segment-setup
expect_notarized=${MACOS_EXPECT_NOTARIZED:-}

step() { echo "==> $*"; }
fail() { echo "smoke_test_dmg: $*" >&2; exit 1; }

[ -f "$dmg" ] || fail "no DMG at $dmg"
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smoke-dmg.XXXXXX")
mount="$work/mount"
mkdir "$mount" "$work/copy"
attached=""
cleanup() {
  if [ -n "$attached" ]; then
    hdiutil detach "$mount" -quiet || hdiutil detach "$mount" -force -quiet || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The DMG: read-only, not shown in Finder, and only the copy is used from here on.
step "Mounting $dmg read-only at $mount"
hdiutil attach "$dmg" -readonly -nobrowse -noautoopen -mountpoint "$mount"
attached=yes
apps=("$mount"/*.app)
[ "${#apps[@]}" -eq 1 ] || fail "expected one .app in the DMG, found ${#apps[@]}"
[ -L "$mount/Applications" ] || fail "the DMG has no Applications link to drag the app onto"
app="$work/copy/$(basename "${apps[0]}")"
step "Copying $(basename "$app") out of the DMG"
ditto "${apps[0]}" "$app"
hdiutil detach "$mount"
attached=""

# 2. The signature of every file in it (PyInstaller's ad hoc one, or the Developer ID's).
step "Checking the code signature"
codesign --verify --deep --strict --verbose=2 "$app"

# 3. Gatekeeper, as Finder asks it on the first start.
step "Gatekeeper's assessment"
spctl --status || true  # "assessments enabled" on a Mac as users have it
if verdict=$(spctl --assess --type execute -vv "$app" 2>&1); then accepted=yes; else accepted=""; fi
echo "$verdict"
if [ -n "$expect_notarized" ]; then
  [ -n "$accepted" ] || fail "Gatekeeper rejects the app, but the build was signed and notarized"
  grep -q "Notarized Developer ID" <<<"$verdict" \
    || fail "Gatekeeper accepts the app, but not as notarized: $verdict"
  xcrun stapler validate "$app"
elif [ -n "$accepted" ]; then
  echo "accepted (the build was not expected to be notarized)"
else
  echo "rejected, as expected for an unsigned build: users allow it in System Settings," \
    "Privacy & Security, Open Anyway"
fi

# 4. One app for both kinds of Mac, and the macOS it declares.
main="$app/Contents/MacOS/$executable"
[ -x "$main" ] || fail "no executable at Contents/MacOS/$executable"
archs=$(lipo -archs "$main")
echo "architectures: $archs"
for arch in arm64 x86_64; do
  grep -qw "$arch" <<<"$archs" || fail "the executable lacks $arch (has: $archs)"
done
plist_value() {
  python3 -c 'import plistlib, sys; print(plistlib.load(open(sys.argv[1], "rb")).get(sys.argv[2], ""))' \
    "$app/Contents/Info.plist" "$1"
}
minimum=$(plist_value LSMinimumSystemVersion)
[ -n "$minimum" ] || fail "Info.plist has no LSMinimumSystemVersion"
running=$(sw_vers -productVersion)
echo "bundle $(plist_value CFBundleIdentifier) $(plist_value CFBundleShortVersionString):" \
  "needs macOS $minimum, this runner has $running"
python3 -c '
import sys
def version(text): return tuple(int(part) for part in text.split("."))
sys.exit(0 if version(sys.argv[1]) >= version(sys.argv[2]) else 1)' "$running" "$minimum" \
  || fail "this runner's macOS $running is older than the app's minimum $minimum: Finder would" \
    "refuse to open it, so the self-test would prove nothing; use a runner with macOS $minimum+"

# 5. The copied app's own self-test (the executable prints when started from a terminal).
step "Self-test of the copied app ($(uname -m))"
log="$logs/macos-self-test-$(uname -m).txt"
set +e
"$main" --self-test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || fail "--self-test exited with status $status (log: $log)"
step "The app copied out of $(basename "$dmg") passed"
