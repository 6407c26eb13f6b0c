#!/usr/bin/env bash
# macOS: sign, notarize and staple the PyInstaller .app, then put it in a DMG.
#   bash packaging/macos/build_dmg.sh "build/pyinstaller-dist/Chatlio Segment Setup.app" out.dmg 0.1.0
# `python packaging/build.py` runs this on macOS. Each step runs only when configured, and says
# so when it is skipped:
#   MACOS_SIGNING_IDENTITY   "Developer ID Application: Name (TEAMID)" in the keychain: sign the
#                            app (hardened runtime, secure timestamp) and the DMG
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD (an app-specific password): notarize with
#                            notarytool and staple the tickets (needs the signing identity too)
# Unsigned, the DMG still works for testing: PyInstaller has signed the app ad hoc, and
# Gatekeeper asks the user to confirm the first start (right click, Open).
set -euo pipefail

app=${1:?usage: build_dmg.sh APP.app OUT.dmg VERSION}
dmg=${2:?usage: build_dmg.sh APP.app OUT.dmg VERSION}
version=${3:?usage: build_dmg.sh APP.app OUT.dmg VERSION}
here=$(cd "$(dirname "$0")" && pwd)
entitlements="$here/entitlements.plist"
volume="Chatlio Segment Setup"

step() { echo "==> $*"; }
skip() { echo "--> skipped: $*"; }
[ -d "$app" ] || { echo "build_dmg: no app bundle at $app" >&2; exit 1; }
[ "$(uname -s)" = Darwin ] || { echo "build_dmg: needs macOS (codesign, hdiutil)" >&2; exit 1; }

identity=${MACOS_SIGNING_IDENTITY:-}
notarize=""
if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
  notarize=yes
fi

submit() {  # notarize one file and wait for Apple's verdict
  xcrun notarytool submit "$1" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait --timeout 30m
}

# 1. Signing: every Mach-O file inside out (libraries and plugins first, the app last), with
#    the hardened runtime that notarization requires. No --deep: it signs in the wrong order.
if [ -n "$identity" ]; then
  step "Signing $app as $identity"
  while IFS= read -r -d '' file; do
    if file -b "$file" | grep -q "Mach-O"; then
      codesign --force --timestamp --options runtime --entitlements "$entitlements" \
        --sign "$identity" "$file"
    fi
  done < <(find "$app/Contents" -type f \( -name "*.dylib" -o -name "*.so" -o -perm -u+x \) -print0)
  codesign --force --timestamp --options runtime --entitlements "$entitlements" \
    --sign "$identity" "$app"
  codesign --verify --strict --verbose=2 "$app"
else
  skip "signing (set MACOS_SIGNING_IDENTITY to a Developer ID Application identity)"
fi

# 2. Notarizing the app, so that it stays trusted once copied out of the DMG, offline too.
if [ -n "$notarize" ] && [ -n "$identity" ]; then
  step "Notarizing the app"
  zip="$(dirname "$dmg")/notarize-app.zip"
  mkdir -p "$(dirname "$dmg")"
  ditto -c -k --keepParent "$app" "$zip"
  submit "$zip"
  rm -f "$zip"
  xcrun stapler staple "$app"
elif [ -n "$notarize" ]; then
  skip "notarization: Apple only notarizes signed apps (set MACOS_SIGNING_IDENTITY)"
else
  skip "notarization (set APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD)"
fi

# 3. The DMG: the app and a link to /Applications to drag it onto.
step "Creating $dmg"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
ditto "$app" "$staging/$(basename "$app")"
ln -s /Applications "$staging/Applications"
mkdir -p "$(dirname "$dmg")"
rm -f "$dmg"
hdiutil create -volname "$volume $version" -srcfolder "$staging" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 -ov "$dmg"

if [ -n "$identity" ]; then
  step "Signing the DMG"
  codesign --force --timestamp --sign "$identity" "$dmg"
  if [ -n "$notarize" ]; then
    step "Notarizing the DMG"
    submit "$dmg"
    xcrun stapler staple "$dmg"
  fi
fi

step "Done: $dmg ($(du -h "$dmg" | cut -f1))"
