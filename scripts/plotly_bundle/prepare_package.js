// Run by build_plotly_bundle.sh in the unpacked plotly.js package: keep only its runtime
// dependencies (drop devDependencies, scripts and overrides), then add the build-only tools
// given as arguments (name@version).
'use strict';
const fs = require('fs');
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
delete pkg.devDependencies;
delete pkg.scripts;
delete pkg.overrides;
for (const spec of process.argv.slice(2)) {
    const at = spec.lastIndexOf('@');
    pkg.dependencies[spec.slice(0, at)] = spec.slice(at + 1);
}
fs.writeFileSync('package.json', JSON.stringify(pkg, null, 2));
