// Copied by build_plotly_bundle.sh into the plotly.js package (as build-latentdash.js, so that
// require() finds the package's esbuild and config) and run there:
//   node build-latentdash.js <index.js> <outfile> <licence header>
'use strict';
const fs = require('fs');
const path = require('path');
const { build } = require('esbuild');
const { esbuildConfig } = require('./esbuild-config.js');

const [index, outfile, header] = process.argv.slice(2);

// plotly.js tasks/compress_attributes.js: strip meta attributes
// (description, requiredOpts, otherOpts, role, hrName) used only by the plot
// schema / docs. Restricted to plotly's own src/ (where they live).
const WS = '\\s*', COMMA = ',?';
const re = (s) => new RegExp(WS + s + COMMA, 'g');
const regexes = [
    re("description: '.*'"),
    re('description: \\[[\\s\\S]*?\\]\\.join\\([\\s\\S]*?\\)'),
    re('requiredOpts: \\[[\\s\\S]*?\\]'),
    re('otherOpts: \\[[\\s\\S]*?\\]'),
    re("role: '.*'"),
    re("hrName: '.*'"),
];
const srcDir = path.join(__dirname, 'src') + path.sep;
const stripMeta = {
    name: 'strip-meta-attributes',
    setup(b) {
        b.onLoad({ filter: /\.js$/ }, async (args) => {
            if (!args.path.startsWith(srcDir)) return undefined;
            let c = await fs.promises.readFile(args.path, 'utf8');
            for (const r of regexes) c = c.replace(r, '');
            return { contents: c, loader: 'js' };
        });
    },
};

// src/registry.js require()s maplibre-gl's CSS (~83 kB) but only runs that
// require when a trace with the 'map' base plot (scattermap, ...) is
// registered; none is in this bundle, so bundle an empty module instead.
const dropMaplibreCss = {
    name: 'drop-maplibre-css',
    setup(b) {
        b.onResolve({ filter: /^maplibre-gl\/dist\/maplibre-gl\.css$/ },
            () => ({ path: 'maplibre-gl.css', namespace: 'latentdash-empty' }));
        b.onLoad({ filter: /.*/, namespace: 'latentdash-empty' },
            () => ({ contents: '', loader: 'js' }));
    },
};

// Same as esbuild-plugin-inline-css (which plotly's config uses), except that
// the <style> id hashes the path relative to the package root, not the
// absolute (random temp dir) path, so that rebuilds are byte-identical.
const crypto = require('crypto');
const inlineCss = {
    name: 'esbuild-plugin-inline-css',
    setup(b) {
        b.onLoad({ filter: /\.(css)$/ }, async (args) => {
            const rel = path.relative(__dirname, path.resolve(args.resolveDir || '', args.path));
            const id = crypto.createHash('sha256').update(rel).digest('hex');
            const css = await fs.promises.readFile(args.path, 'utf8');
            return {
                loader: 'js',
                contents: `(function(){
        if (!document.getElementById('${id}')) {
            var e = document.createElement('style');
            e.id = '${id}';
            e.textContent = \`${css}\`;
            document.head.appendChild(e);
        }
    })();`,
            };
        });
    },
};

(async () => {
    const plugins = esbuildConfig.plugins.map((pl) => (pl.name === 'esbuild-plugin-inline-css' ? inlineCss : pl));
    if (!plugins.includes(inlineCss)) throw new Error('esbuild-config.js no longer uses esbuild-plugin-inline-css; update build script');
    const config = {
        ...esbuildConfig,
        entryPoints: [index],
        outfile,
        minify: true,
        sourcemap: false,
        logLevel: 'warning',
        plugins: [dropMaplibreCss].concat(plugins, [stripMeta]),
    };
    await build(config);
    // esbuild may emit a sibling .css for the inline-css plugin; plotly drops it
    const css = outfile.replace(/\.js$/, '.css');
    if (fs.existsSync(css)) fs.unlinkSync(css);

    // plotly.js tasks/util/bundle_wrapper.mjs addWrapper(): UMD-ish wrapper
    // that also sets window.Plotly; plus the dist licence header.
    const body = fs.readFileSync(outfile, 'utf8');
    const out = [
        header,
        '(',
        ' function(root, factory) {',
        '  if (typeof module === "object" && module.exports) {',
        '   module.exports = factory();',
        '  } else {',
        '   root.moduleName = factory();',
        '  }',
        '} (typeof self !== "undefined" ? self : this, () => {',
        body,
        'window.Plotly = Plotly;',
        'return Plotly;',
        '}));',
        '',
    ].join('\n');
    fs.writeFileSync(outfile, out);
})().catch((e) => { console.error(e); process.exit(1); });
