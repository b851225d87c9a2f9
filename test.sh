#!/usr/bin/env bash
# The test command of the README (and of CI, through .ci/run): sets up what the tests need on a
# fresh machine, then runs every test project. Extra arguments go to `dotnet test`
# (for example: ./test.sh --filter "FullyQualifiedName~Templates").
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK (dotnet) is not on PATH: install it from https://dot.net" >&2
  exit 1
fi
if [ ! -d ../shared/fixtures ] && [ -z "${RETORT_FIXTURES:-}" ]; then
  echo "error: test fixtures not found: expected ../shared/fixtures beside the repository, or RETORT_FIXTURES" >&2
  exit 1
fi

# The browser test (tests/Retort.Server.Tests/BrowserTests.cs) drives the chat page in Debian's
# chromium with playwright-core from npm, and a CJK font so the page's Chinese renders; the
# distillation tests run Python with python3. The tests fail, rather than skip, when these are
# missing, so they are installed here when absent.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -d /usr/share/fonts/truetype/wqy ] || missing+=(fonts-wqy-zenhei)
# The Python-function tasks are checked by running the code (Retort.Distillation's PythonTestRunner).
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
    echo "error: the browser test needs ${missing[*]} (apt-get install ${missing[*]}), and this user can neither install them nor sudo" >&2
    exit 1
  fi
  echo "installing ${missing[*]} for the browser test"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

browser=tests/Retort.Server.Tests/Browser
if [ ! -f "$browser/node_modules/.package-lock.json" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
fi

dotnet --version
exec dotnet test Retort.slnx -c Release "$@"
