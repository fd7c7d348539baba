#!/usr/bin/env bash
# Fetch a release of GOV.UK Frontend from npm and rebuild the files Trustledger serves at /assets.
#
#   api/static/update-govuk-frontend.sh 5.14.0
#
# Needs node and npm; works in a temporary directory and touches nothing but
# api/static/govuk-frontend/. Read api/static/README.md for why the stylesheet is rebuilt from
# the package's Sass rather than copied.
set -euo pipefail

version="${1:?give the govuk-frontend version, e.g. 5.14.0}"
sass_version="${SASS_VERSION:-1.108.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="$here/govuk-frontend"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
# --ignore-scripts: nothing from the registry runs on this machine; sass is pure JavaScript.
npm install --no-audit --no-fund --ignore-scripts --save-exact \
    "govuk-frontend@$version" "sass@$sass_version" >/dev/null
dist="node_modules/govuk-frontend/dist/govuk"

# Trustledger is not a service on GOV.UK: its pages use Arial, not the GDS Transport typeface
# that is licensed to GOV.UK alone, so the stylesheet is compiled without the typeface's
# @font-face rules and the font files are not shipped.
cat > trustledger.scss <<'SCSS'
$govuk-font-family: arial, sans-serif;
$govuk-include-default-font-face: false;
@import "govuk-frontend/dist/govuk/index";
SCSS
node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map \
    --quiet-deps --silence-deprecation=import trustledger.scss govuk-frontend.min.css

rm -rf "$target"
mkdir -p "$target"
cp govuk-frontend.min.css "$target/"
cp "$dist/govuk-frontend.min.js" "$target/"
printf '%s\n' "$version" > "$target/VERSION"
echo "GOV.UK Frontend $version is in $target"
