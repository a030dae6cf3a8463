#!/usr/bin/env bash
# Dependency weight of each engine alone: a scratch crate per engine with the same dependency
# line as bench/storage/Cargo.toml, then `cargo tree` (normal deps, and normal+build deps).
# With BUILD=1 it also builds each scratch crate in release from clean (own target dir, nice'd)
# and reports wall and CPU time: noisy on a shared 2-core box, indicative only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${SCRATCH:-$here/../target/deps-scratch}"
declare -A spec=(
  [redb]='redb = "4.5"'
  [fjall]='fjall = { version = "3", default-features = false }'
  [rusqlite]='rusqlite = { version = "0.41", default-features = false, features = ["bundled", "cache"] }'
)
echo "| engine | crates (normal) | crates (normal + build) | C compiled | release build from clean |"
echo "|---|---:|---:|---|---|"
for engine in redb fjall rusqlite; do
  dir="$scratch/$engine"
  mkdir -p "$dir/src"
  printf '[package]\nname = "scratch-%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[workspace]\n\n[dependencies]\n%s\n' \
    "$engine" "${spec[$engine]}" > "$dir/Cargo.toml"
  echo 'fn main() {}' > "$dir/src/main.rs"
  count() { (cd "$dir" && cargo tree -q -e "$1" --prefix none) | sed 's/ (\*)$//' | grep -v '^scratch-' | sort -u | grep -c . ; }
  normal=$(count normal)
  withbuild=$(count normal,build)
  c=no; (cd "$dir" && cargo tree -q -e normal,build --prefix none) | grep -q '^cc v' && c="yes (cc)"
  build=-
  if [[ "${BUILD:-0}" == 1 ]]; then
    rm -rf "$dir/target"
    /usr/bin/time -o "$dir/time.txt" -f '%e s wall, %U+%S s CPU' \
      nice -n 10 cargo build -q --release --manifest-path "$dir/Cargo.toml" --target-dir "$dir/target" >/dev/null 2>&1
    build="$(cat "$dir/time.txt")"
    rm -rf "$dir/target"
  fi
  echo "| $engine | $normal | $withbuild | $c | $build |"
done
