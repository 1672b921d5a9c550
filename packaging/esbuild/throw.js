// Stands in for optional native or terminal-only modules (supports-color, bufferutil, utf-8-validate) in the
// bundle. Their users require them inside try/catch and fall back to pure JS when the require throws: so it
// must throw, not export an empty object (ws would then call a missing bufferutil.mask and crash).
throw new Error('not bundled in the tedge single executable');
