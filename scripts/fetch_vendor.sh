#!/usr/bin/env bash
# Fetch the browser libraries the pages load into static/vendor/, pinned, with their licences.
# Nothing is loaded from a CDN at run time, so a classroom without internet still works.
# Idempotent: a library whose folder is already complete is left alone; run it again after
# changing a version below, and the old folder of that library is replaced.
set -euo pipefail

DAGRE_PACKAGE="@dagrejs/dagre"
DAGRE_VERSION="1.1.8"
KATEX_PACKAGE="katex"
KATEX_VERSION="0.16.47"
SWAGGER_PACKAGE="swagger-ui-dist"
SWAGGER_VERSION="5.35.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm pack checks the tarball against the registry's integrity hash before writing it.
unpack() {
    local package="$1" version="$2" into="$3"
    mkdir -p "$into"
    (cd "$work" && npm pack --silent "$package@$version" >"$into.name")
    tar -xzf "$work/$(cat "$into.name")" -C "$into" --strip-components=1
}

# Build the folder beside its final place, then swap it in, so a failed run leaves no half copy.
install_folder() {
    local stem="$1" version="$2" staged="$3"
    local target="$vendor/$stem-$version"
    find "$vendor" -maxdepth 1 -type d -name "$stem-*" ! -name "$stem-$version" \
        -exec rm -rf {} +
    rm -rf "$target"
    mv "$staged" "$target"
    echo "vendored $stem $version -> ${target#"$root"/}"
}

fetch_dagre() {
    local target="$vendor/dagre-$DAGRE_VERSION"
    if [[ -f "$target/dagre.min.js" && -f "$target/LICENSE" ]]; then
        echo "dagre $DAGRE_VERSION already present"
        return
    fi
    unpack "$DAGRE_PACKAGE" "$DAGRE_VERSION" "$work/dagre"

    local staged="$work/dagre-out"
    mkdir -p "$staged"
    # dist/dagre.min.js is a UMD bundle with graphlib inside; it defines window.dagre.
    cp "$work/dagre/dist/dagre.min.js" "$work/dagre/LICENSE" "$staged/"
    install_folder dagre "$DAGRE_VERSION" "$staged"
}

fetch_katex() {
    local target="$vendor/katex-$KATEX_VERSION"
    if [[ -f "$target/katex.min.js" && -f "$target/katex.min.css" && -f "$target/LICENSE" ]]
    then
        echo "katex $KATEX_VERSION already present"
        return
    fi
    unpack "$KATEX_PACKAGE" "$KATEX_VERSION" "$work/katex"

    local staged="$work/katex-out"
    mkdir -p "$staged/fonts"
    cp "$work/katex/dist/katex.min.js" "$work/katex/LICENSE" "$staged/"
    cp "$work/katex/dist/fonts/"*.woff2 "$staged/fonts/"

    # Every browser we support reads woff2; dropping the woff/ttf fallbacks keeps the tree
    # small, and the stylesheet must then name only the files we keep.
    sed -E 's/,url\(fonts\/[A-Za-z0-9_-]+\.woff\) format\("woff"\)//g;
            s/,url\(fonts\/[A-Za-z0-9_-]+\.ttf\) format\("truetype"\)//g' \
        "$work/katex/dist/katex.min.css" >"$staged/katex.min.css"
    if grep -Eq '\.(woff|ttf)\)' "$staged/katex.min.css"; then
        echo "katex.min.css still names woff/ttf fonts; update the rewrite" >&2
        exit 1
    fi
    install_folder katex "$KATEX_VERSION" "$staged"
}

fetch_swagger() {
    local target="$vendor/swagger-ui-$SWAGGER_VERSION"
    if [[ -f "$target/swagger-ui-bundle.js" && -f "$target/swagger-ui.css" && -f "$target/LICENSE" ]]
    then
        echo "swagger-ui $SWAGGER_VERSION already present"
        return
    fi
    unpack "$SWAGGER_PACKAGE" "$SWAGGER_VERSION" "$work/swagger"

    local staged="$work/swagger-out"
    mkdir -p "$staged"
    # The API reference at /docs; only the bundle and its stylesheet are needed.
    cp "$work/swagger/swagger-ui-bundle.js" "$work/swagger/swagger-ui.css" \
        "$work/swagger/LICENSE" "$staged/"
    install_folder swagger-ui "$SWAGGER_VERSION" "$staged"
}

mkdir -p "$vendor"
fetch_dagre
fetch_katex
fetch_swagger
