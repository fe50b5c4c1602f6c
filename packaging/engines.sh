#!/usr/bin/env bash
# Optional analysis engines from the system package manager: cppcheck and clang's static analyzer
# (C/C++), ShellCheck (shell). Bastion detects them at run time (`bastion doctor` lists them) and
# skips each missing one with a note; flawfinder comes from PyPI with bastion itself.
bastion_engines() {
  local want=()
  command -v cppcheck >/dev/null 2>&1 || want+=(cppcheck)
  command -v clang >/dev/null 2>&1 || ls /usr/bin/clang-[0-9]* >/dev/null 2>&1 || want+=(clang clang-tools)
  command -v shellcheck >/dev/null 2>&1 || want+=(shellcheck)
  [ "${#want[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq "${want[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
      apt-get install -y -qq "${want[@]}" >/dev/null 2>&1; } ||
      echo "could not install ${want[*]}: those engines will be skipped (their tests skip too)" >&2
  else
    echo "optional engines not installed: ${want[*]} (as root: apt-get install ${want[*]}); Bastion skips them" >&2
  fi
}
