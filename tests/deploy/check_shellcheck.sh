#!/usr/bin/env bash
# Every shell script of the repository is clean for shellcheck -S style:
# the tracked *.sh files, entrypoint.sh, and tracked files with a bash or sh
# shebang. check_shellcheck.sh SOURCE_DIR
set -u
cd "$1" || exit 1
command -v shellcheck >/dev/null || { echo "FAIL shellcheck is not installed (scripts/install-deps.sh)"; exit 1; }
if git rev-parse --git-dir >/dev/null 2>&1; then
        mapfile -t files < <(git ls-files)
else
        mapfile -t files < <(find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
scripts=()
for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        case $f in
        *.sh) scripts+=("$f") ;;
        *) head -n 1 "$f" 2>/dev/null | grep -qE '^#!.*[/ ](ba)?sh( |$)' && scripts+=("$f") ;;
        esac
done
[ ${#scripts[@]} -ge 5 ] || { echo "FAIL found only ${#scripts[@]} scripts: ${scripts[*]}"; exit 1; }
printf 'checking %s\n' "${scripts[@]}"
shellcheck -S style -x "${scripts[@]}" && echo "ok   ${#scripts[@]} scripts clean"
