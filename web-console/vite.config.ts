// Vite builds the console into dist/ (served by the control plane at `/`).
// JSX is compiled by esbuild for Preact: no Babel plugin needed.
import { defineConfig } from "vite";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2022",
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev`: proxy API calls to a local control plane.
    proxy: {
      "/console/api": "http://127.0.0.1:8080",
      "/restapis": "http://127.0.0.1:8080",
      "/account": "http://127.0.0.1:8080",
      "/apikeys": "http://127.0.0.1:8080",
      "/usageplans": "http://127.0.0.1:8080",
    },
  },
});
