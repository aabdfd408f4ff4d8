#!/usr/bin/env bash
# Packs qsocket the way it would be published and uses the tarball from a
# fresh project, as a user would:
#   1. `npm pack` (prepack: prebuildify through scripts/cmake-gyp.js, then
#      dist/), and checks the tarball holds the prebuilt addon, the CommonJS and
#      ES-module entries and their types;
#   2. `npm install --ignore-scripts <tarball>` into a new project (so nothing
#      is compiled there: node-gyp-build must find the prebuild), checks no
#      build/ folder came along;
#   3. a CommonJS script (require) and an ES-module script (import) each echo
#      through a node:net server on 127.0.0.1 with a QTcpSocket, and check from
#      /proc/self/maps that the addon loaded is the packaged prebuild;
#   4. tsc (nodenext, strict) type-checks a CommonJS .ts and an ES-module .mts
#      file importing 'qsocket', and checks each used the right .d.ts.
# Usage: bash scripts/pack-test.sh   (from anywhere; exit 0 = all passed)
# Leaves the repo as it was, except build/ (rebuilt by prebuildify).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d)
HAD_PREBUILDS=0
[ -e "$ROOT/prebuilds" ] && HAD_PREBUILDS=1
cleanup() {
  rm -rf "$T"
  if [ "$HAD_PREBUILDS" = 0 ]; then rm -rf "$ROOT/prebuilds"; fi
}
trap cleanup EXIT

fail() {
  echo "pack-test: FAILED: $*" >&2
  exit 1
}
step() { echo "pack-test: $*"; }
# run_logged LOG CMD...: runs CMD with its output in LOG; on failure prints the log's tail.
run_logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "----- last 60 lines of: $* -----" >&2
    tail -n 60 "$log" >&2
    echo "-----" >&2
    return 1
  fi
}

# Nothing from the caller's environment may pick the addon for us.
unset QSOCKET_ADDON LD_PRELOAD ASAN_OPTIONS

TSC="$ROOT/node_modules/.bin/tsc"
[ -x "$TSC" ] || fail "$TSC is missing: run npm ci (or npm install) in $ROOT first"
[ -x "$ROOT/scripts/cmake-gyp.js" ] ||
  fail "scripts/cmake-gyp.js is not executable, so prebuildify cannot run it (git update-index --chmod=+x scripts/cmake-gyp.js)"

# ---- 1. pack ----------------------------------------------------------------
step "npm pack (prebuildify + dist/) ..."
mkdir "$T/pack"
(cd "$ROOT" && run_logged "$T/pack.log" npm pack --pack-destination "$T/pack") || fail "npm pack failed"
shopt -s nullglob
tarballs=("$T"/pack/*.tgz)
shopt -u nullglob
[ "${#tarballs[@]}" = 1 ] || fail "expected one tarball from npm pack, found ${#tarballs[@]}"
TGZ=${tarballs[0]}
step "packed $(basename "$TGZ") ($(du -k "$TGZ" | cut -f1) KiB)"

tar -tzf "$TGZ" | sed 's|^package/||' | sort >"$T/contents"
missing=()
for f in dist/index.js dist/index.mjs dist/index.d.ts dist/index.d.mts binding.d.ts package.json; do
  grep -qxF "$f" "$T/contents" || missing+=("$f")
done
grep -qE '^prebuilds/linux-x64/[^/]+\.node$' "$T/contents" || missing+=("prebuilds/linux-x64/*.node")
[ "${#missing[@]}" = 0 ] || fail "the tarball lacks: ${missing[*]}"
if grep -qE '^(build|build-asan|node_modules)/' "$T/contents"; then
  fail "the tarball holds build output or node_modules: $(grep -E '^(build|build-asan|node_modules)/' "$T/contents" | head -3 | tr '\n' ' ')"
fi
step "tarball holds $(grep -E '^prebuilds/' "$T/contents" | tr '\n' ' ')and dist/index.{js,mjs,d.ts,d.mts}, binding.d.ts"

# ---- 2. install into a fresh project ------------------------------------------
APP="$T/app"
mkdir "$APP"
cd "$APP"
run_logged "$T/init.log" npm init -y || fail "npm init -y failed"
step "npm install --ignore-scripts <tarball> ..."
run_logged "$T/install.log" npm install --ignore-scripts --no-audit --no-fund "$TGZ" ||
  fail "npm install of the tarball failed"
PKG="$APP/node_modules/qsocket"
[ -d "$PKG" ] || fail "node_modules/qsocket is missing after the install"
[ ! -e "$PKG/build" ] || fail "the installed package has a build/ folder, so the prebuild would not be what loads"
shopt -s nullglob
prebuilt=("$PKG"/prebuilds/linux-x64/*.node)
shopt -u nullglob
[ "${#prebuilt[@]}" -ge 1 ] || fail "no prebuilds/linux-x64/*.node in the installed package"
EXPECT_ADDON=$(realpath "${prebuilt[0]}")
export EXPECT_ADDON

# ---- 3. CommonJS and ES-module use ---------------------------------------------
# The same echo check, once with require and once with import. It also reads
# /proc/self/maps: the only qsocket addon mapped must be the packaged prebuild.
echo_check_body='
const expectAddon = process.env.EXPECT_ADDON;
const guard = setTimeout(() => { console.error("timed out"); process.exit(3); }, 15000);
// /proc/self/maps: address perms offset dev inode path; every Node addon mapped.
const mapped = [...new Set(fs.readFileSync("/proc/self/maps", "utf8").split("\n")
  .map((l) => l.split(/\s+/).slice(5).join(" ")).filter((p) => p.endsWith(".node")))];
if (mapped.length !== 1 || mapped[0] !== expectAddon) {
  throw new Error(`loaded addon(s) ${JSON.stringify(mapped)}, expected the prebuild ${expectAddon}`);
}
const server = net.createServer((c) => c.pipe(c));
server.listen(0, "127.0.0.1", async () => {
  try {
    const s = new QTcpSocket();
    s.connectToHost(new QHostAddress("127.0.0.1"), server.address().port);
    await s.connected.wait(5000);
    if (s.state() !== SocketState.ConnectedState) throw new Error(`state ${s.state()} after connected`);
    const msg = `hello from ${STYLE}`;
    if (s.write(msg) !== msg.length) throw new Error("short write");
    while (s.bytesAvailable() < msg.length) await s.readyRead.wait(5000);
    const got = s.readAll().toString();
    if (got !== msg) throw new Error(`echo was ${JSON.stringify(got)}, expected ${JSON.stringify(msg)}`);
    s.close();
    server.close();
    clearTimeout(guard);
    console.log(`${STYLE}: echoed ${JSON.stringify(got)} through ${s.constructor.name}, addon ${mapped[0]}`);
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
});
'
cat >"$APP/check.cjs" <<EOF
'use strict';
const fs = require('fs');
const net = require('net');
const { QTcpSocket, SocketState, QHostAddress } = require('qsocket');
const STYLE = 'CommonJS require';
$echo_check_body
EOF
cat >"$APP/check.mjs" <<EOF
import fs from 'node:fs';
import net from 'node:net';
import { QTcpSocket, SocketState, QHostAddress } from 'qsocket';
import qsocketDefault from 'qsocket';
const STYLE = 'ES module import';
if (qsocketDefault.QTcpSocket !== QTcpSocket) throw new Error('the default export and the named exports differ');
$echo_check_body
EOF
for f in check.cjs check.mjs; do
  step "node $f ..."
  timeout 60 node "$APP/$f" || fail "$f (exit $?): the packaged module did not work, see above"
done

# ---- 4. types, for both import styles --------------------------------------------
cat >"$APP/types-cjs.ts" <<'EOF'
// A CommonJS TypeScript module (package.json has no "type": "module").
import qs = require('qsocket');
import { QTcpSocket, SocketState, QHostAddress } from 'qsocket';
const s: QTcpSocket = new qs.QTcpSocket();
const st: SocketState = s.state();
const a: QHostAddress = new QHostAddress('127.0.0.1');
s.connectToHost(a, 7);
export const ok: boolean = st === SocketState.UnconnectedState && s.peerPort() === 0;
// @ts-expect-error state() is a SocketState, not a string: fails if the types were `any`
export const wrong: string = s.state();
EOF
cat >"$APP/types-esm.mts" <<'EOF'
// An ES-module TypeScript file.
import { QTcpSocket, SocketState, QHostAddress } from 'qsocket';
import qsocket from 'qsocket';
const s: QTcpSocket = new QTcpSocket();
const st: SocketState = s.state();
const a: QHostAddress = new qsocket.QHostAddress('::1');
s.connectToHost(a, 7);
export const ok: boolean = st === SocketState.UnconnectedState && a.toString() === '::1';
// @ts-expect-error state() is a SocketState, not a string: fails if the types were `any`
export const wrong: string = s.state();
EOF
step "tsc --module nodenext --moduleResolution nodenext --strict (types-cjs.ts, types-esm.mts) ..."
run_logged "$T/tsc.log" "$TSC" --module nodenext --moduleResolution nodenext --noEmit --strict \
  --typeRoots "$ROOT/node_modules/@types" --types node --traceResolution \
  types-cjs.ts types-esm.mts || fail "the type check failed"
# Which declaration file 'qsocket' resolved to, for each importing file.
awk '/^======== Resolving module .qsocket. from /{ from = $6 }
     /^======== Module name .qsocket. was successfully resolved to /{ print from, $9 }' "$T/tsc.log" |
  sed -E "s/'//g; s/\. / /" | sort -u >"$T/resolved"
grep -qxF "$APP/types-cjs.ts $PKG/dist/index.d.ts" "$T/resolved" ||
  fail "require-style 'qsocket' in types-cjs.ts did not resolve to dist/index.d.ts: $(tr '\n' ';' <"$T/resolved")"
grep -qxF "$APP/types-esm.mts $PKG/dist/index.d.mts" "$T/resolved" ||
  fail "import of 'qsocket' in types-esm.mts did not resolve to dist/index.d.mts: $(tr '\n' ';' <"$T/resolved")"
step "types resolve: types-cjs.ts -> dist/index.d.ts, types-esm.mts -> dist/index.d.mts"

cd /
step "PASSED"
