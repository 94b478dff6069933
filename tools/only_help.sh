# only_help.sh — sourced by the scripts that take no arguments but --help (demo.sh, setup.sh): a stray word (a typo,
# a flag meant for another tool) must not go on to run apt-get, npm and the builds.
# only_help NAME HINT ARGS...: prints the caller's usage() and exits 0 on -h/--help, exits 2 naming any other
# argument (HINT, e.g. " (settings come from the environment)", follows the name of the argument).
only_help() {
  local name=$1 hint=$2 a
  shift 2
  for a in "$@"; do
    case $a in
      -h|--help) usage; exit 0 ;;
      *) echo "$name: unknown argument '$a'$hint" >&2; usage >&2; exit 2 ;;
    esac
  done
}
