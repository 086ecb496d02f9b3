# Sourced by bin/* scripts: exports JAVA_HOME pointing at a JDK >= 21 and puts it first on PATH.
# Order: $JAVA_HOME, `java` on PATH, then any JDK under /usr/lib/jvm (newest first).
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1; }

find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for d in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do candidates+=("${d%/}"); done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    local m; m=$(java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then echo "$c"; return 0; fi
  done
  return 1
}

if ! JAVA_HOME=$(find_jdk); then
  echo "switchboard: no JDK >= 21 found (set JAVA_HOME, or install one under /usr/lib/jvm)" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

# Flags every Switchboard JVM starts with; SWITCHBOARD_JAVA_OPTS comes after them, so it can override any. G1
# whatever the core count (the JVM alone picks Serial on one core): of Serial, Parallel, G1 and ZGC it kept the
# fixed-rate fan-out tail and idle memory lowest at ~10 % below Serial's publish throughput (BENCHMARKS.md,
# "Collectors"). The metaspace threshold is above what the server loads (~25 MB), so loading classes at start
# triggers no full GC ("Metadata GC Threshold", 40-60 ms of a fresh server's first seconds).
# The other three give back the heap pages a burst (a connection storm) leaves resident; JDK 25's G1 returns memory
# only at the Remark of a concurrent cycle, never at a young GC (BENCHMARKS.md, "Heap after a connection storm"):
# - MaxNewSize=64m: every eden page a burst's garbage touches stays resident, and G1 sizes eden to ~200 MiB during a
#   storm; capped, a burst touches at most 64 MiB of eden (a young GC every few seconds under publish load).
# - G1PeriodicGCInterval=10000: a server with no GC for 10 s runs a concurrent cycle, whose Remark shrinks the heap
#   (the load average does not suppress it: G1PeriodicGCSystemLoadThreshold stays 0).
# - MaxHeapFreeRatio=60: that Remark shrinks the heap to 2.5x what is live (the default 70 keeps 3.3x, so a heap
#   that never grew past its initial size gives almost nothing back); 2.5x stays above the 45 % marking threshold.
switchboard_jvm_flags=(-XX:+UseG1GC -XX:MetaspaceSize=128m -XX:MaxNewSize=64m -XX:G1PeriodicGCInterval=10000
  -XX:MaxHeapFreeRatio=60)
# From JDK 25 on Netty leaves sun.misc.Unsafe alone unless the JVM allows its memory access (JDK 23+ has the flag):
# without it every HTTP header line and body read went through a java.nio duplicate, up to ~0.33 KB more garbage per
# publish (BENCHMARKS.md, "Publish path: allocation and the compiler").
if [ "$(java_major "$JAVA_HOME")" -ge 23 ]; then
  switchboard_jvm_flags+=(--sun-misc-unsafe-memory-access=allow)
fi
