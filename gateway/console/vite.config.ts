import { defineConfig } from "vite";
import preact from "@preact/preset-vite";
import { devServer } from "./dev/server";

// The gateway serves `dist/` at `/` under a strict CSP (`script-src 'self'`,
// `style-src 'self'`): the built index.html must hold no inline script or style,
// hence no module-preload polyfill (Vite would inline it).
export default defineConfig(({ command }) => ({
  base: "/",
  plugins: [preact(), ...(command === "serve" ? [devServer()] : [])],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    // Chart.js and the pages stay in their own chunks: see README.md.
    chunkSizeWarningLimit: 250,
    reportCompressedSize: true,
  },
}));
