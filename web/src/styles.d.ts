/** Stylesheets a page chunk imports for their side effect (Vite bundles them with the chunk). */
declare module '*.css';
