# bash completion for xrdbench: subcommands (one or two words, e.g. "cbf info") and each subcommand's options,
# read from the installed binary's --help texts (so they follow the binary), then file names.
# Installed as <prefix>/share/bash-completion/completions/xrdbench; or: source scripts/completion/xrdbench.bash
_xrdbench() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local exe="${COMP_WORDS[0]}"
  local cmds
  # "  name  summary" lines after "Commands:" in `xrdbench --help`; two-word names keep their space.
  cmds=$("$exe" --help 2>/dev/null | sed -n '/^Commands:/,$p' | sed -n 's/^  \([a-z0-9-]*\( [a-z0-9-]*\)\?\)  .*/\1/p' |
    sed 's/ *$//')
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$(printf '%s\n' "$cmds" | cut -d' ' -f1 | sort -u) --help --version" -- "$cur"))
    return 0
  fi
  local first="${COMP_WORDS[1]}"
  local group
  group=$(printf '%s\n' "$cmds" | awk -v f="$first" '$1 == f && NF == 2 {print $2}')
  if [ -n "$group" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "$group" -- "$cur"))
    return 0
  fi
  local name="$first"
  [ -n "$group" ] && name="$first ${COMP_WORDS[2]}"
  if [[ "$cur" == -* ]]; then
    local opts
    # shellcheck disable=SC2086
    opts=$("$exe" $name --help 2>/dev/null | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return 0
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -o filenames -F _xrdbench xrdbench
