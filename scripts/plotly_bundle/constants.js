// Copied by build_plotly_bundle.sh to tasks/util/constants.js in the plotly.js package:
// esbuild-config.js requires it (for its devtools configs only), the npm tarball lacks it,
// and this is the one value it uses.
'use strict';
var path = require('path');
module.exports = { pathToRoot: path.join(__dirname, '..', '..') };
