// Run by build_plotly_bundle.sh in the unpacked plotly.js package: applies patches.js, each of
// which must match exactly once; writes nothing if any does not.
'use strict';
const fs = require('fs');
const patches = require('./patches.js');

const files = {};
for (const [file, name, from, to] of patches) {
    const src = files[file] !== undefined ? files[file] : fs.readFileSync(file, 'utf8');
    const n = src.split(from).length - 1;
    if (n !== 1) { console.error(`patch "${name}": expected 1 match in ${file}, found ${n}`); process.exit(1); }
    files[file] = src.replace(from, () => to);
}
for (const [file, src] of Object.entries(files)) fs.writeFileSync(file, src);
