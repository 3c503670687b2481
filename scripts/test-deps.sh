#!/usr/bin/env bash
# Installs what the tests (and the lint of the test build) need when it is missing, from Debian.
# Each check looks for the file the build or a test actually uses, not only for a command: a
# package installed with --no-install-recommends can leave out what a sibling package provides
# (protobuf-compiler without libprotobuf-dev has protoc but not google/protobuf/*.proto).
#   prometheus        promtool checks /metrics
#   chromium          the browser tests
#   redis-server      the cluster tests
#   protobuf-compiler protoc: the agones crate compiles the Agones SDK's protos
#   libprotobuf-dev   the well-known types those protos import (google/protobuf/descriptor.proto)
set -euo pipefail

missing=()
need_command() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_file() { [ -e "$1" ] || missing+=("$2"); }

need_command promtool prometheus
need_command chromium chromium
need_command redis-server redis-server
need_command protoc protobuf-compiler
need_file /usr/include/google/protobuf/descriptor.proto libprotobuf-dev

if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
