/** Types for the node-forge modules certificate-file.ts imports one by one (the package types only its index). */
declare module 'node-forge/lib/forge.js' {
  import type forge from 'node-forge';

  const base: typeof forge;
  export default base;
}
declare module 'node-forge/lib/md.all.js';
declare module 'node-forge/lib/pkcs12.js';
declare module 'node-forge/lib/pki.js';
