# tests/lib/cli_test_lib.sh: what igvmkit's end-to-end shell tests share (testonly; bash).
#
#   source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"   # sh_test deps: this library
#   need_shared testdata/attest          # the whole test: SKIPPED without $IGVMKIT_SHARED/...
#   expect "status" 0 "$rc"               # counted failures, every case runs
#   expect_exit 1 "tampered" -- "$bin" verify ...   # its output in $tmp/out, $tmp/err
#   contains "$tmp/out" "pass  rtmr.0:" "replay"
#   finish "all verify CLI checks passed" # "N failure(s)" and exit 1, or the message
#
# `tmp` is the scratch directory ($TEST_TMPDIR under Bazel) unless the script set it before.

fails=0
tmp=${tmp:-${TEST_TMPDIR:-$(mktemp -d)}}

# fail MESSAGE...: one counted failure.
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# expect NAME WANT GOT: the two strings are equal.
expect() {
  if [[ "$2" != "$3" ]]; then
    fail "$1: want [$2] got [$3]"
  fi
}

# matches NAME REGEX TEXT: TEXT matches the bash regular expression.
matches() {
  if ! [[ "$3" =~ $2 ]]; then
    fail "$1: [$3] does not match [$2]"
  fi
}

# expect_exit STATUS DESCRIPTION -- COMMAND...: COMMAND exits STATUS (stdout in $tmp/out, stderr in
# $tmp/err); returns non-zero (after printing both) when it does not.
expect_exit() {
  local want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [[ $got -ne $want ]]; then
    fail "$what: exit $got, expected $want"
    cat "$tmp/out" "$tmp/err" | head -40
    return 1
  fi
  return 0
}

# contains FILE TEXT DESCRIPTION: FILE holds TEXT (a fixed string).
contains() {
  if ! grep -qF -- "$2" "$1"; then
    fail "$3: output lacks '$2'"
    head -40 "$1"
  fi
}

# need_shared SUBDIR: the whole test needs $IGVMKIT_SHARED/SUBDIR (../shared, cli-contract.md);
# without it the test prints SKIPPED and passes.
need_shared() {
  if [[ -z "${IGVMKIT_SHARED:-}" || ! -d "$IGVMKIT_SHARED/$1" ]]; then
    echo "SKIPPED: IGVMKIT_SHARED is unset or has no $1"
    exit 0
  fi
}

# have_shared SUBDIR WHAT: true when $IGVMKIT_SHARED/SUBDIR exists; otherwise prints
# "SKIPPED PART: ...: WHAT not checked" and is false.
have_shared() {
  if [[ -z "${IGVMKIT_SHARED:-}" || ! -d "$IGVMKIT_SHARED/$1" ]]; then
    echo "SKIPPED PART: IGVMKIT_SHARED is unset or has no $1: $2 not checked"
    return 1
  fi
}

# finish MESSAGE: exits 1 with the failure count when a check failed, else prints MESSAGE.
finish() {
  if ((fails > 0)); then
    echo "$fails failure(s)"
    exit 1
  fi
  echo "$1"
  exit 0
}
