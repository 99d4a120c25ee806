# Sets up a TornadoVM SDK for tgpt. Usage:  source tornado-env.sh [SDK_DIR]
# SDK_DIR defaults to $TORNADOVM_HOME. The SDK is one you installed with TornadoVM's own tools (see README).
# It checks the SDK (it exists, its version, which backends are built, that the JDK matches), then exports
#   TORNADOVM_HOME, TORNADOVM_VERSION, JAVA_HOME, PATH (+ the SDK's bin), and TGPT_TORNADO_ARGFILE (the SDK's JVM
#   options with its path filled in),
# installs the SDK's tornado-api and tornado-runtime jars into the local Maven repository under their real coordinates
#   io.github.beehive-lab:tornado-{api,runtime}:$TORNADOVM_VERSION (once), and prints one summary line.
# On any problem it prints one line saying what is wrong, and changes nothing in your shell.

_tgpt_env() {
  local sdk="${1:-${TORNADOVM_HOME:-}}"
  local here; here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -z "$sdk" ]; then
    echo "tornado-env: no SDK given: use 'source tornado-env.sh SDK_DIR' or set TORNADOVM_HOME (README: 'The GPU path')" >&2; return 1
  fi
  if [ ! -d "$sdk" ]; then
    echo "tornado-env: $sdk does not exist (TORNADOVM_HOME or the SDK_DIR argument must name a TornadoVM SDK directory)" >&2; return 1
  fi
  sdk=$(cd "$sdk" && pwd -P)
  if [ ! -f "$sdk/etc/tornado.release" ] || [ ! -f "$sdk/tornado-argfile.template" ]; then
    if [ -d "$sdk/bin/sdk" ]; then
      echo "tornado-env: $sdk is TornadoVM's source tree, not its SDK; use $sdk/bin/sdk" >&2
    else
      echo "tornado-env: $sdk is not a TornadoVM SDK (no etc/tornado.release or tornado-argfile.template)" >&2
    fi
    return 1
  fi
  local version branch commit backends
  version=$(sed -n 's/^version=//p' "$sdk/etc/tornado.release")
  branch=$(sed -n 's/^branch=//p' "$sdk/etc/tornado.release")
  commit=$(sed -n 's/^commit=//p' "$sdk/etc/tornado.release")
  backends=$(sed -n 's/^tornado.backends=//p' "$sdk/etc/tornado.backend" 2>/dev/null | sed 's/-backend//g')
  if [ -z "$version" ]; then
    echo "tornado-env: $sdk/etc/tornado.release names no version" >&2; return 1
  fi
  if [ -z "$backends" ]; then
    echo "tornado-env: the SDK at $sdk has no backend built (etc/tornado.backend); build it with opencl, ptx or spirv" >&2; return 1
  fi
  local api="$sdk/share/java/tornado/tornado-api-$version.jar"
  if [ ! -f "$api" ]; then
    echo "tornado-env: the SDK at $sdk lacks share/java/tornado/tornado-api-$version.jar" >&2; return 1
  fi

  # The JDK: JAVA_HOME, else one found in /usr/lib/jvm; it must be the JDK line the SDK was built for (its JVMCI).
  local jdk="${JAVA_HOME:-}" cand
  if [ -z "$jdk" ] || [ ! -x "$jdk/bin/javap" ]; then
    jdk=""
    for cand in /usr/lib/jvm/*; do
      if [ -x "$cand/bin/javap" ] && grep -q '^JAVA_VERSION="25' "$cand/release" 2>/dev/null; then jdk=$cand; break; fi
    done
  fi
  if [ -z "$jdk" ]; then
    echo "tornado-env: no JDK found: set JAVA_HOME to the JDK the SDK was built for (JDK 25 for TornadoVM's jdk25 line)" >&2; return 1
  fi
  local jdk_major sdk_major jdk_version
  jdk_version=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$jdk/release" 2>/dev/null)
  jdk_major=${jdk_version%%.*}
  sdk_major=$("$jdk/bin/javap" -v -cp "$api" uk.ac.manchester.tornado.api.TaskGraph 2>/dev/null | sed -n 's/^ *major version: //p')
  if [ -z "$sdk_major" ]; then
    echo "tornado-env: JDK ${jdk_version:-?} at $jdk cannot read the SDK's classes: it was built for a newer JDK" >&2; return 1
  fi
  sdk_major=$((sdk_major - 44))
  if [ "${jdk_major:-0}" != "$sdk_major" ]; then
    echo "tornado-env: the SDK was built for JDK $sdk_major but JAVA_HOME is JDK ${jdk_version:-?} ($jdk); point JAVA_HOME at a JDK $sdk_major" >&2; return 1
  fi
  if [ "$sdk_major" -lt 25 ]; then
    echo "tornado-env: tgpt needs TornadoVM's JDK 25 line (jdk25 branch); this SDK is for JDK $sdk_major" >&2; return 1
  fi

  # The SDK's JVM options, with its path filled in. The template's module path starts with ".", which would turn
  # any jar in the working directory into a module; tgpt's jar goes on the class path instead. A whole model's
  # training step is one task graph of hundreds of tasks: TornadoVM's 4 KiB default for a graph's bytecode is too small.
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/tgpt"
  mkdir -p "$cache" || { echo "tornado-env: cannot create $cache" >&2; return 1; }
  # one per SDK: two SDKs of one version (an opencl build and a GPU build) must not overwrite each other's
  local argfile="$cache/tornado-argfile-$version-$(printf %s "$sdk" | sha256sum | cut -c1-12)"
  { sed -e "s|\${TORNADOVM_HOME}|$sdk|g" -e 's|^--module-path \.:|--module-path |' "$sdk/tornado-argfile.template" \
      && echo "-Dtornado.tvm.maxbytecodesize=4194304"; } >"$argfile.tmp" \
    && mv "$argfile.tmp" "$argfile" || { echo "tornado-env: cannot write $argfile" >&2; return 1; }

  # tornado-api and tornado-runtime (the library-task SPI: tgpt's NCCL provider) under their real coordinates, as
  # Maven Central serves them, so the sdk profile compiles against them.
  local repo="${TGPT_MAVEN_REPO:-$HOME/.m2/repository}" artifact
  for artifact in tornado-api tornado-runtime; do
    if [ ! -f "$repo/io/github/beehive-lab/$artifact/$version/$artifact-$version.jar" ]; then
      if ! JAVA_HOME="$jdk" "$here/mvnw" -q -B install:install-file -Dfile="$sdk/share/java/tornado/$artifact-$version.jar" \
          -DgroupId=io.github.beehive-lab -DartifactId=$artifact -Dversion="$version" -Dpackaging=jar -DgeneratePom=true \
          >"$cache/install.log" 2>&1; then
        echo "tornado-env: could not install $artifact into the local Maven repository (log: $cache/install.log)" >&2; return 1
      fi
    fi
  done

  export TORNADOVM_HOME="$sdk" TORNADOVM_VERSION="$version" JAVA_HOME="$jdk" TGPT_TORNADO_ARGFILE="$argfile"
  case ":$PATH:" in *":$sdk/bin:"*) ;; *) export PATH="$sdk/bin:$PATH" ;; esac
  echo "tornado-env: TornadoVM $version (${branch:-?} ${commit:-?}) at $sdk; backends: $backends; JDK $jdk_version; ./tgpt now runs in SDK mode"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "tornado-env: source this file (source tornado-env.sh [SDK_DIR]); running it changes nothing in your shell" >&2
  exit 2
fi
_tgpt_env "$@"
eval "unset -f _tgpt_env; return $?"
